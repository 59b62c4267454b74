// A flat protected-mode machine for MMU tests: GDT with ring-0 and ring-3 segments, a TSS for the ring-3 ->
// ring-0 stack switch, an IDT whose every vector lands on its own HLT, and helpers to build page tables.
import { CpuHarness, ATTR_CODE32, ATTR_DATA32 } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';

const GDT = 0x1000;
const TSS = 0x1800;
const IDT = 0x2000;
const TRAPS = 0x3000;
export const STACK0 = 0x9000;
export const CODE = 0x10000;

export interface Outcome {
  /** The vector taken, or undefined if the code ran to its end. */
  vector?: number;
  error?: number;
  cr2: number;
}

export class MmuFixture {
  readonly h = new CpuHarness(loadCoreModule(), 8 * 1024 * 1024);

  constructor() {
    const gdt = new DataView(new ArrayBuffer(0x30));
    gdt.setBigUint64(0x08, 0x00cf9a000000ffffn, true);
    gdt.setBigUint64(0x10, 0x00cf92000000ffffn, true);
    gdt.setBigUint64(0x18, 0x00cffa000000ffffn, true);
    gdt.setBigUint64(0x20, 0x00cff2000000ffffn, true);
    gdt.setBigUint64(0x28, BigInt(0x0000890000000067 | ((TSS & 0xffff) << 16)), true);
    this.h.writeMem(GDT, new Uint8Array(gdt.buffer));
    const tss = new DataView(new ArrayBuffer(0x68));
    tss.setUint32(4, STACK0, true);
    tss.setUint32(8, 0x10, true);
    this.h.writeMem(TSS, new Uint8Array(tss.buffer));
    const idt = new DataView(new ArrayBuffer(32 * 8));
    for (let v = 0; v < 32; v++) {
      idt.setUint16(v * 8, TRAPS + v, true);
      idt.setUint16(v * 8 + 2, 0x08, true);
      idt.setUint16(v * 8 + 4, 0x8e00, true);
    }
    this.h.writeMem(IDT, new Uint8Array(idt.buffer));
    this.h.writeMem(TRAPS, new Uint8Array(32).fill(0xf4));
  }

  /** Reset to flat ring 0, paging off, with the tables above loaded. */
  reset(): void {
    const h = this.h;
    h.setFlat32();
    h.setDescriptorTable('gdtr', GDT, 0x2f);
    h.setDescriptorTable('idtr', IDT, 32 * 8 - 1);
    h.setSeg('tr', { selector: 0x28, base: TSS, limit: 0x67, attr: 0x8b });
    h.setReg('esp', STACK0);
  }

  /** Drop to ring 3 (flat DPL-3 code and data segments). */
  user(): void {
    const h = this.h;
    h.setSeg('cs', { selector: 0x1b, base: 0, limit: 0xffffffff, attr: ATTR_CODE32 | 0x60 });
    for (const s of ['ds', 'es', 'ss'] as const) h.setSeg(s, { selector: 0x23, base: 0, limit: 0xffffffff, attr: ATTR_DATA32 | 0x60 });
    h.setCpl(3);
    h.setReg('esp', 0x8000);
  }

  enablePaging(cr3: number, cr4 = 0, wp = false): void {
    this.h.setControl('cr4', cr4);
    this.h.setControl('cr3', cr3);
    this.h.setControl('cr0', 0x8000_0011 | (wp ? 0x1_0000 : 0));
  }

  write32(addr: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.h.writeMem(addr, b);
  }
  write64(addr: number, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.h.writeMem(addr, b);
  }
  read32(addr: number): number { return new DataView(this.h.readMem(addr, 4).buffer).getUint32(0, true); }
  read64(addr: number): bigint { return new DataView(this.h.readMem(addr, 8).buffer).getBigUint64(0, true); }

  /** Run `code` placed at `at` (a linear address the caller mapped) until it ends or faults. */
  run(code: number[], at = CODE, physAt = at): Outcome {
    const h = this.h;
    h.writeMem(physAt, code);
    h.setReg('eip', at);
    const end = at + code.length;
    for (let i = 0; i < 1000; i++) {
      h.step(1);
      const s = h.getState();
      if (s.eip === end) return { cr2: s.cr2 };
      if (s.halted && s.eip > TRAPS && s.eip <= TRAPS + 32) {
        const vector = s.eip - TRAPS - 1;
        const hasError = vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
        // The frame is on the ring-0 stack: [esp] is the error code when the vector has one.
        const error = hasError ? this.readLinearStack(s.esp) : undefined;
        return { vector, error, cr2: s.cr2 };
      }
    }
    throw new Error(`code at ${at.toString(16)} did not finish`);
  }

  private readLinearStack(esp: number): number {
    // The ring-0 stack page is identity-mapped in every test.
    return this.read32(esp);
  }
}

// Page-table entry bits (SDM 4.3).
export const P = 1, RW = 2, US = 4, PWT = 8, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
export const XD = 1n << 63n;
