// Which kernel modules the initramfs carries, and in what order /init loads them, from the kernel's own
// dependency data: `depmod` writes modules.dep, and we close over it from a few root modules.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImagesError, findExecutable, run } from './exec';

/**
 * The drivers the guest tests use. GUESTS.md: ext4 needs the crc32c algorithm at mount time and sd_mod's T10 PI
 * needs crct10dif; nothing autoloads them in a bare initramfs, and modules.dep only records symbol
 * dependencies, so they are roots of their own.
 */
export const ROOT_MODULES: readonly string[] = [
  'virtio_pci',
  'virtio_blk',
  'virtio_net',
  'ahci',
  'sd_mod',
  'sr_mod',
  'isofs',
  'ext4',
  'crc32c_generic',
  'crct10dif_generic',
];

/** One line of modules.dep: `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko ...`. */
export interface ModuleEntry {
  /** Path relative to lib/modules/<release>. */
  path: string;
  /** Every module this one needs, directly or not, as paths. */
  deps: string[];
}

/** The modules to carry, in an order where each module follows everything it depends on. */
export interface LoadPlan {
  /** Paths relative to lib/modules/<release>, dependencies first. */
  order: string[];
  /** Roots built into the kernel (listed in modules.builtin): nothing to load. */
  builtin: string[];
}

/** The name the kernel knows a module by: the file's base name without .ko, with '-' read as '_'. */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko$/, '').replace(/-/g, '_');
}

/** Parses modules.dep into a map from module name to its entry. */
export function parseModulesDep(text: string): Map<string, ModuleEntry> {
  const modules = new Map<string, ModuleEntry>();
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new ImagesError(`modules.dep line ${index + 1} has no ':' ("${line}")`);
    const path = line.slice(0, colon);
    const deps = line.slice(colon + 1).split(/\s+/).filter((dep) => dep !== '');
    for (const file of [path, ...deps]) {
      if (!file.endsWith('.ko')) {
        throw new ImagesError(`modules.dep line ${index + 1}: ${file} is not a plain .ko (busybox insmod cannot load compressed modules)`);
      }
    }
    modules.set(moduleName(path), { path, deps });
  }
  return modules;
}

/** The names in modules.builtin (`kernel/drivers/tty/serial/8250/8250.ko` per line). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter((line) => line.trim() !== '').map((line) => moduleName(line.trim())));
}

/**
 * The closure of `roots` over modules.dep, ordered dependencies first (a depth-first post-order, so the order is
 * stable: roots in the order given, each one's dependencies in modules.dep order before it).
 */
export function planLoadOrder(modules: ReadonlyMap<string, ModuleEntry>, builtin: ReadonlySet<string>, roots: readonly string[]): LoadPlan {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: readonly string[]): void => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new ImagesError(`modules.dep has a dependency cycle: ${[...chain, name].join(' -> ')}`);
    const entry = modules.get(name);
    if (entry === undefined) throw new ImagesError(`modules.dep names no module ${name} (needed by ${chain.at(-1) ?? 'the root list'})`);
    state.set(name, 'visiting');
    for (const dep of entry.deps) visit(moduleName(dep), [...chain, name]);
    state.set(name, 'done');
    order.push(entry.path);
  };
  const builtinRoots: string[] = [];
  for (const root of roots) {
    const name = moduleName(root);
    if (!modules.has(name) && builtin.has(name)) builtinRoots.push(name);
    else visit(name, []);
  }
  return { order, builtin: builtinRoots };
}

/** Runs depmod on an unpacked kernel package and plans the load order of `roots` from the modules.dep it writes. */
export function resolveModules(root: string, release: string, roots: readonly string[]): LoadPlan {
  if (findExecutable('depmod') === null) throw new ImagesError('depmod not found: install the Debian package kmod');
  run('depmod', ['-b', root, release]);
  const dir = join(root, 'lib', 'modules', release);
  const builtinFile = join(dir, 'modules.builtin');
  const builtin = existsSync(builtinFile) ? parseModulesBuiltin(readFileSync(builtinFile, 'utf8')) : new Set<string>();
  return planLoadOrder(parseModulesDep(readFileSync(join(dir, 'modules.dep'), 'utf8')), builtin, roots);
}
