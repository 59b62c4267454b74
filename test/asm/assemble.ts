// Assembles guest test programs with Debian's nasm at test time (flat binaries).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function haveNasm(): boolean {
  try {
    execFileSync('nasm', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Assemble `source` (nasm syntax, `bits`/`org` inside) into a flat binary. */
export function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'wasmpc-asm-'));
  try {
    writeFileSync(join(dir, 'prog.asm'), source);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'prog.bin'), join(dir, 'prog.asm')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(join(dir, 'prog.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** In CI a missing assembler is a failure, never a skip (DEVELOPERS.md); elsewhere the test says why it skips. */
export function requireNasm(): boolean {
  if (haveNasm()) return true;
  if (process.env.CI === 'true') throw new Error('nasm is required under CI (apt-get install nasm)');
  return false;
}
