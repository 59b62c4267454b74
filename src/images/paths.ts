// Where the image builder keeps things: images/ at the repository root (git-ignored).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ImagePaths {
  /** images/ */
  root: string;
  /** images/debian-i686: what emulators boot. */
  guest: string;
  vmlinuz: string;
  initrd: string;
  manifest: string;
  /** images/cache: downloaded packages and their unpacked trees, kept between runs. */
  cache: string;
  debs: string;
}

export function imagePaths(repo: string): ImagePaths {
  const root = join(repo, 'images');
  const guest = join(root, 'debian-i686');
  const cache = join(root, 'cache');
  return {
    root,
    guest,
    vmlinuz: join(guest, 'vmlinuz'),
    initrd: join(guest, 'initrd.img'),
    manifest: join(guest, 'manifest.json'),
    cache,
    debs: join(cache, 'debs'),
  };
}

/** The wasmpc checkout this code runs from: the nearest directory above it whose package.json is wasmpc's. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'wasmpc') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no wasmpc package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
