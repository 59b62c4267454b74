// Bundles the host-side TypeScript entry points into build/node with esbuild (Node ESM, source maps).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entries = {
  wasmpc: 'src/node/wasmpc.ts',
  images: 'src/images/main.ts',
  bench: 'bench/main.ts',
};
const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));

await build({
  entryPoints,
  outdir: 'build/node',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  packages: 'external',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
