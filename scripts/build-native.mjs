// Builds the native addons in native/ into build/native with the system C compiler and Node's own headers: no
// node-gyp and nothing downloaded. An addon is optional: where no compiler or no headers exist the build says
// so and succeeds, and the feature that needs it (the tap network backend) reports itself unavailable.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const addons = [{ name: 'tap', sources: ['native/tap.c'], platforms: ['linux'] }];

/** Where node_api.h is: next to this Node (official tarballs, nvm) or Debian's /usr/include/node. */
function nodeIncludeDir() {
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

const cc = process.env.CC || 'cc';
const include = nodeIncludeDir();
mkdirSync('build/native', { recursive: true });
for (const a of addons) {
  const out = join('build', 'native', `${a.name}.node`);
  if (!a.platforms.includes(process.platform)) continue;
  if (!include) {
    console.warn(`build-native: ${a.name} not built: Node's headers (node_api.h) were not found (Debian: apt-get install libnode-dev)`);
    continue;
  }
  try {
    execFileSync(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-pthread', `-I${include}`, '-o', out, ...a.sources], { stdio: 'inherit' });
  } catch (e) {
    console.warn(`build-native: ${a.name} not built: ${cc} failed (${e.message.split('\n')[0]})`);
  }
}
