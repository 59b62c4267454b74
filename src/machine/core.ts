// The AssemblyScript core as the host sees it: one wasm instance over one memory that holds the CPU blocks,
// the TLBs, the physical map and guest RAM (see src/layout/memory.ts). Host-neutral: the caller supplies the
// compiled module, so Node reads it from build/ and a browser fetches it.
import * as L from '../layout/memory';
import { Jit, type JitExports, type JitOptions } from './jit';

/** What the core calls back into. Port and MMIO accesses are 1, 2 or 4 bytes wide. */
export interface CoreHost {
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
  mmioRead(addr: number, size: number): number;
  mmioWrite(addr: number, size: number, value: number): void;
  /** INTA cycle: the vector to deliver, or -1 if nothing is pending any more. */
  intrAck(): number;
  /** Monotonic nanoseconds (the TSC). */
  nowNs(): number;
  /**
   * Run `work`, host work the guest must not see as time passing (compiling translated code): the time source
   * should leave it out, or the timer ticks due meanwhile reach the guest as one.
   */
  offClock?(work: () => void): void;
}

interface CoreExports extends JitExports {
  useCpu(id: number): void;
  reset(): void;
  run(budget: number): number;
  invalidateTranslations(): void;
  stateChanged(): void;
  readEflags(): number;
  writeEflags(v: number): void;
  writeSegment(s: number, selector: number, base: number, limit: number, attr: number): void;
  codeWritten(phys: number, length: number): void;
  flushCode(): void;
}

/** Why Core.run() returned. */
export const Exit = {
  Budget: L.EXIT_BUDGET,
  Hlt: L.EXIT_HLT,
  Stop: L.EXIT_STOP,
  Reset: L.EXIT_RESET,
  Shutdown: L.EXIT_SHUTDOWN,
} as const;
export type Exit = (typeof Exit)[keyof typeof Exit];

export interface CoreOptions {
  module: WebAssembly.Module;
  /** Guest RAM in bytes (a multiple of 4 KiB). */
  ramBytes: number;
  /** Bytes reserved after RAM for ROM images (a multiple of 4 KiB). */
  romBytes?: number;
  host: CoreHost;
  /** Translate hot guest code to wasm (default on); false keeps the interpreter alone (--no-jit). */
  jit?: boolean | JitOptions;
}

const MAX_RAM = 3.5 * 1024 * 1024 * 1024;

export class Core {
  readonly memory: WebAssembly.Memory;
  /** Guest RAM, zero-copy: devices DMA through this view. */
  readonly ram: Uint8Array;
  readonly ramBytes: number;
  readonly romBase: number;
  readonly romBytes: number;
  private readonly exports: CoreExports;
  private readonly physMap: Uint32Array;
  private cpuId = 0;
  /** The translator's host half (always present; enabled unless the options said jit: false). */
  readonly jit: Jit;
  private readonly insnView: DataView;

  private constructor(memory: WebAssembly.Memory, exports: CoreExports, ramBytes: number, romBytes: number, private readonly host: CoreHost) {
    this.memory = memory;
    this.exports = exports;
    this.ramBytes = ramBytes;
    this.romBytes = romBytes;
    this.romBase = L.RAM_BASE + ramBytes;
    this.ram = new Uint8Array(memory.buffer, L.RAM_BASE, ramBytes);
    this.physMap = new Uint32Array(memory.buffer, L.PHYS_MAP, 1 << 20);
    this.jit = new Jit(memory, exports);
    this.insnView = new DataView(memory.buffer, L.CPU_BASE + L.CPU_INSN_COUNT, 8);
  }

  static create(opts: CoreOptions): Core {
    const romBytes = opts.romBytes ?? 0;
    if (opts.ramBytes <= 0 || opts.ramBytes % L.PAGE_SIZE !== 0) throw new Error(`RAM size must be a positive multiple of 4 KiB, not ${opts.ramBytes}`);
    if (opts.ramBytes > MAX_RAM) throw new Error(`RAM size ${opts.ramBytes} exceeds the 3.5 GiB the core can address`);
    if (romBytes % L.PAGE_SIZE !== 0) throw new Error(`ROM area must be a multiple of 4 KiB, not ${romBytes}`);
    const total = L.RAM_BASE + opts.ramBytes + romBytes;
    const pages = Math.ceil(total / L.WASM_PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const h = opts.host;
    const imports = {
      env: {
        memory,
        abort(_msg: number, _file: number, line: number, col: number): never {
          throw new Error(`wasmpc core: internal assertion failed at ${line}:${col}`);
        },
      },
      host: {
        ioRead: (port: number, size: number) => h.ioRead(port, size) >>> 0,
        ioWrite: (port: number, size: number, value: number) => h.ioWrite(port, size, value >>> 0),
        mmioRead: (addr: number, size: number) => h.mmioRead(addr >>> 0, size) >>> 0,
        mmioWrite: (addr: number, size: number, value: number) => h.mmioWrite(addr >>> 0, size, value >>> 0),
        intrAck: () => h.intrAck(),
        nowNs: () => h.nowNs(),
      },
    };
    const instance = new WebAssembly.Instance(opts.module, imports);
    const core = new Core(memory, instance.exports as unknown as CoreExports, opts.ramBytes, romBytes, h);
    core.mapDefault();
    core.exports.useCpu(0);
    core.exports.reset();
    const jit = opts.jit ?? true;
    if (jit !== false) {
      if (typeof jit === 'object') core.jit.configure(jit);
      core.jit.enable(true);
    }
    return core;
  }

  /** RAM from 0, everything else MMIO. */
  private mapDefault(): void {
    this.physMap.fill(L.PHYS_MMIO);
    const pages = Math.min(this.ramBytes / L.PAGE_SIZE, 1 << 20);
    for (let p = 0; p < pages; p++) this.physMap[p] = (L.RAM_BASE + p * L.PAGE_SIZE) | L.PHYS_RAM;
    this.exports.invalidateTranslations();
  }

  /** Map `bytes` of the ROM area (from `romOffset`) read-only at guest-physical `phys`. */
  mapRom(phys: number, romOffset: number, bytes: number): void {
    if (phys % L.PAGE_SIZE || romOffset % L.PAGE_SIZE || bytes % L.PAGE_SIZE) throw new Error('ROM mappings must be 4 KiB aligned');
    if (romOffset + bytes > this.romBytes) throw new Error(`ROM mapping of ${bytes} bytes at ${romOffset} exceeds the ${this.romBytes}-byte ROM area`);
    for (let i = 0; i < bytes / L.PAGE_SIZE; i++) {
      this.physMap[(phys / L.PAGE_SIZE) + i] = (this.romBase + romOffset + i * L.PAGE_SIZE) | L.PHYS_ROM;
    }
    this.exports.invalidateTranslations();
  }

  /** The ROM area as bytes (to load firmware into). */
  rom(): Uint8Array { return new Uint8Array(this.memory.buffer, this.romBase, this.romBytes); }

  /** Make guest-physical pages [phys, phys+bytes) MMIO (they were RAM). */
  mapMmio(phys: number, bytes: number): void {
    for (let i = 0; i < Math.ceil(bytes / L.PAGE_SIZE); i++) this.physMap[Math.floor(phys / L.PAGE_SIZE) + i] = L.PHYS_MMIO;
    this.exports.invalidateTranslations();
  }

  private readonly compile = (): void => this.jit.compilePending();

  run(budget: number): Exit {
    let left = budget >>> 0;
    for (;;) {
      const before = this.insnView.getBigUint64(0, true);
      const exit = this.exports.run(left);
      this.jit.checkReport();
      this.jit.promoteHot();
      if (exit !== L.EXIT_COMPILE) return exit as Exit;
      if (this.host.offClock) this.host.offClock(this.compile);
      else this.jit.compilePending();
      left -= Number(this.insnView.getBigUint64(0, true) - before);
      if (left <= 0) return Exit.Budget;
    }
  }
  /** RESET: the CPU's power-on state, and nothing cached from guest code survives. */
  reset(): void {
    this.exports.flushCode();
    this.exports.reset();
  }
  /** The host wrote guest RAM [phys, phys+length) behind the CPU's back (DMA, loaders): drop code cached from it. */
  codeWritten(phys: number, length: number): void { this.exports.codeWritten(phys >>> 0, length >>> 0); }
  /** After writing CPU state directly (harness, snapshot restore). */
  stateChanged(): void { this.exports.stateChanged(); }
  invalidateTranslations(): void { this.exports.invalidateTranslations(); }
  readEflags(): number { return this.exports.readEflags() >>> 0; }
  writeEflags(v: number): void { this.exports.writeEflags(v >>> 0); }
  /** Load segment register `index` (ES CS SS DS FS GS LDTR TR) from raw cache parts. */
  writeSegment(index: number, selector: number, base: number, limit: number, attr: number): void {
    this.exports.writeSegment(index, selector, base >>> 0, limit >>> 0, attr);
  }

  /** A DataView of the running vCPU's block. */
  cpuView(): DataView { return new DataView(this.memory.buffer, L.CPU_BASE + this.cpuId * L.CPU_STRIDE, L.CPU_STRIDE); }
}
