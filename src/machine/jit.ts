// The host half of the JIT: compile the wasm module the core's translator wrote to JIT_OUT, instantiate it
// against the core's memory and helpers, and install its function in the core's function table, where the
// run loop calls it by index. Host-neutral (WebAssembly API only); synchronous, as Node allows for modules
// of any size. Every MERGE_BATCH modules are also compiled again as one (jit-merge.ts), in the background, and
// their slots switched to it: the engine gives each module's code an allocation of its own.
import * as L from '../layout/memory';
import { mergeModules, mergedExport } from './jit-merge';

export interface JitExports {
  table: WebAssembly.Table;
  jitStep(rec: number, eip: number): number;
  jitCond(cc: number): number;
  read8(seg: number, off: number): number;
  read16(seg: number, off: number): number;
  read32(seg: number, off: number): number;
  write8(seg: number, off: number, v: number): void;
  write16(seg: number, off: number, v: number): void;
  write32(seg: number, off: number, v: number): void;
  faulted: WebAssembly.Global;
  codeDirty: WebAssembly.Global;
  jitRmwRead(seg: number, off: number, size: number): number;
  jitJournal(host: number, size: number): void;
  jitCheckEnable(on: number): void;
  jitCheckInject(): void;
  jitInstall(fn: number): void;
  jitFlushAll(): void;
  jitDropCold(): number;
  jitNewPeriod(): void;
  jitSlotReferenced(fn: number): number;
  jitHotModule(): number;
  jitOutLength(): number;
  jitEnable(on: number): void;
  setJitThreshold(n: number): void;
  setJitHotInsns(n: number): void;
}

export interface JitOptions {
  /**
   * Compiled modules kept before everything is dropped and compiled afresh (bounds host memory: each costs the
   * engine tens of KiB; the bench's peak RSS was 525 MiB with 8192, 403 MiB with 2048, at 6% more time).
   */
  maxModules?: number;
  /** Executions before a block entry is translated. */
  threshold?: number;
  /** Guest instructions a module's blocks retire before it is given to instantiateHot. */
  hotInsns?: number;
  /** Called with every module the translator emits, before it is compiled (golden tests of generated code). */
  onModule?: (bytes: Uint8Array) => void;
  /**
   * Check every call into translated code against the interpreter (--jit-check; slow, for finding translator
   * bugs): the first difference stops the machine and run() throws a JitCheckError saying what differed.
   * 'blocks': one block per call (no chaining), which names the block at fault.
   */
  check?: boolean | 'blocks';
  /**
   * Instantiate a module whose blocks have retired many guest instructions (the core counts them per module) so
   * that the engine's optimizing tier takes it soon; its new instance replaces the old one in the table. Node sets
   * this (src/node/v8-tiering.ts): there, other translated modules keep a large tier-up budget. Unset: nothing.
   */
  instantiateHot?: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance;
  /**
   * Modules compiled into one once this many have been (jit-merge.ts): each is still compiled and installed
   * at once, and its table slot switches to the merged module's function when that is ready (compiled in the
   * background). 0 or 1: no merging; default MERGE_BATCH.
   */
  mergeBatch?: number;
  /**
   * Compile a merged module (default: WebAssembly.compile, in the engine's background threads). Node compiles it
   * lazily instead (src/node/v8-tiering.ts): a function gets machine code when it first runs.
   */
  compileMerged?: (bytes: Uint8Array<ArrayBuffer>) => WebAssembly.Module | Promise<WebAssembly.Module>;
}

/**
 * Modules merged into one by default. Reading 64 MiB from a virtio disk right after boot (the guest kernel's
 * page-cache code, ~9 instructions per entry into translated code), three alternating runs each: 0.66-0.72 s
 * against 0.72-0.95 s unmerged; from an AHCI disk 0.66-0.77 against 0.69-0.85; 256 measured the same as 64.
 */
const MERGE_BATCH = 64;
/** A batch of modules that has not filled in this long is merged as it is. */
const MERGE_AFTER_MS = 1000;

const CHECK_WHAT = ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI', 'EIP', 'EFLAGS', 'memory', 'a segment cache',
  'CR2', 'halted/interrupt shadow', 'the interpreter faulted, the translated code did not',
  'the translated code faulted, the interpreter did not', 'the fault vector', 'the x87 state',
  'the calls to the host (I/O, MMIO, clock; translated: how many)'];

/** Translated code and the interpreter disagreed (check mode). */
export class JitCheckError extends Error {}

export interface JitStats {
  blocks: number;
  liveModules: number;
  /** Times the cap on live modules was met by dropping the modules that had not run lately. */
  coldDrops: number;
  /** Modules found hot and instantiated again for the engine's optimizing tier (JitOptions.instantiateHot). */
  hot: number;
  /** Modules compiled (each holds the blocks of one page that were hot or warm together). */
  modules: number;
  /** Merged modules made from them (JitOptions.mergeBatch), and the table slots switched to one. */
  merges: number;
  mergedSlots: number;
  wasmBytes: number;
  compileMs: number;
  /** Writes to code pages that made their translations stale. */
  invalidated: number;
  /** Compiled blocks dropped because another block took their map slot. */
  evicted: number;
  flushes: number;
  failed: number;
  /** Guest instructions retired inside translated code. */
  insns: bigint;
  /** Calls from the run loop into translated code. */
  entries: bigint;
  /** Instructions translated, and how many of them as native wasm (the rest call the interpreter). */
  emitted: bigint;
  native: bigint;
  /** Check mode only: calls compared with the interpreter, and calls that could not be repeated. */
  check?: { checked: bigint; unchecked: bigint };
}

export class Jit {
  private readonly exports: JitExports;
  private readonly memory: WebAssembly.Memory;
  private readonly stats: DataView;
  private readonly imports: WebAssembly.Imports;
  /** First table index the JIT owns (below: the core's own functions). */
  private readonly tableBase: number;
  private next: number;
  private flushesSeen = 0;
  /** Table slots freed by dropping cold modules, to reuse. */
  private free: number[] = [];
  /** USED bits were cleared since the last flush (at three quarters of the cap, or by a drop). */
  private periodStarted = false;
  /** Times the cap was met by dropping cold modules (not everything). */
  private drops = 0;
  private maxModules: number;
  private onModule: ((bytes: Uint8Array) => void) | undefined;
  private instantiateHot: JitOptions['instantiateHot'];
  /** The compiled module behind each table slot and its export (for instantiateHot); cleared with the slot. */
  private moduleAt: ({ module: WebAssembly.Module; name: string } | undefined)[] = [];
  private mergeBatch = MERGE_BATCH;
  private compileMerged: NonNullable<JitOptions['compileMerged']> = (bytes) => WebAssembly.compile(bytes);
  /** Modules compiled since the last merge: their slot, the function installed there, their bytes. */
  private batch: { slot: number; fn: unknown; bytes: Uint8Array }[] = [];
  private inFlight: Promise<void>[] = [];
  /** When the oldest module of the batch was compiled (a batch that stops growing is merged after a second). */
  private batchStart = 0;
  private merges = 0;
  private mergedSlots = 0;
  private promoted = 0;
  private wasmBytes = 0;
  private compileMs = 0;
  private failed = 0;
  private modules = 0;
  lastError: Error | undefined;

  constructor(memory: WebAssembly.Memory, exports: JitExports, opts: JitOptions = {}) {
    this.memory = memory;
    this.exports = exports;
    this.stats = new DataView(memory.buffer, L.JIT_STATS, 0x40);
    const x = exports;
    this.imports = {
      e: {
        m: memory, s: x.jitStep, c: x.jitCond, f: x.faulted, d: x.codeDirty,
        r1: x.read8, r2: x.read16, r4: x.read32, w1: x.write8, w2: x.write16, w4: x.write32,
        rm: x.jitRmwRead, j: x.jitJournal,
      },
    };
    this.tableBase = exports.table.length;
    this.next = this.tableBase;
    this.maxModules = 2048;
    this.configure(opts);
  }

  configure(opts: JitOptions): void {
    if (opts.maxModules !== undefined) this.maxModules = opts.maxModules;
    if (opts.threshold !== undefined) this.exports.setJitThreshold(opts.threshold);
    if (opts.hotInsns !== undefined) this.exports.setJitHotInsns(opts.hotInsns);
    if (opts.onModule !== undefined) this.onModule = opts.onModule;
    if (opts.instantiateHot !== undefined) this.instantiateHot = opts.instantiateHot;
    if (opts.mergeBatch !== undefined) this.mergeBatch = opts.mergeBatch;
    if (opts.compileMerged !== undefined) this.compileMerged = opts.compileMerged;
    if (opts.check !== undefined) {
      this.checking = opts.check !== false;
      this.exports.jitCheckEnable(opts.check === 'blocks' ? 2 : opts.check ? 1 : 0);
    }
  }

  private checking = false;

  /** Check mode: throws the difference found, if any (the core stopped at it). */
  checkReport(): void {
    if (!this.checking) return;
    const v = new DataView(this.memory.buffer, L.JIT_STATS + L.JIT_CHECK, 0x80);
    if (v.getUint32(L.JIT_CHECK_BAD, true) === 0) return;
    const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
    const what = v.getUint32(L.JIT_CHECK_WHAT, true);
    const addr = v.getUint32(L.JIT_CHECK_ADDR, true);
    const host = v.getUint32(L.JIT_CHECK_HOST, true);
    const code = host ? [...new Uint8Array(this.memory.buffer, host - 48, 176)].map((b, i) => (i === 48 ? '[' : '') + b.toString(16).padStart(2, '0')).join(' ') : '?';
    const trail = Array.from({ length: L.JIT_CHECK_TRAIL_LEN }, (_, k) => v.getUint32(L.JIT_CHECK_TRAIL + k * 4, true))
      .filter((x) => x !== 0).map(hex).join(' ');
    const where = what === 15 ? ` (CR2 ${hex(addr)})` : what === 10 ? ` at guest host address ${hex(addr - L.RAM_BASE)} (RAM offset)` : what === 11 || what === 17 ? ` at CPU-block offset ${hex(addr)}` : '';
    throw new JitCheckError(
      `JIT check: translated code entered at EIP ${hex(v.getUint32(L.JIT_CHECK_EIP, true))} retired ` +
        `${v.getUint32(L.JIT_CHECK_RETIRED, true)} instructions; ${CHECK_WHAT[what] ?? `item ${what}`} differs${where}: ` +
        `translated ${hex(v.getUint32(L.JIT_CHECK_JIT, true))}, interpreter ${hex(v.getUint32(L.JIT_CHECK_INTERP, true))} ` +
        `(after ${v.getUint32(L.JIT_CHECK_AT, true)} interpreted instructions); code from EIP-48 ([ at EIP): ${code}; ` +
        `translated code left EIP ${hex(v.getUint32(L.JIT_CHECK_JIT_EIP, true))}, the interpreter went through ${trail}`);
  }

  /** Check mode's test hook: the next checked call's result gets EAX bit 0 flipped, as a translator bug would. */
  injectCheckDifference(): void { this.exports.jitCheckInject(); }

  /** Check mode: calls checked, and calls that could not be repeated. */
  checkCounts(): { checked: bigint; unchecked: bigint } {
    const v = new DataView(this.memory.buffer, L.JIT_STATS + L.JIT_CHECK, 0x80);
    return { checked: v.getBigUint64(L.JIT_CHECK_CHECKED, true), unchecked: v.getBigUint64(L.JIT_CHECK_UNCHECKED, true) };
  }

  enable(on: boolean): void { this.exports.jitEnable(on ? 1 : 0); }

  /** Compile and install the pending block (the core returned EXIT_COMPILE). */
  compilePending(): void {
    const flushes = this.stats.getUint32(L.JIT_STAT_FLUSHES, true);
    if (flushes !== this.flushesSeen) {
      // The core dropped every translation: all table slots are free again.
      this.flushesSeen = flushes;
      this.freeSlots();
    }
    if (!this.periodStarted && this.live() >= (this.maxModules * 3) / 4) {
      // What runs from here to the cap is what dropCold keeps.
      this.exports.jitNewPeriod();
      this.periodStarted = true;
    }
    if (this.live() >= this.maxModules && !this.dropCold()) {
      this.exports.jitFlushAll();
      this.flushesSeen = this.stats.getUint32(L.JIT_STAT_FLUSHES, true);
      this.freeSlots();
      return; // the pending translation went with the flush; it is translated again when hot
    }
    const len = this.exports.jitOutLength();
    const bytes = new Uint8Array(this.memory.buffer, L.JIT_OUT, len).slice();
    this.onModule?.(bytes);
    const t0 = performance.now();
    let exports: WebAssembly.Exports;
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(bytes);
      exports = new WebAssembly.Instance(module, this.imports).exports;
    } catch (e) {
      // A translator bug, not a guest problem: keep the guest running on the interpreter and say so once.
      this.failed++;
      if (!this.lastError) this.lastError = e as Error;
      this.exports.jitInstall(0);
      return;
    }
    this.compileMs += performance.now() - t0;
    this.wasmBytes += len;
    this.modules++;
    const table = this.exports.table;
    const index = this.free.pop() ?? this.next++;
    if (index >= table.length) table.grow(index + 1 - table.length);
    table.set(index, exports.g as Function);
    if (this.instantiateHot) this.moduleAt[index] = { module, name: 'g' };
    this.exports.jitInstall(index);
    if (this.mergeBatch > 1) {
      if (this.batch.length === 0) this.batchStart = performance.now();
      this.batch.push({ slot: index, fn: table.get(index), bytes });
      if (this.batch.length >= this.mergeBatch) this.merge();
    }
  }

  /**
   * Compile the modules of the batch into one, in the background; when it is ready, each slot that still holds
   * the function installed with the batch switches to the merged module's.
   */
  private merge(): void {
    const batch = this.batch;
    this.batch = [];
    if (batch.length < 2) return;
    const flushes = this.stats.getUint32(L.JIT_STAT_FLUSHES, true);
    const done = (async () => {
      let module: WebAssembly.Module;
      let instance: WebAssembly.Instance;
      try {
        module = await this.compileMerged(mergeModules(batch.map((b) => b.bytes)));
        instance = new WebAssembly.Instance(module, this.imports);
      } catch (e) {
        this.failed++;
        if (!this.lastError) this.lastError = e as Error;
        return;
      }
      // Flushed meanwhile (every slot is free, or will be at the next compile): nothing to switch.
      if (flushes !== this.stats.getUint32(L.JIT_STAT_FLUSHES, true)) return;
      const table = this.exports.table;
      this.merges++;
      batch.forEach((b, k) => {
        // Freed, reused or promoted since: leave it.
        if (b.slot >= table.length || table.get(b.slot) !== b.fn) return;
        const name = mergedExport(k);
        table.set(b.slot, instance.exports[name] as Function);
        if (this.moduleAt[b.slot]) this.moduleAt[b.slot] = { module, name };
        this.mergedSlots++;
      });
    })();
    this.inFlight.push(done);
    void done.finally(() => { this.inFlight = this.inFlight.filter((p) => p !== done); });
  }

  /** Wait for the merges started so far to be switched in (tests). */
  async settled(): Promise<void> {
    while (this.inFlight.length > 0) await Promise.all(this.inFlight);
  }

  /** Give the modules the core found hot (after a run) to instantiateHot; merge a batch that stopped growing. */
  promoteHot(): void {
    if (this.batch.length > 0 && performance.now() - this.batchStart > MERGE_AFTER_MS) this.merge();
    for (let fn = this.exports.jitHotModule(); fn !== 0; fn = this.exports.jitHotModule()) {
      const at = this.moduleAt[fn];
      if (!this.instantiateHot || !at) continue; // no hook, or the slot was freed since
      this.exports.table.set(fn, this.instantiateHot(at.module, this.imports).exports[at.name] as Function);
      this.moduleAt[fn] = undefined; // once
      this.promoted++;
    }
  }

  /** Every translation was dropped: clear the table (so the engine can free the modules) and reuse it. */
  private freeSlots(): void {
    const table = this.exports.table;
    for (let i = this.tableBase; i < this.next; i++) table.set(i, null);
    this.moduleAt = [];
    this.batch = [];
    this.next = this.tableBase;
    this.free = [];
    this.periodStarted = false;
  }

  /** Modules in the table. */
  private live(): number { return this.next - this.tableBase - this.free.length; }

  /**
   * At the cap: the core drops the map entries of modules that have not run lately; the table slots nothing
   * reaches any more are freed (the engine can collect their modules) and reused. False when that freed too
   * little (an eighth of the cap) to be worth its scan of the map: the caller flushes everything.
   */
  private dropCold(): boolean {
    const before = this.free.length;
    this.exports.jitDropCold();
    const table = this.exports.table;
    const free = new Set(this.free);
    for (let i = this.tableBase; i < this.next; i++) {
      if (free.has(i) || this.exports.jitSlotReferenced(i)) continue;
      table.set(i, null);
      this.moduleAt[i] = undefined;
      this.free.push(i);
    }
    if (this.free.length - before < this.maxModules / 8) return false;
    this.drops++;
    return true;
  }

  getStats(): JitStats {
    const s = this.stats;
    return {
      blocks: s.getUint32(L.JIT_STAT_COMPILED, true),
      liveModules: this.live(),
      modules: this.modules,
      merges: this.merges,
      mergedSlots: this.mergedSlots,
      wasmBytes: this.wasmBytes,
      compileMs: this.compileMs,
      invalidated: s.getUint32(L.JIT_STAT_INVALIDATED, true),
      evicted: s.getUint32(L.JIT_STAT_EVICTED, true),
      flushes: s.getUint32(L.JIT_STAT_FLUSHES, true),
      coldDrops: this.drops,
      hot: this.promoted,
      failed: this.failed,
      insns: s.getBigUint64(L.JIT_STAT_INSNS, true),
      entries: s.getBigUint64(L.JIT_STAT_ENTRIES, true),
      emitted: s.getBigUint64(L.JIT_STAT_EMITTED, true),
      native: s.getBigUint64(L.JIT_STAT_NATIVE, true),
      ...(this.checking ? { check: this.checkCounts() } : {}),
    };
  }
}

/** The statistics as `--jit-stats` prints them. */
export function formatJitStats(s: JitStats, totalInsns: bigint): string {
  const share = totalInsns > 0n ? Number((s.insns * 10000n) / totalInsns) / 100 : 0;
  const nativeShare = s.emitted > 0n ? Number((s.native * 10000n) / s.emitted) / 100 : 0;
  return [
    `jit: ${s.blocks} blocks translated in ${s.modules} modules (${s.liveModules} in use), ` +
      `${(s.wasmBytes / 1024).toFixed(0)} KiB of wasm` +
      (s.emitted > 0n ? ` (${(s.wasmBytes / Number(s.emitted)).toFixed(0)} bytes per translated instruction), ` : ', ') +
      `${s.compileMs.toFixed(0)} ms compiling, ${s.hot} found hot` +
      (s.merges > 0 ? `, ${s.mergedSlots} merged into ${s.merges} modules` : ''),
    `jit: ${share}% of ${totalInsns} guest instructions ran in translated code; ` +
      `${nativeShare}% of translated instructions are native wasm; ` +
      `${s.entries > 0n ? (Number(s.insns) / Number(s.entries)).toFixed(1) : 0} instructions per entry from the run loop`,
    `jit: ${s.invalidated} code-page writes invalidated translations, ${s.evicted} blocks evicted (by others ` +
      'in their set, or with cold modules), ' +
      `${s.flushes} full flushes, ${s.coldDrops} drops of cold modules` +
      (s.failed ? `, ${s.failed} modules failed to compile` : ''),
    ...(s.check ? [`jit check: ${s.check.checked} calls compared with the interpreter, ${s.check.unchecked} not ` +
      '(they changed mode or a control register, or did too much to undo)'] : []),
  ].join('\n');
}
