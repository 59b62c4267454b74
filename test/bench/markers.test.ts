// The bench's reading of serial output and its table, on synthetic input.
import { describe, expect, it } from 'vitest';
import { parseBenchOutput, timedLines, type SerialChunk } from '../../bench/markers';
import { EMULATORS, type Emulator } from '../../bench/emulators';
import { IO_WORKLOADS } from '../../src/images/init-script';
import { formatTable, median, medianMetrics, ratio, type Column, type Metrics } from '../../bench/table';

/** A guest's bench output, one chunk per entry: [ms since process start, text]. */
function chunks(...entries: [number, string][]): SerialChunk[] {
  return entries.map(([atMs, text]) => ({ atMs, text }));
}

const GOOD = chunks(
  [100, '[    0.000000] Linux version 6.1.0-50-686\r\n'],
  [900, 'wasmpc-guest: user'],
  [1000, 'space\r\nwasmpc-bench: sha256 start\r\n'],
  [1500, '2daeb1f36095b44b318410b3f4e8b5d989dcc7bb023d1426c492dab0a3053e74  -\r\nwasmpc-bench: sha256 end\r\n'],
  [2000, 'wasmpc-bench: gzip start\r\n'],
  [4500, '7016436\r\n[   12.5] random: crng init done\r\nwasmpc-bench: gzip end\r\n'],
  [4600, 'wasmpc-bench: loop start\r\n'],
  [5600, '[   14.1] some kernel message wasmpc-bench: loop end\r\n'],
  [5700, 'wasmpc-guest: done\r\n[   15.0] reboot: Power down\r\n'],
);

describe('bench serial markers', () => {
  it('stamps each line with the time its newline arrived', () => {
    expect(timedLines(chunks([5, 'ab'], [7, 'c\nd'], [9, '\r\n']))).toEqual([
      { atMs: 7, text: 'abc' },
      { atMs: 9, text: 'd' },
    ]);
  });

  it('times boot, every workload and done, with markers split across chunks', () => {
    const timings = parseBenchOutput(GOOD);
    expect(timings).toEqual({
      userspaceMs: 1000,
      workloadMs: { sha256: 500, gzip: 2500, loop: 1000 },
      workloadOutput: {
        sha256: ['2daeb1f36095b44b318410b3f4e8b5d989dcc7bb023d1426c492dab0a3053e74  -'],
        gzip: ['7016436', '[   12.5] random: crng init done'],
        loop: [],
      },
      doneMs: 5700,
    });
  });

  it('times the device workloads of wasmpc.bench=io with the same markers', () => {
    const io = chunks(
      [900, 'wasmpc-guest: userspace\r\nwasmpc-bench: vda start\r\n'],
      [1900, '64+0 records out\r\nwasmpc-bench: vda end\r\nwasmpc-bench: sda start\r\n'],
      [3400, 'wasmpc-bench: sda end\r\nwasmpc-bench: http start\r\n'],
      [6400, '67108864\r\nwasmpc-bench: http end\r\nwasmpc-guest: done\r\n'],
    );
    expect(parseBenchOutput(io, IO_WORKLOADS)).toMatchObject({ workloadMs: { vda: 1000, sda: 1500, http: 3000 }, workloadOutput: { sda: [], http: ['67108864'] } });
    expect(parseBenchOutput(io)).toMatchObject({ error: 'no "wasmpc-bench: sha256 start" on the serial port; last line: wasmpc-guest: done' });
  });

  it('names the first missing marker and the last line the guest printed', () => {
    const hung = GOOD.slice(0, 5);
    expect(parseBenchOutput(hung)).toEqual({ error: 'no "wasmpc-bench: gzip end" on the serial port; last line: wasmpc-bench: gzip start' });
    expect(parseBenchOutput([])).toEqual({ error: 'no "wasmpc-guest: userspace" on the serial port; last line: (no serial output)' });
  });

  it('does not accept markers out of order', () => {
    const swapped = chunks([1, 'wasmpc-guest: userspace\nwasmpc-bench: sha256 end\nwasmpc-bench: sha256 start\n']);
    expect(parseBenchOutput(swapped)).toEqual({ error: 'no "wasmpc-bench: sha256 end" on the serial port; last line: wasmpc-bench: sha256 start' });
  });
});

describe('bench table', () => {
  const v86: Metrics = { userspace: 30_000, sha256: 3000, gzip: 25_000, loop: 7000, exit: 80_000, rss: 400 * 1024, vda: null, sda: null, http: null };
  const qemu: Metrics = { userspace: 10_000, sha256: 1000, gzip: 15_000, loop: 2000, exit: 33_000, rss: 160 * 1024, vda: 500, sda: 700, http: 2000 };

  it('takes medians per metric, ignoring runs without a value', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(medianMetrics([v86, { ...qemu, rss: null }, qemu]).rss).toBe(280 * 1024);
  });

  it('shows ratios only when wasmpc has a number', () => {
    expect(ratio(null, 1000)).toBe('—');
    expect(ratio(3000, 1000)).toBe('3.00×');
  });

  it('prints one row per metric with a note where an emulator did not run', () => {
    const columns = new Map<Emulator['id'], Column>([
      ['wasmpc', { note: 'does not boot yet' }],
      ['v86', { metrics: v86 }],
      ['qemu', { metrics: qemu }],
    ]);
    const lines = formatTable(EMULATORS, columns).split('\n');
    expect(lines[0]).toMatch(/^metric\s+wasmpc\s+v86\s+QEMU\s+ours\/v86\s+ours\/QEMU$/);
    expect(lines[2]).toMatch(/^boot to userspace \(s\)\s+does not boot yet\s+30\.00\s+10\.00\s+—\s+—$/);
    expect(lines[7]).toMatch(/^peak RSS \(MiB\)\s+does not boot yet\s+400\s+160\s+—\s+—$/);
    // v86 has no device boot: a dash, not a zero.
    expect(lines[8]).toMatch(/^virtio-blk read, 64 MiB \(s\)\s+does not boot yet\s+—\s+0\.50\s+—\s+—$/);
    expect(lines).toHaveLength(11);
  });

  it('computes ratios once wasmpc has numbers', () => {
    const ours: Metrics = { ...qemu, loop: 4000 };
    const columns = new Map<Emulator['id'], Column>([
      ['wasmpc', { metrics: ours }],
      ['v86', { metrics: v86 }],
      ['qemu', { metrics: qemu }],
    ]);
    const loopRow = formatTable(EMULATORS, columns).split('\n')[5] ?? '';
    expect(loopRow).toMatch(/^sh loop, 20k \(s\)\s+4\.00\s+7\.00\s+2\.00\s+0\.57×\s+2\.00×$/);
  });
});
