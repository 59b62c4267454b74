// The guest's initramfs: busybox, the tools it lacks (lspci, eject), the kernel modules /init loads, device nodes the kernel needs before devtmpfs
// is mounted, and /init itself, as a gzip'd cpio newc archive.
import { gzipSync } from 'node:zlib';
import { CpioWriter } from './cpio';
import { MODULE_LIST, initScript } from './init-script';
import { GUEST_TOOLS, GUEST_TOOLS_BINARY } from './guest-tools';

/** Character device numbers (Documentation/admin-guide/devices.txt). */
const DEV_NULL = { major: 1, minor: 3 };
const DEV_TTYS0 = { major: 4, minor: 64 };
const DEV_CONSOLE = { major: 5, minor: 1 };

export interface InitramfsModule {
  /** Path relative to /lib/modules/<release>, e.g. `kernel/fs/ext4/ext4.ko`. */
  path: string;
  data: Uint8Array;
}

export interface InitramfsContents {
  busybox: Uint8Array;
  /** The multi-call binary of the tools busybox lacks (guest-tools.ts); absent in tests that do not need it. */
  tools?: Uint8Array;
  /** `uname -r` of the kernel the modules belong to. */
  release: string;
  /** In load order, dependencies first. */
  modules: readonly InitramfsModule[];
}

/** The uncompressed cpio archive. */
export function initramfsArchive(contents: InitramfsContents): Buffer {
  const cpio = new CpioWriter();
  // The kernel opens /dev/console for init's stdin/stdout/stderr before anything is mounted.
  cpio.characterDevice('dev/console', DEV_CONSOLE.major, DEV_CONSOLE.minor, 0o600);
  cpio.characterDevice('dev/null', DEV_NULL.major, DEV_NULL.minor, 0o666);
  cpio.characterDevice('dev/ttyS0', DEV_TTYS0.major, DEV_TTYS0.minor, 0o600);
  for (const dir of ['proc', 'sys', 'sbin', 'usr/bin', 'usr/sbin', 'mnt', 'root']) cpio.directory(dir);
  cpio.directory('tmp', 0o1777);
  cpio.file('bin/busybox', contents.busybox, 0o755);
  cpio.symlink('bin/sh', 'busybox');
  if (contents.tools) {
    cpio.file(`bin/${GUEST_TOOLS_BINARY}`, contents.tools, 0o755);
    for (const tool of GUEST_TOOLS) cpio.symlink(`bin/${tool}`, GUEST_TOOLS_BINARY);
  }
  const moduleDir = `lib/modules/${contents.release}`;
  for (const module of contents.modules) cpio.file(`${moduleDir}/${module.path}`, module.data, 0o644);
  cpio.file(`${moduleDir}/${MODULE_LIST}`, Buffer.from(contents.modules.map((module) => `${module.path}\n`).join('')));
  cpio.file('init', Buffer.from(initScript()), 0o755);
  return cpio.finish();
}

/** The initrd.img the kernel boots: the archive, gzip'd. */
export function buildInitrd(contents: InitramfsContents): Buffer {
  return gzipSync(initramfsArchive(contents), { level: 9 });
}
