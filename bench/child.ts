// Running one emulator as a child process: its serial output (stdout) stamped with host time, its exit time,
// and its peak resident set size as measured by GNU time (wait4's ru_maxrss).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SerialChunk } from './markers';

export const GNU_TIME = '/usr/bin/time';

export interface Command {
  file: string;
  args: string[];
}

export interface ChildRun {
  /** stdout, which every emulator here points at the guest's first serial port. */
  serial: SerialChunk[];
  stderr: string;
  /** Process start to exit, host milliseconds. */
  exitMs: number;
  /** Exit status of the emulator (GNU time passes it through), or null if it was killed. */
  status: number | null;
  /** Peak RSS in KiB, or null if the process did not exit normally. */
  peakRssKiB: number | null;
  timedOut: boolean;
}

export function missingGnuTime(): string | null {
  return existsSync(GNU_TIME) ? null : `${GNU_TIME} not found (apt-get install time); it measures peak RSS`;
}

/** Runs `command` under GNU time; kills its whole process group after `timeoutMs`. */
export function runChild(command: Command, timeoutMs: number): Promise<ChildRun> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmpc-bench-'));
  const rssFile = join(dir, 'maxrss');
  const started = performance.now();
  const child = spawn(GNU_TIME, ['-f', '%M', '-o', rssFile, command.file, ...command.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const serial: SerialChunk[] = [];
  let stderr = '';
  let timedOut = false;
  let exitMs = NaN;
  child.on('exit', () => (exitMs = performance.now() - started));
  child.stdout.setEncoding('latin1').on('data', (text: string) => serial.push({ atMs: performance.now() - started, text }));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  // The child has a process group of its own (so a hang can be killed with everything it started), which also
  // keeps ^C from reaching it: pass that on.
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  const interrupted = (): void => {
    killGroup();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  const cleanUp = (): void => {
    clearTimeout(timer);
    process.removeListener('SIGINT', interrupted);
    rmSync(dir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      cleanUp();
      reject(new Error(`${command.file} could not start: ${error.message}`));
    });
    child.on('close', (status) => {
      const rss = existsSync(rssFile) ? Number.parseInt(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1) ?? '', 10) : NaN;
      cleanUp();
      resolve({ serial, stderr, exitMs, status, peakRssKiB: Number.isFinite(rss) ? rss : null, timedOut });
    });
  });
}
