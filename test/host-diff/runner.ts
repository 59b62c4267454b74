// Runs host-CPU differential vectors (tools/oracle) on the core through the harness, in flat 32-bit
// protected mode with paging off, code at CODE_BASE and data at DATA_BASE, the same addresses the oracle used.
import { CpuHarness, GPR_NAMES } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { CODE_BASE, DATA_BASE, DATA_SIZE, GPRS, hexBytes, isException, type Vector } from './vectors';

export const GDT = 0x3000;
export const IDT = 0x1000;
export const TRAPS = 0x2000; // vector v's handler: a HLT at TRAPS + v
const ARITH_DF = 0x0cd5; // CF PF AF ZF SF DF OF

export interface Outcome {
  ok: boolean;
  detail?: string;
}

export class DiffRunner {
  readonly h = new CpuHarness(loadCoreModule(), 4 * 1024 * 1024);
  private readonly zero = new Uint8Array(DATA_SIZE);

  constructor() {
    const gdt = new DataView(new ArrayBuffer(24));
    gdt.setBigUint64(8, 0x00cf9a000000ffffn, true);
    gdt.setBigUint64(16, 0x00cf92000000ffffn, true);
    this.h.writeMem(GDT, new Uint8Array(gdt.buffer));
    const idt = new DataView(new ArrayBuffer(32 * 8));
    for (let v = 0; v < 32; v++) {
      const off = TRAPS + v;
      idt.setUint16(v * 8, off & 0xffff, true);
      idt.setUint16(v * 8 + 2, 0x08, true);
      idt.setUint16(v * 8 + 4, 0x8e00, true);
      idt.setUint16(v * 8 + 6, off >>> 16, true);
    }
    this.h.writeMem(IDT, new Uint8Array(idt.buffer));
    this.h.writeMem(TRAPS, new Uint8Array(32).fill(0xf4));
  }

  /** Run one vector; `prepare` can set more state (the x87 registers) after the common setup. */
  run(v: Vector, prepare?: (h: CpuHarness) => void): Outcome {
    const h = this.h;
    h.setFlat32();
    h.setDescriptorTable('gdtr', GDT, 23);
    h.setDescriptorTable('idtr', IDT, 32 * 8 - 1);
    h.writeMem(DATA_BASE, this.zero);
    for (const [addr, hex] of v.init.mem) h.writeMem(addr, hexBytes(hex));
    const code = hexBytes(v.bytes);
    h.writeMem(CODE_BASE, code);
    for (const r of GPRS) h.setReg(r, v.init[r]);
    h.setReg('eflags', v.init.eflags);
    h.setReg('eip', CODE_BASE);
    prepare?.(h);
    const end = CODE_BASE + code.length;
    for (let i = 0; i < 100_000; i++) {
      h.step(1);
      const eip = h.getReg('eip');
      if (eip === end || h.getState().halted) break;
    }
    const s = h.getState();
    if (s.halted && s.eip > TRAPS && s.eip <= TRAPS + 32) {
      const vec = s.eip - TRAPS - 1;
      if (isException(v.final) && v.final.exception === vec) return { ok: true };
      return { ok: false, detail: `took exception ${vec}` + (isException(v.final) ? `, expected ${v.final.exception}` : ', expected none') };
    }
    if (isException(v.final)) return { ok: false, detail: `no exception, expected ${v.final.exception}` };
    if (s.eip !== end) return { ok: false, detail: `stopped at eip ${s.eip.toString(16)}` };
    const f = v.final;
    const diffs: string[] = [];
    for (const r of GPR_NAMES) {
      const m = ~(v.regsMask?.[r] ?? 0) >>> 0;
      if (((s[r] ^ f[r]) & m) >>> 0) diffs.push(`${r}=${hex(s[r])} expected ${hex(f[r])}`);
    }
    const fm = ARITH_DF & ~v.flagsMask;
    if ((s.eflags ^ f.eflags) & fm) diffs.push(`eflags=${hex(s.eflags & ARITH_DF)} expected ${hex(f.eflags & ARITH_DF)} (mask ${hex(fm)})`);
    const expected = new Map<number, number>();
    for (const [addr, hx] of v.init.mem) hexBytes(hx).forEach((b, i) => expected.set(addr + i, b));
    for (const [addr, hx] of f.mem) hexBytes(hx).forEach((b, i) => expected.set(addr + i, b));
    for (const [addr, b] of expected) {
      const got = h.readMem(addr, 1)[0]!;
      if (got !== b) diffs.push(`mem[${hex(addr)}]=${hex(got)} expected ${hex(b)}`);
    }
    return diffs.length ? { ok: false, detail: diffs.join(', ') } : { ok: true };
  }
}

function hex(n: number): string { return '0x' + (n >>> 0).toString(16); }
