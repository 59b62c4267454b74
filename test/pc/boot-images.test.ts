// A Multiboot kernel assembled here runs under `wasmpc run`, prints over COM1 and ends the run through
// isa-debug-exit with the status it chose, as test suites written for QEMU's conventions expect.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, requireNasm } from '../asm/assemble';
import { packageRoot } from '../../src/node/core-module';

const cli = join(packageRoot(), 'build', 'node', 'wasmpc.js');

describe('kernels and firmware images on wasmpc run', () => {
  it.skipIf(!requireNasm())('prints over COM1 and exits through isa-debug-exit with its status', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmpc-mb-'));
    try {
      const kernel = join(dir, 'hello.bin');
      writeFileSync(kernel, assemble(readFileSync(new URL('../asm/multiboot-hello.asm', import.meta.url), 'utf8')));
      const r = spawnSync(process.execPath, [cli, 'run', '-m', '64M', '--kernel', kernel, '--debug-exit'], { encoding: 'latin1', timeout: 60_000 });
      expect(r.stdout).toContain('hello from a multiboot kernel\n');
      expect(r.status, r.stderr).toBe((0x21 << 1) | 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!requireNasm())('resets the machine through 0xCF9 and boots the kernel a second time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmpc-mb-'));
    try {
      const kernel = join(dir, 'reboot.bin');
      writeFileSync(kernel, assemble(readFileSync(new URL('../asm/multiboot-reboot.asm', import.meta.url), 'utf8')));
      const r = spawnSync(process.execPath, [cli, 'run', '-m', '64M', '--kernel', kernel, '--debug-exit'], { encoding: 'latin1', timeout: 60_000 });
      expect(r.status, r.stderr).toBe((0x10 << 1) | 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!requireNasm())('starts a --bios ROM at the reset vector with its image visible below 1 MiB and below 4 GiB', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmpc-rom-'));
    try {
      const rom = join(dir, 'rom.bin');
      writeFileSync(rom, assemble(readFileSync(new URL('../asm/rom-hello.asm', import.meta.url), 'utf8')));
      const r = spawnSync(process.execPath, [cli, 'run', '-m', '16M', '--bios', rom, '--debug-exit'], { encoding: 'latin1', timeout: 60_000 });
      expect(r.stdout).toContain('hello from the reset vector\n');
      expect(r.status, r.stderr).toBe((0x2a << 1) | 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that is neither a bzImage nor a Multiboot kernel with status 2 and one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmpc-mb-'));
    try {
      const junk = join(dir, 'junk.bin');
      writeFileSync(junk, new Uint8Array(64 * 1024).fill(0x90));
      const r = spawnSync(process.execPath, [cli, 'run', '--kernel', junk], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^wasmpc: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
