// The bench's one table: a row per metric, a column per emulator, then wasmpc's ratios to v86 and QEMU.
import type { Emulator } from './emulators';

export const METRICS = [
  { id: 'userspace', label: 'boot to userspace (s)', scale: 1 / 1000, digits: 2 },
  { id: 'sha256', label: 'sha256, 8 MiB (s)', scale: 1 / 1000, digits: 2 },
  { id: 'gzip', label: 'gzip -6, 16 MiB (s)', scale: 1 / 1000, digits: 2 },
  { id: 'loop', label: 'sh loop, 20k (s)', scale: 1 / 1000, digits: 2 },
  { id: 'exit', label: 'total to exit (s)', scale: 1 / 1000, digits: 2 },
  { id: 'rss', label: 'peak RSS (MiB)', scale: 1 / 1024, digits: 0 },
  // The device boot (wasmpc.bench=io), a second boot with the disks and the NIC.
  { id: 'vda', label: 'virtio-blk read, 64 MiB (s)', scale: 1 / 1000, digits: 2 },
  { id: 'sda', label: 'AHCI read, 64 MiB (s)', scale: 1 / 1000, digits: 2 },
  { id: 'http', label: 'HTTP via user net, 64 MiB (s)', scale: 1 / 1000, digits: 2 },
] as const;

export type MetricId = (typeof METRICS)[number]['id'];
/** One run's numbers: milliseconds for times, KiB for RSS (null when GNU time could not report it). */
export type Metrics = Record<MetricId, number | null>;

/** What one emulator's column shows: medians over its runs, or why there are none. */
export type Column = { metrics: Metrics } | { note: string };

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? null) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Per-metric medians of several runs. */
export function medianMetrics(runs: readonly Metrics[]): Metrics {
  const result = {} as Metrics;
  for (const { id } of METRICS) result[id] = median(runs.map((run) => run[id]).filter((value): value is number => value !== null));
  return result;
}

const DASH = '—';

function value(column: Column | undefined, id: MetricId): number | null {
  return column !== undefined && 'metrics' in column ? column.metrics[id] : null;
}

/** wasmpc's value over another emulator's: above 1 means wasmpc is slower (or uses more memory). */
export function ratio(ours: number | null, theirs: number | null): string {
  return ours === null || theirs === null || theirs === 0 ? DASH : `${(ours / theirs).toFixed(2)}×`;
}

export function formatTable(emulators: readonly Emulator[], columns: ReadonlyMap<Emulator['id'], Column>): string {
  const header = ['metric', ...emulators.map((emulator) => emulator.title), 'ours/v86', 'ours/QEMU'];
  const rows = METRICS.map(({ id, label, scale, digits }) => {
    const cells = emulators.map((emulator) => {
      const column = columns.get(emulator.id);
      if (column === undefined) return 'not run';
      if ('note' in column) return column.note;
      const number = column.metrics[id];
      return number === null ? DASH : (number * scale).toFixed(digits);
    });
    const ours = value(columns.get('wasmpc'), id);
    return [label, ...cells, ratio(ours, value(columns.get('v86'), id)), ratio(ours, value(columns.get('qemu'), id))];
  });
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => [...(row[i] ?? '')].length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
