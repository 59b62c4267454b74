// `wasmpc run` keeps translated modules on V8's baseline tier until the core finds one hot (src/node/v8-tiering.ts):
// a kernel whose one loop retires more than the hot mark (2^21 instructions) must have its module found hot.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, requireNasm } from '../asm/assemble';
import { packageRoot } from '../../src/node/core-module';

const cli = join(packageRoot(), 'build', 'node', 'wasmpc.js');

/** A Multiboot kernel (a.out kludge) that runs `iterations` passes of a 4-instruction loop, then exits with 0x11. */
const kernel = (iterations: number): string => `bits 32
org 0x100000
MAGIC equ 0x1BADB002
FLAGS equ 0x00010000
header: dd MAGIC, FLAGS, -(MAGIC + FLAGS), header, 0x100000, end, end, start
start:
  mov ecx, ${iterations}
.l:
  add eax, ecx
  xor ebx, eax
  dec ecx
  jnz .l
  mov al, 0x11
  out 0xf4, al
  hlt
end:
`;

function run(iterations: number): { status: number | null; hot: number; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wasmpc-hot-'));
  try {
    const file = join(dir, 'loop.bin');
    writeFileSync(file, assemble(kernel(iterations)));
    const r = spawnSync(process.execPath, [cli, 'run', '-m', '16M', '--kernel', file, '--debug-exit', '--jit-stats'], { encoding: 'utf8', timeout: 60_000 });
    const m = /(\d+) found hot/.exec(r.stderr);
    return { status: r.status, hot: m ? Number(m[1]) : -1, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('wasmpc run: translated code and V8 tiering', () => {
  it.skipIf(!requireNasm())('finds a module hot once it has retired 2^21 guest instructions, and not before', () => {
    const long = run(3_000_000); // 12 M instructions in the loop's module
    expect(long.status, long.stderr).toBe((0x11 << 1) | 1);
    expect(long.hot, long.stderr).toBeGreaterThanOrEqual(1);
    const short = run(100_000); // 0.4 M
    expect(short.status, short.stderr).toBe((0x11 << 1) | 1);
    expect(short.hot, short.stderr).toBe(0);
  });
});
