// Bundles the browser page into build/web with esbuild: page.js (the page, an ES module), worker.js (the
// machine's Worker), index.html, the styles (ours and xterm.js's) and the core (build/core.wasm).
// Platform 'browser' refuses node: imports, so nothing Node-only can slip into the page.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const out = 'build/web';
if (!existsSync('build/core.wasm')) {
  console.error('build-web: build/core.wasm is missing; run `npm run build:core` first');
  process.exit(1);
}
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { page: 'src/browser/page.ts' }, outdir: out, format: 'esm' });
await build({ ...common, entryPoints: { worker: 'src/browser/worker.ts' }, outdir: out, format: 'iife' });

for (const [from, to] of [
  ['src/browser/index.html', 'index.html'],
  ['src/browser/style.css', 'style.css'],
  ['node_modules/@xterm/xterm/css/xterm.css', 'xterm.css'],
  ['build/core.wasm', 'core.wasm'],
]) copyFileSync(from, `${out}/${to}`);
