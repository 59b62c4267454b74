// Turning an emulator's timestamped serial output into benchmark timings, from the markers /init prints.
import { BENCH_WORKLOADS, GUEST_MARKERS, type BenchWorkload } from '../src/images/init-script';

/** Serial output as it arrived: `atMs` is host time since the emulator's process started. */
export interface SerialChunk {
  atMs: number;
  text: string;
}

/** A complete serial line and when its newline arrived. */
export interface TimedLine {
  atMs: number;
  text: string;
}

export interface GuestTimings {
  /** Process start to `wasmpc-guest: userspace`. */
  userspaceMs: number;
  /** Start marker to end marker of each workload asked for. */
  workloadMs: Partial<Record<BenchWorkload, number>>;
  /** What each workload printed between its markers. */
  workloadOutput: Partial<Record<BenchWorkload, string[]>>;
  /** Process start to `wasmpc-guest: done`. */
  doneMs: number;
}

/** Splits chunks into lines, each stamped with the time of the chunk that ended it; '\r' is dropped. */
export function timedLines(chunks: readonly SerialChunk[]): TimedLine[] {
  const lines: TimedLine[] = [];
  let partial = '';
  for (const chunk of chunks) {
    const pieces = (partial + chunk.text).split('\n');
    partial = pieces.pop() ?? '';
    for (const piece of pieces) lines.push({ atMs: chunk.atMs, text: piece.replace(/\r/g, '') });
  }
  return lines;
}

export function benchMarker(workload: BenchWorkload, edge: 'start' | 'end'): string {
  return `wasmpc-bench: ${workload} ${edge}`;
}

/**
 * Finds the markers of `workloads` in order and times the spans between them. A marker counts when a line ends with it, so a
 * kernel message printed on the same line does not hide it. Returns a reason instead when one is missing.
 */
export function parseBenchOutput(chunks: readonly SerialChunk[], workloads: readonly BenchWorkload[] = BENCH_WORKLOADS): GuestTimings | { error: string } {
  const lines = timedLines(chunks);
  let cursor = 0;
  const find = (marker: string): TimedLine | null => {
    for (let i = cursor; i < lines.length; i++) {
      const line = lines[i];
      if (line !== undefined && line.text.trimEnd().endsWith(marker)) {
        cursor = i + 1;
        return line;
      }
    }
    return null;
  };
  const missing = (marker: string): { error: string } => {
    const last = lines.filter((line) => line.text.trim() !== '').at(-1)?.text ?? '(no serial output)';
    return { error: `no "${marker}" on the serial port; last line: ${last.trim()}` };
  };

  const userspace = find(GUEST_MARKERS.userspace);
  if (userspace === null) return missing(GUEST_MARKERS.userspace);
  const workloadMs: Partial<Record<BenchWorkload, number>> = {};
  const workloadOutput: Partial<Record<BenchWorkload, string[]>> = {};
  for (const workload of workloads) {
    const start = find(benchMarker(workload, 'start'));
    if (start === null) return missing(benchMarker(workload, 'start'));
    const from = cursor;
    const end = find(benchMarker(workload, 'end'));
    if (end === null) return missing(benchMarker(workload, 'end'));
    workloadMs[workload] = end.atMs - start.atMs;
    workloadOutput[workload] = lines.slice(from, cursor - 1).map((line) => line.text);
  }
  const done = find(GUEST_MARKERS.done);
  if (done === null) return missing(GUEST_MARKERS.done);
  return { userspaceMs: userspace.atMs, workloadMs, workloadOutput, doneMs: done.atMs };
}
