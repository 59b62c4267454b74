// `npm run images`: builds images/debian-i686 (vmlinuz, initrd.img, manifest.json) from stock Debian 12 i386
// packages. Exit status: 0 built or already current, 1 failed (one line on stderr), 2 this host cannot build.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AptSource, checkHostTools, extractDeb, installHostPackage, kernelRelease, type DebPackage } from './debian';
import { HostUnsupportedError, ImagesError, findExecutable } from './exec';
import { initScript } from './init-script';
import { buildInitrd } from './initramfs';
import { buildGuestTools, guestToolSources } from './guest-tools';
import { MANIFEST_FORMAT, describeFile, readManifest, sha256, staleReason, writeManifest, type Manifest } from './manifest';
import { ROOT_MODULES, resolveModules } from './modules';
import { imagePaths, repoRoot, type ImagePaths } from './paths';

const USAGE = `usage: npm run images [-- --force]

Builds images/debian-i686/{vmlinuz,initrd.img,manifest.json} from Debian 12 i386 packages
(linux-image-6.1.0-NN-686, busybox-static) fetched with apt-get into images/cache/.
  --force   rebuild even if manifest.json says the images are current`;

const BUSYBOX_PACKAGE = 'busybox-static';

function log(message: string): void {
  process.stderr.write(`wasmpc images: ${message}\n`);
}

/** What decides the initrd besides the packages; a change to any of it makes the manifest stale. */
function recipe(): string {
  return sha256(JSON.stringify({ format: MANIFEST_FORMAT, init: initScript(), roots: ROOT_MODULES, tools: guestToolSources(repoRoot()) }));
}

function build(paths: ImagePaths, repo: string): Manifest {
  checkHostTools();
  if (findExecutable('depmod') === null) installHostPackage('kmod', 'depmod', log);
  const apt = new AptSource(log);
  apt.enableI386();
  const kernel = apt.newestKernel();
  const busybox: DebPackage = { name: BUSYBOX_PACKAGE, version: apt.candidate(BUSYBOX_PACKAGE) };
  const kernelRoot = unpack(apt, kernel, paths);
  const busyboxRoot = unpack(apt, busybox, paths);

  const release = kernelRelease(kernel.name);
  const bzImage = join(kernelRoot, 'boot', `vmlinuz-${release}`);
  if (!existsSync(bzImage)) throw new ImagesError(`${kernel.name} ${kernel.version} has no boot/vmlinuz-${release}`);
  const busyboxBinary = join(busyboxRoot, 'bin', 'busybox');
  if (!existsSync(busyboxBinary)) throw new ImagesError(`${BUSYBOX_PACKAGE} ${busybox.version} has no bin/busybox`);

  log(`resolving modules with depmod for ${release}`);
  const plan = resolveModules(kernelRoot, release, ROOT_MODULES);
  const moduleDir = join(kernelRoot, 'lib', 'modules', release);
  log('building the guest tools (tools/guest: lspci, eject)');
  const tools = buildGuestTools(repo, log);
  const initrd = buildInitrd({
    busybox: readFileSync(busyboxBinary),
    tools,
    release,
    modules: plan.order.map((path) => ({ path, data: readFileSync(join(moduleDir, path)) })),
  });

  mkdirSync(paths.guest, { recursive: true });
  rmSync(paths.manifest, { force: true });
  copyFileSync(bzImage, `${paths.vmlinuz}.tmp`);
  renameSync(`${paths.vmlinuz}.tmp`, paths.vmlinuz);
  writeFileSync(`${paths.initrd}.tmp`, initrd);
  renameSync(`${paths.initrd}.tmp`, paths.initrd);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    recipe: recipe(),
    kernel: { package: kernel.name, version: kernel.version, release },
    busybox: { package: BUSYBOX_PACKAGE, version: busybox.version },
    modules: plan.order,
    builtinModules: plan.builtin,
    files: { vmlinuz: describeFile(paths.vmlinuz), initrd: describeFile(paths.initrd) },
  };
  writeManifest(paths.manifest, manifest);
  log(`wrote ${relative(repo, paths.guest)}: vmlinuz ${mib(manifest.files.vmlinuz.bytes)}, initrd.img ${mib(manifest.files.initrd.bytes)} with ${plan.order.length} modules`);
  return manifest;
}

/** Downloads and unpacks one package into images/cache/roots/<name>_<version>. */
function unpack(apt: AptSource, pkg: DebPackage, paths: ImagePaths): string {
  const deb = apt.download(pkg, paths.debs);
  const root = join(paths.cache, 'roots', `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}`);
  extractDeb(deb, root);
  return root;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function main(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = argv.filter((arg) => arg !== '--force');
  if (unknown.length > 0) {
    process.stderr.write(`wasmpc images: unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 1;
  }
  const repo = repoRoot();
  const paths = imagePaths(repo);
  const guest = relative(repo, paths.guest);
  try {
    if (!argv.includes('--force')) {
      const reason = staleReason(paths.manifest, paths, recipe());
      if (reason === null) {
        const manifest = readManifest(paths.manifest);
        log(`${guest} is up to date (${manifest.kernel.package} ${manifest.kernel.version}, ${manifest.busybox.package} ${manifest.busybox.version}); nothing to do`);
        return 0;
      }
      log(`building ${guest}: ${reason}`);
    }
    const manifest = build(paths, repo);
    log(`done: ${manifest.kernel.package} ${manifest.kernel.version}, ${manifest.busybox.package} ${manifest.busybox.version}`);
    return 0;
  } catch (error) {
    if (error instanceof HostUnsupportedError) {
      process.stderr.write(`wasmpc images: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`wasmpc images: ${message.split('\n')[0]}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
