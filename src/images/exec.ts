// Running host tools for the image builder, with errors that name the command and say what went wrong.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A failure to report as one line on stderr, exit status 1. */
export class ImagesError extends Error {}

/** The host lacks what the builder needs and cannot fetch it itself (no apt-get): exit status 2. */
export class HostUnsupportedError extends Error {}

/** Directories searched besides $PATH: depmod and friends live in sbin, which a user's $PATH may leave out. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The full path of an executable named `name`, or null if there is none on $PATH or in the sbin directories. */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== ''), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return null;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `command args...` to completion and returns its status and output, whatever the status. */
export function runCommand(command: string, args: readonly string[], cwd?: string): RunResult {
  const executable = findExecutable(command) ?? command;
  const result = spawnSync(executable, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new ImagesError(`${describe(command, args)} could not start: ${result.error.message}`);
  return { status: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a command that must succeed and returns its stdout; on failure throws with the last line it printed. */
export function run(command: string, args: readonly string[], cwd?: string): string {
  const result = runCommand(command, args, cwd);
  if (result.status !== 0) {
    throw new ImagesError(`${describe(command, args)} failed (exit ${result.status}): ${lastLine(result.stderr || result.stdout)}`);
  }
  return result.stdout;
}

export function describe(command: string, args: readonly string[]): string {
  return [command, ...args].join(' ');
}

/** The last non-empty line of a tool's output: usually the line that says why it failed. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.at(-1) ?? '(no output)';
}
