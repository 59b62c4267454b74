// Boots the built images/debian-i686 in QEMU (TCG) and checks /init's side of the serial protocol: the markers,
// a wasmpc.run command with a quoted value, and every module loaded.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import type { Manifest } from '../../src/images/manifest';
import { imagePaths, repoRoot } from '../../src/images/paths';
import { itWhen, missingTool } from './host-tools';

const paths = imagePaths(repoRoot());
const noImages = existsSync(paths.manifest) ? null : `${paths.manifest} does not exist (run npm run images)`;
const noQemu = missingTool('qemu-system-i386', 'qemu-system-x86');
const BOOT_TIMEOUT_MS = 120_000;

interface Exit {
  code: number | null;
  output: string;
}

function bootQemu(append: string): Promise<Exit> {
  const args = ['-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot', '-kernel', paths.vmlinuz, '-initrd', paths.initrd, '-append', append];
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-i386', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`qemu did not power off within ${BOOT_TIMEOUT_MS / 1000} s; serial output:\n${output}`));
    }, BOOT_TIMEOUT_MS - 5_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r/g, '') });
    });
  });
}

describe('images/debian-i686 in QEMU', () => {
  itWhen(
    [noImages, noQemu],
    'boots to userspace, loads every module, runs wasmpc.run and powers off',
    async () => {
      const manifest = JSON.parse(readFileSync(paths.manifest, 'utf8')) as Manifest;
      const run = 'uname -m; echo modules=$(wc -l < /proc/modules); ls /sys/bus/pci/drivers';
      const { code, output } = await bootQemu(`console=ttyS0 wasmpc.run="${run}"`);
      expect(code, output).toBe(0);
      const lines = output.split('\n');
      const userspace = lines.indexOf('wasmpc-guest: userspace');
      const done = lines.indexOf('wasmpc-guest: done');
      expect(userspace, output).toBeGreaterThanOrEqual(0);
      expect(done, output).toBeGreaterThan(userspace);
      const ran = lines.slice(userspace + 1, done);
      expect(ran[0]).toBe('i686');
      expect(ran[1]).toBe(`modules=${manifest.modules.length}`);
      expect(ran.join(' ')).toMatch(/\bahci\b/);
      expect(ran.join(' ')).toMatch(/\bvirtio-pci\b/);
      expect(lines.filter((line) => line.includes('insmod') && line.includes('failed'))).toEqual([]);
    },
    BOOT_TIMEOUT_MS,
  );
});
