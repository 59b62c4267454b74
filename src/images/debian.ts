// Fetching stock Debian i386 packages with apt-get and unpacking them with dpkg-deb.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostUnsupportedError, ImagesError, describe, findExecutable, lastLine, run, runCommand } from './exec';

export const ARCH = 'i386';

/** apt-cache search pattern of the stock i686 (non-PAE) kernels of Debian 12. */
const KERNEL_PACKAGE = /^linux-image-6\.1\.0-(\d+)-686$/;

export interface DebPackage {
  /** Package name without the architecture, e.g. `busybox-static`. */
  name: string;
  /** Debian version, epoch included, e.g. `1:1.35.0-4+deb12u1+b1`. */
  version: string;
}

/** Tools the builder runs; the message says what to do when apt-get itself is missing. */
export function checkHostTools(): void {
  if (findExecutable('apt-get') === null || findExecutable('apt-cache') === null) {
    throw new HostUnsupportedError(
      'apt-get not found. This tool downloads Debian 12 i386 packages (linux-image-6.1.0-NN-686 and busybox-static) ' +
        'with apt-get and unpacks them with dpkg-deb: run it on a Debian or Ubuntu host, or copy images/debian-i686/ ' +
        '(vmlinuz, initrd.img, manifest.json) from a machine where `npm run images` worked.',
    );
  }
  if (findExecutable('dpkg-deb') === null || findExecutable('dpkg') === null) {
    throw new HostUnsupportedError('dpkg-deb not found: install the Debian package dpkg (apt-get install dpkg).');
  }
}

/** Installs a Debian package that provides a host tool (e.g. kmod for depmod), saying so on stderr. */
export function installHostPackage(pkg: string, forTool: string, log: (message: string) => void): void {
  log(`${forTool} not found; installing the Debian package ${pkg} (apt-get install -y ${pkg})`);
  const result = runCommand('apt-get', ['install', '-y', '--no-install-recommends', pkg]);
  if (result.status !== 0) {
    throw new ImagesError(`apt-get install ${pkg} failed: ${lastLine(result.stderr)} (install ${pkg} as root, then run again)`);
  }
}

/** Queries and downloads through apt, adding the i386 architecture and refreshing the lists at most once. */
export class AptSource {
  private updated = false;

  constructor(private readonly log: (message: string) => void) {}

  /** Makes i386 packages visible to apt: `dpkg --add-architecture i386` and a list update when it was missing. */
  enableI386(): void {
    const foreign = run('dpkg', ['--print-foreign-architectures']).split('\n');
    if (foreign.includes(ARCH) || run('dpkg', ['--print-architecture']).trim() === ARCH) return;
    this.log('the i386 architecture is not enabled; running dpkg --add-architecture i386');
    const result = runCommand('dpkg', ['--add-architecture', ARCH]);
    if (result.status !== 0) {
      throw new ImagesError(`dpkg --add-architecture i386 failed: ${lastLine(result.stderr)} (run as root, or run it yourself once)`);
    }
    this.update('the i386 package lists are new');
  }

  /** The newest `linux-image-6.1.0-NN-686` apt knows, with its candidate version. */
  newestKernel(): DebPackage {
    const find = (): string | null => {
      const names = run('apt-cache', ['search', '--names-only', '^linux-image-6.1.0-[0-9]+-686$'])
        .split('\n')
        .map((line) => line.split(' ')[0] ?? '')
        .filter((name) => KERNEL_PACKAGE.test(name));
      names.sort((a, b) => kernelAbi(b) - kernelAbi(a));
      return names[0] ?? null;
    };
    let name = find();
    if (name === null && this.update('apt-cache lists no linux-image-6.1.0-NN-686 package')) name = find();
    if (name === null) {
      throw new ImagesError('apt-cache search lists no linux-image-6.1.0-NN-686 package: add Debian 12 (bookworm) main to the apt sources');
    }
    return { name, version: this.candidate(name) };
  }

  /** The version `apt-get download name:i386` would fetch. */
  candidate(name: string): DebPackage['version'] {
    const find = (): string | null => {
      const result = runCommand('apt-cache', ['show', '--no-all-versions', `${name}:${ARCH}`]);
      const match = /^Version: (\S+)$/m.exec(result.stdout);
      return result.status === 0 && match ? (match[1] ?? null) : null;
    };
    let version = find();
    if (version === null && this.update(`apt-cache knows no ${name}:${ARCH}`)) version = find();
    if (version === null) throw new ImagesError(`apt-cache knows no package ${name}:${ARCH}: add Debian 12 (bookworm) main to the apt sources`);
    return version;
  }

  /** Downloads the package into `debsDir` unless that exact version is already there; returns the .deb path. */
  download(pkg: DebPackage, debsDir: string): string {
    mkdirSync(debsDir, { recursive: true });
    const file = join(debsDir, debFileName(pkg));
    if (existsSync(file)) return file;
    this.log(`downloading ${pkg.name}:${ARCH} ${pkg.version}`);
    const spec = `${pkg.name}:${ARCH}=${pkg.version}`;
    const result = runCommand('apt-get', ['download', spec], debsDir);
    if (result.status !== 0) {
      throw new ImagesError(`apt-get download ${pkg.name}:${ARCH} failed: ${lastLine(result.stderr || result.stdout)}`);
    }
    if (!existsSync(file)) {
      const found = readdirSync(debsDir).join(', ');
      throw new ImagesError(`apt-get download ${pkg.name}:${ARCH} did not leave ${debFileName(pkg)} in ${debsDir} (found: ${found})`);
    }
    return file;
  }

  /**
   * Runs `apt-get update` once per build; returns false if it already ran. apt-get may exit 100 when one index
   * fails (a mirror mid-sync) while the rest were fetched, so that is a warning: the caller looks again.
   */
  private update(reason: string): boolean {
    if (this.updated) return false;
    this.updated = true;
    this.log(`${reason}; running apt-get update`);
    const result = runCommand('apt-get', ['update']);
    if (result.status !== 0) this.log(`warning: ${describe('apt-get', ['update'])} exited ${result.status}: ${lastLine(result.stderr)}`);
    return true;
  }
}

/** Unpacks a .deb into `dir` with dpkg-deb -x, unless a previous run finished unpacking it there. */
export function extractDeb(deb: string, dir: string): void {
  const done = join(dir, '.wasmpc-extracted');
  if (existsSync(done)) return;
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  run('dpkg-deb', ['-x', deb, partial]);
  writeFileSync(join(partial, '.wasmpc-extracted'), `${deb}\n`);
  renameSync(partial, dir);
}

/** The name apt-get download gives a package file: the epoch's colon is written %3a. */
export function debFileName(pkg: DebPackage): string {
  return `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}_${ARCH}.deb`;
}

/** The ABI number NN of linux-image-6.1.0-NN-686. */
export function kernelAbi(name: string): number {
  const match = KERNEL_PACKAGE.exec(name);
  if (!match) throw new ImagesError(`${name} is not a linux-image-6.1.0-NN-686 package name`);
  return Number(match[1]);
}

/** The kernel release (`uname -r`, the lib/modules directory) of a linux-image package: `6.1.0-50-686`. */
export function kernelRelease(name: string): string {
  return name.replace(/^linux-image-/, '');
}
