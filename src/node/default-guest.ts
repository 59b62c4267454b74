// The default guest (images/debian-i686), built by `npm run images` when it is missing: `wasmpc run` boots it
// and `wasmpc serve` serves it to the browser.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { packageRoot } from './core-module';
import { imagePaths } from '../images/paths';

/** The default guest's folder, kernel and initrd; builds them first (output on stderr) when missing. */
export function defaultGuest(): { dir: string; kernel: string; initrd: string } {
  const paths = imagePaths(packageRoot());
  if (!existsSync(paths.vmlinuz) || !existsSync(paths.initrd)) {
    process.stderr.write('wasmpc: the default guest is missing; building it with `npm run images`\n');
    const r = spawnSync(process.execPath, [join(packageRoot(), 'build', 'node', 'images.js')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building the default guest failed (see above)');
  }
  return { dir: paths.guest, kernel: paths.vmlinuz, initrd: paths.initrd };
}
