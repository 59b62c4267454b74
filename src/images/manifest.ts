// images/debian-i686/manifest.json: what was built from what, so a second run can tell that nothing changed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Bump when the layout of the manifest or of the images changes, so older images get rebuilt. */
export const MANIFEST_FORMAT = 1;

export interface OutputFile {
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: number;
  /** sha256 of everything besides the packages that shapes the initrd: /init, the module roots, the format. */
  recipe: string;
  kernel: { package: string; version: string; release: string };
  busybox: { package: string; version: string };
  /** Modules in the initramfs, in load order (paths under /lib/modules/<release>). */
  modules: string[];
  /** Roots found built into the kernel rather than as modules. */
  builtinModules: string[];
  files: { vmlinuz: OutputFile; initrd: OutputFile };
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function describeFile(path: string): OutputFile {
  const data = readFileSync(path);
  return { bytes: data.length, sha256: sha256(data) };
}

/**
 * Why the images at these paths need building, or null when the manifest says they are current: same recipe
 * and format, and both files present with the recorded size and hash.
 */
export function staleReason(manifestPath: string, files: { vmlinuz: string; initrd: string }, recipe: string): string | null {
  if (!existsSync(manifestPath)) return `${basename(manifestPath)} is missing`;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (error) {
    return `${manifestPath} is not valid JSON (${(error as Error).message})`;
  }
  if (manifest.format !== MANIFEST_FORMAT) return `manifest format ${String(manifest.format)} is not ${MANIFEST_FORMAT}`;
  if (manifest.recipe !== recipe) return 'the /init script or module roots changed';
  for (const key of ['vmlinuz', 'initrd'] as const) {
    const path = files[key];
    const expected = manifest.files?.[key];
    if (!existsSync(path)) return `${path} is missing`;
    if (expected === undefined) return `the manifest records no ${key}`;
    const actual = describeFile(path);
    if (actual.sha256 !== expected.sha256) return `${path} does not match the sha256 in the manifest`;
  }
  return null;
}

export function readManifest(path: string): Manifest {
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** Writes the manifest last and atomically: its presence means the images beside it are complete. */
export function writeManifest(path: string, manifest: Manifest): void {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
