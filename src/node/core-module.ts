// Node side of loading the core: find build/core.wasm beside the package and compile it once.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this file holding wasmpc's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'wasmpc') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('wasmpc: cannot find the package root (package.json named wasmpc)');
    dir = up;
  }
}

const cache = new Map<string, WebAssembly.Module>();

/** The compiled core: `release` (-O3) or `debug` (assertions, source map). */
export function loadCoreModule(flavour: 'release' | 'debug' = 'release'): WebAssembly.Module {
  const file = join(packageRoot(), 'build', flavour === 'release' ? 'core.wasm' : 'core.debug.wasm');
  let m = cache.get(file);
  if (!m) {
    if (!existsSync(file)) throw new Error(`wasmpc: ${file} is missing; run \`npm run build\` first`);
    m = new WebAssembly.Module(readFileSync(file));
    cache.set(file, m);
  }
  return m;
}
