// Helpers for the tests that check our qcow2 against Debian's qemu-img (package qemu-utils).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../images/host-tools';

export const noQemuImg = missingTool('qemu-img', 'qemu-utils');

export function qemuImg(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

export function qemuIo(file: string, fmt: string, ...commands: string[]): string {
  const args = ['-f', fmt];
  for (const c of commands) args.push('-c', c);
  const r = spawnSync('qemu-io', [...args, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-io ${commands.join('; ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Run `qemu-img check` and return its output; the test fails on any error or leak it reports. */
export function expectClean(file: string): string {
  const r = qemuImg('check', file);
  if (r.status !== 0 || !/No errors were found/.test(r.out)) throw new Error(`qemu-img check ${file}:\n${r.out}`);
  return r.out;
}

/** The guest-visible bytes of an image, as qemu-img sees them. */
export function qemuRaw(dir: string, file: string): Uint8Array {
  const out = join(dir, `flat-${Math.random().toString(36).slice(2)}.raw`);
  const r = qemuImg('convert', '-O', 'raw', file, out);
  if (r.status !== 0) throw new Error(`qemu-img convert ${file}: ${r.out}`);
  const data = new Uint8Array(readFileSync(out));
  rmSync(out);
  return data;
}

/** Deterministic bytes that do not compress to nothing: a xorshift stream. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A raw file with recognisable content: every other 64 KiB stretch of a pattern, the rest zeros. */
export function writeRaw(path: string, size: number, seed: number): Uint8Array {
  const data = pattern(size, seed);
  for (let at = 65536; at < size; at += 131072) data.fill(0, at, at + 65536);
  writeFileSync(path, data);
  return data;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wasmpc-img-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
