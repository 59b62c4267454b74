// A CPU test harness over the core: set registers, segments, flags and memory; execute one or N
// instructions; read the whole state back. Conformance suites and unit tests drive the core through it.
import * as L from '../layout/memory';
import { Core, Exit, type CoreHost } from './core';
import type { JitOptions } from './jit';

export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export type GprName = (typeof GPR_NAMES)[number];
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;
export type SegName = (typeof SEG_NAMES)[number];

export interface SegState {
  selector: number;
  base: number;
  limit: number;
  /** Descriptor bits 40..55 (type, S, DPL, P, AVL, L, D/B, G) in bits 0..15. */
  attr: number;
}

export interface CpuState {
  eax: number; ecx: number; edx: number; ebx: number; esp: number; ebp: number; esi: number; edi: number;
  eip: number;
  eflags: number;
  cr0: number; cr2: number; cr3: number; cr4: number;
  cpl: number;
  es: SegState; cs: SegState; ss: SegState; ds: SegState; fs: SegState; gs: SegState; ldtr: SegState; tr: SegState;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  halted: boolean;
}

/** Port I/O seen by the harness (tests install handlers). */
export interface HarnessIo {
  read?(port: number, size: number): number;
  write?(port: number, size: number, value: number): void;
}

/** MMIO seen by the harness: every physical page outside RAM is MMIO. */
export interface HarnessMmio {
  read?(addr: number, size: number): number;
  write?(addr: number, size: number, value: number): void;
}

export interface RunResult {
  exit: Exit;
  /** Instructions retired during this call. */
  executed: number;
}

/** Real-mode data segment attributes: present, writable data, accessed. */
export const ATTR_REAL = 0x93;
/** Flat 32-bit code/data attributes (G=1, D=1, present, DPL 0). */
export const ATTR_CODE32 = 0xc09b;
export const ATTR_DATA32 = 0xc093;

export class CpuHarness {
  readonly core: Core;
  io: HarnessIo = {};
  mmio: HarnessMmio = {};
  /** Bytes written to ports by the guest, in order: [port, size, value]. */
  readonly ioLog: Array<[number, number, number]> = [];
  private nowNs = 0;

  /** `jit`: false interprets only; options tune the translator (tests use threshold 1 to translate everything). */
  constructor(module: WebAssembly.Module, ramBytes = 16 * 1024 * 1024, jit: boolean | JitOptions = true) {
    const self = this;
    const host: CoreHost = {
      ioRead(port, size) { return self.io.read ? self.io.read(port, size) : (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff); },
      ioWrite(port, size, value) { self.ioLog.push([port, size, value]); self.io.write?.(port, size, value); },
      mmioRead(addr, size) { return self.mmio.read ? self.mmio.read(addr, size) : (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff); },
      mmioWrite(addr, size, value) { self.mmio.write?.(addr, size, value); },
      intrAck() { return -1; },
      nowNs() { return (self.nowNs += 1000); },
    };
    this.core = Core.create({ module, ramBytes, host, jit });
    // The harness has no local APIC, so CPUID must not claim one.
    const v = this.v;
    v.setUint32(L.CPU_CPUID_MASK, v.getUint32(L.CPU_CPUID_MASK, true) & ~L.CPUID_EDX_APIC, true);
  }

  private get v(): DataView { return this.core.cpuView(); }

  reset(): void { this.core.reset(); }

  /** Real mode with every segment at `sel << 4`, 64 KiB limits, IF clear, and the IVT at 0. */
  setRealMode(): void {
    this.reset();
    for (const s of SEG_NAMES.slice(0, 6)) this.setSeg(s, { selector: 0, base: 0, limit: 0xffff, attr: ATTR_REAL });
  }

  /** Flat 32-bit protected mode, paging off, CPL 0: code and data segments cover 4 GiB at base 0. */
  setFlat32(): void {
    this.reset();
    this.v.setUint32(L.CPU_CR0, 0x6000_0011, true);
    this.setSeg('cs', { selector: 0x08, base: 0, limit: 0xffffffff, attr: ATTR_CODE32 });
    for (const s of ['es', 'ss', 'ds', 'fs', 'gs'] as const) this.setSeg(s, { selector: 0x10, base: 0, limit: 0xffffffff, attr: ATTR_DATA32 });
    this.core.stateChanged();
  }

  getReg(name: GprName | 'eip' | 'eflags'): number {
    if (name === 'eip') return this.v.getUint32(L.CPU_RIP, true);
    if (name === 'eflags') return this.core.readEflags();
    return this.v.getUint32(L.CPU_GPR + GPR_NAMES.indexOf(name) * 8, true);
  }

  setReg(name: GprName | 'eip' | 'eflags', value: number): void {
    const v = this.v;
    if (name === 'eip') v.setBigUint64(L.CPU_RIP, BigInt(value >>> 0), true);
    else if (name === 'eflags') this.core.writeEflags(value);
    else v.setBigUint64(L.CPU_GPR + GPR_NAMES.indexOf(name) * 8, BigInt(value >>> 0), true);
  }

  setSeg(name: SegName, s: SegState): void {
    this.core.writeSegment(SEG_NAMES.indexOf(name), s.selector & 0xffff, s.base, s.limit, s.attr);
  }

  /** Real-mode segment load: selector and base = selector << 4, keeping the 64 KiB data attributes. */
  setSegReal(name: SegName, selector: number): void {
    this.setSeg(name, { selector, base: (selector & 0xffff) << 4, limit: 0xffff, attr: ATTR_REAL });
  }

  getSeg(name: SegName): SegState {
    const at = L.CPU_SEG + SEG_NAMES.indexOf(name) * L.SEG_SIZE;
    const v = this.v;
    return {
      selector: v.getUint32(at + L.SEG_SELECTOR, true),
      attr: v.getUint32(at + L.SEG_ATTR, true),
      limit: v.getUint32(at + L.SEG_LIMIT, true),
      base: Number(v.getBigUint64(at + L.SEG_BASE, true) & 0xffffffffn),
    };
  }

  setControl(cr: 'cr0' | 'cr2' | 'cr3' | 'cr4', value: number): void {
    const off = { cr0: L.CPU_CR0, cr2: L.CPU_CR2, cr3: L.CPU_CR3, cr4: L.CPU_CR4 }[cr];
    if (cr === 'cr2' || cr === 'cr3') this.v.setBigUint64(off, BigInt(value >>> 0), true);
    else this.v.setUint32(off, value >>> 0, true);
    this.core.stateChanged();
  }

  /** The current privilege level (the CS cache's DPL should agree; see setSeg). */
  setCpl(cpl: number): void {
    this.v.setUint32(L.CPU_CPL, cpl, true);
    this.core.stateChanged();
  }

  setEfer(value: number): void {
    this.v.setBigUint64(L.CPU_EFER, BigInt(value >>> 0), true);
    this.core.stateChanged();
  }

  setDescriptorTable(which: 'gdtr' | 'idtr', base: number, limit: number): void {
    this.v.setBigUint64(which === 'gdtr' ? L.CPU_GDTR_BASE : L.CPU_IDTR_BASE, BigInt(base >>> 0), true);
    this.v.setUint32(which === 'gdtr' ? L.CPU_GDTR_LIMIT : L.CPU_IDTR_LIMIT, limit, true);
  }

  /** Write bytes at a guest-physical address. */
  writeMem(phys: number, bytes: ArrayLike<number>): void {
    if (phys < 0 || phys + bytes.length > this.core.ramBytes) throw new RangeError(`write of ${bytes.length} bytes at ${phys.toString(16)} is outside RAM`);
    // Like a DMA write: translations cached in the TLB stay (a guest's page-table change needs INVLPG or a CR3
    // write on real hardware too); instructions decoded from these bytes are dropped.
    this.core.ram.set(bytes, phys);
    this.core.codeWritten(phys, bytes.length);
  }

  readMem(phys: number, length: number): Uint8Array {
    if (phys < 0 || phys + length > this.core.ramBytes) throw new RangeError(`read of ${length} bytes at ${phys.toString(16)} is outside RAM`);
    return this.core.ram.slice(phys, phys + length);
  }

  /** Execute up to `n` instructions; stops early on HLT, reset or shutdown. */
  step(n = 1): RunResult {
    const before = this.insnCount();
    const exit = this.core.run(n);
    return { exit, executed: this.insnCount() - before };
  }

  insnCount(): number { return Number(this.v.getBigUint64(L.CPU_INSN_COUNT, true)); }

  /** Per-opcode counts of #UD raised for unimplemented instructions (index: dOp, 0x200+type: gates). */
  udCounts(): Map<number, number> {
    const m = new Map<number, number>();
    for (let i = 0; i < L.CPU_UD_COUNT_LEN; i++) {
      const c = this.v.getUint32(L.CPU_UD_COUNT + i * 4, true);
      if (c) m.set(i, c);
    }
    return m;
  }

  getState(): CpuState {
    const v = this.v;
    const gpr = (i: number) => v.getUint32(L.CPU_GPR + i * 8, true);
    return {
      eax: gpr(0), ecx: gpr(1), edx: gpr(2), ebx: gpr(3), esp: gpr(4), ebp: gpr(5), esi: gpr(6), edi: gpr(7),
      eip: v.getUint32(L.CPU_RIP, true),
      eflags: this.core.readEflags(),
      cr0: v.getUint32(L.CPU_CR0, true),
      cr2: Number(v.getBigUint64(L.CPU_CR2, true) & 0xffffffffn),
      cr3: Number(v.getBigUint64(L.CPU_CR3, true) & 0xffffffffn),
      cr4: v.getUint32(L.CPU_CR4, true),
      cpl: v.getUint32(L.CPU_CPL, true),
      es: this.getSeg('es'), cs: this.getSeg('cs'), ss: this.getSeg('ss'), ds: this.getSeg('ds'),
      fs: this.getSeg('fs'), gs: this.getSeg('gs'), ldtr: this.getSeg('ldtr'), tr: this.getSeg('tr'),
      gdtr: { base: Number(v.getBigUint64(L.CPU_GDTR_BASE, true) & 0xffffffffn), limit: v.getUint32(L.CPU_GDTR_LIMIT, true) },
      idtr: { base: Number(v.getBigUint64(L.CPU_IDTR_BASE, true) & 0xffffffffn), limit: v.getUint32(L.CPU_IDTR_LIMIT, true) },
      halted: v.getUint32(L.CPU_HALTED, true) !== 0,
    };
  }
}

