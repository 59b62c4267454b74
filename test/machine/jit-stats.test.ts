// What `--jit-stats` prints, from the counters the core and the host keep (formatJitStats).
import { describe, it, expect } from 'vitest';
import { formatJitStats, type JitStats } from '../../src/machine/jit';

const stats: JitStats = {
  blocks: 12, liveModules: 2, coldDrops: 0, hot: 1, modules: 3, wasmBytes: 30 * 1024, compileMs: 4.4,
  invalidated: 5, evicted: 6, flushes: 0, failed: 0, insns: 900n, entries: 9n, emitted: 256n, native: 192n,
  merges: 0, mergedSlots: 0,
};

describe('--jit-stats', () => {
  it('prints the wasm written per translated instruction (the code size the host engine compiles and keeps)', () => {
    const text = formatJitStats(stats, 1000n);
    expect(text).toContain('12 blocks translated in 3 modules (2 in use), 30 KiB of wasm (120 bytes per translated instruction), 4 ms compiling, 1 found hot');
    expect(text).toContain('90% of 1000 guest instructions ran in translated code; 75% of translated instructions are native wasm; 100.0 instructions per entry');
  });

  it('says how many modules were merged, when any were', () => {
    expect(formatJitStats({ ...stats, merges: 2, mergedSlots: 120 }, 1000n)).toContain('1 found hot, 120 merged into 2 modules');
  });

  it('prints no per-instruction size before anything was translated', () => {
    const text = formatJitStats({ ...stats, blocks: 0, modules: 0, wasmBytes: 0, compileMs: 0, emitted: 0n, native: 0n, insns: 0n, entries: 0n }, 1000n);
    expect(text).toContain('0 KiB of wasm, 0 ms compiling');
    expect(text).not.toContain('per translated instruction');
  });
});
