// The emulators the bench compares. Each one is a command line that boots images/debian-i686 with its serial
// port on stdout and exits after the guest powers off; the timing around it is shared (child.ts, markers.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '../src/images/exec';
import type { Command } from './child';
import { v86ChildArgs } from './v86-child';

/** Debian's SeaBIOS (package seabios), which v86 boots the kernel with. */
const SEABIOS = '/usr/share/seabios/bios-256k.bin';
const VGABIOS = '/usr/share/seabios/vgabios-stdvga.bin';

export interface Guest {
  kernel: string;
  initrd: string;
  /** Kernel command line, console=ttyS0 included. */
  append: string;
}

export interface Emulator {
  id: 'wasmpc' | 'v86' | 'qemu';
  title: string;
  /** Why this emulator cannot run here ("not installed"), or null when it can. */
  unavailable(repo: string): string | null;
  /** The boot's command line; `jit` false: the emulator's interpreter alone, where it has one (hasNoJitMode). */
  command(repo: string, guest: Guest, jit?: boolean): Command;
  /** It can run without its JIT (wasmpc --no-jit, v86's disable_jit); QEMU's TCG always translates. */
  hasNoJitMode: boolean;
  /**
   * The arguments that add the device boot's hardware: raw image `disks.vda` (read-only) as a virtio-blk disk,
   * `disks.sda` as the disk of an AHCI controller (writable: QEMU's ide-hd refuses read-only drives; the guest
   * only reads), and a virtio NIC on the user-mode network, where 10.0.2.2 is the host's loopback. Absent where
   * the emulator has no such devices (v86).
   */
  ioArgs?(disks: { vda: string; sda: string }): string[];
}

/** This bundle (build/node/bench.js), which runs v86 in child mode. */
const BENCH_BUNDLE = fileURLToPath(import.meta.url);

export const EMULATORS: readonly Emulator[] = [
  {
    id: 'wasmpc',
    title: 'wasmpc',
    unavailable: (repo) => missing(join(repo, 'build/node/wasmpc.js'), 'npm run build'),
    command: (repo, guest, jit = true) => ({
      file: process.execPath,
      args: [
        join(repo, 'build/node/wasmpc.js'), 'run', ...(jit ? [] : ['--no-jit']),
        '--kernel', guest.kernel, '--initrd', guest.initrd, '--append', guest.append,
      ],
    }),
    hasNoJitMode: true,
    ioArgs: (disks) => ['-s', `3,virtio-blk,${disks.vda},ro`, '-s', `4,ahci-hd,${disks.sda}`, '-s', '2,virtio-net,user'],
  },
  {
    id: 'v86',
    title: 'v86',
    unavailable: () =>
      missing(SEABIOS, 'apt-get install seabios') ??
      missing(VGABIOS, 'apt-get install seabios') ??
      (resolves('v86/build/v86.wasm') ? null : 'the v86 npm package is not installed (npm install)'),
    command: (_repo, guest, jit = true) => ({
      file: process.execPath,
      args: [BENCH_BUNDLE, ...v86ChildArgs({ ...guest, bios: SEABIOS, vgaBios: VGABIOS, jit })],
    }),
    hasNoJitMode: true,
  },
  {
    id: 'qemu',
    title: 'QEMU',
    unavailable: () => (findExecutable('qemu-system-i386') === null ? 'not installed' : null),
    hasNoJitMode: false,
    command: (_repo, guest) => ({
      file: 'qemu-system-i386',
      args: ['-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot', '-kernel', guest.kernel, '-initrd', guest.initrd, '-append', guest.append],
    }),
    ioArgs: (disks) => [
      '-drive', `file=${disks.vda},if=none,id=vd,format=raw,readonly=on`, '-device', 'virtio-blk-pci,drive=vd',
      '-device', 'ahci,id=ahci', '-drive', `file=${disks.sda},if=none,id=sd,format=raw`, '-device', 'ide-hd,drive=sd,bus=ahci.0',
      '-netdev', 'user,id=net', '-device', 'virtio-net-pci,netdev=net',
    ],
  },
];

function missing(path: string, fix: string): string | null {
  return existsSync(path) ? null : `${path} not found (${fix})`;
}

function resolves(specifier: string): boolean {
  try {
    createRequire(import.meta.url).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
