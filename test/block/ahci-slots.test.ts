// `-s SLOT,ahci,...`, `ahci-hd` and `ahci-cd` on the command line and in vm.json, and what `wasmpc run` says
// about an image it cannot open.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunArgs, parseSlotFlag } from '../../src/node/args';
import { configToJson, validateConfig, type MachineConfig } from '../../src/machine/config';
import { packageRoot } from '../../src/node/core-module';
import { itWhen } from '../images/host-tools';
import { tempDir } from './qemu-img';

let dir = '';
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  for (const f of ['a.img', 'b.img', 'cd.iso']) writeFileSync(join(dir, f), new Uint8Array(1 << 20));
});
afterEach(() => cleanup());
const f = (name: string) => join(dir, name);

function config(...argv: string[]): MachineConfig {
  const r = parseRunArgs(argv);
  if (r.kind !== 'run') throw new Error(r.kind === 'error' ? r.message : 'help');
  return r.config;
}

function usage(...argv: string[]): string {
  const r = parseRunArgs(argv);
  if (r.kind !== 'error') throw new Error(`accepted ${argv.join(' ')}`);
  return r.message;
}

describe('-s SLOT,ahci,...', () => {
  it('gives each hd: and cd: a port, in order, with the options that follow it (bhyve style)', () => {
    expect(parseSlotFlag('4,ahci,hd:disk.img,cd:install.iso')).toEqual({
      slot: 4, func: 0, emulation: 'ahci', ports: [{ type: 'hd', path: 'disk.img' }, { type: 'cd', path: 'install.iso' }],
    });
    expect(parseSlotFlag('4,ahci,hd:a.qcow2,snapshot,format=qcow2,hd:b.img,ro,cd:x.iso,format=raw')).toEqual({
      slot: 4, func: 0, emulation: 'ahci', ports: [
        { type: 'hd', path: 'a.qcow2', snapshot: true, format: 'qcow2' },
        { type: 'hd', path: 'b.img', ro: true },
        { type: 'cd', path: 'x.iso', format: 'raw' },
      ],
    });
  });

  it('takes cd: with no path as an empty drive', () => {
    expect(parseSlotFlag('4,ahci,cd:')).toEqual({ slot: 4, func: 0, emulation: 'ahci', ports: [{ type: 'cd' }] });
    expect(config('-s', `4,ahci,hd:${f('a.img')},cd:`).slots.find((s) => s.slot === 4)).toEqual({
      slot: 4, func: 0, emulation: 'ahci', ports: [{ type: 'hd', path: f('a.img') }, { type: 'cd' }],
    });
  });

  it('has the shorthands ahci-hd (with options) and ahci-cd', () => {
    expect(parseSlotFlag('4,ahci-hd,disk.img')).toEqual({ slot: 4, func: 0, emulation: 'ahci-hd', path: 'disk.img' });
    expect(parseSlotFlag('4,ahci-hd,disk.qcow2,ro,format=qcow2')).toEqual({
      slot: 4, func: 0, emulation: 'ahci-hd', path: 'disk.qcow2', ro: true, format: 'qcow2',
    });
    expect(parseSlotFlag('5,ahci-cd,image.iso')).toEqual({ slot: 5, func: 0, emulation: 'ahci-cd', path: 'image.iso' });
  });

  it('takes format= on virtio-blk too', () => {
    expect(parseSlotFlag('3,virtio-blk,d.img,format=raw')).toMatchObject({ emulation: 'virtio-blk', path: 'd.img', format: 'raw' });
  });

  it('refuses bad ports and options with one line', () => {
    expect(usage('-s', '4,ahci,hd:')).toBe("wasmpc: -s 4,ahci,hd:: ahci port 'hd:' must be hd:PATH or cd:PATH");
    expect(usage('-s', '4,ahci,ro,hd:a.img')).toBe("wasmpc: -s 4,ahci,ro,hd:a.img: ahci port 'ro' must be hd:PATH or cd:PATH");
    expect(usage('-s', '4,ahci,hd:a.img,nocache')).toBe("wasmpc: -s 4,ahci,hd:a.img,nocache: ahci port 'nocache' must be hd:PATH or cd:PATH");
    expect(usage('-s', '4,ahci,hd:a.img,format=vmdk')).toMatch(/format must be raw or qcow2 \(got 'vmdk'\)/);
    expect(usage('-s', '4,ahci-hd,a.img,sync')).toBe("wasmpc: -s 4,ahci-hd,a.img,sync: unknown ahci-hd option 'sync' (ahci-hd,PATH[,ro][,snapshot][,format=raw|qcow2])");
    expect(usage('-s', `4,ahci,hd:${f('nope.img')}`)).toBe(`wasmpc: -s 4,ahci,hd:${f('nope.img')}: cannot open ${f('nope.img')} for writing (ENOENT)`);
  });

  it('opens snapshot and ro disks, and CDs, read-only when checking them', () => {
    spawnSync('chmod', ['a-w', f('b.img')]);
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) expect(usage('-s', `4,ahci,hd:${f('b.img')}`)).toMatch(/for writing \(EACCES\)/);
    expect(config('-s', `4,ahci,hd:${f('b.img')},snapshot,cd:${f('cd.iso')}`).slots).toHaveLength(3);
    expect(config('-s', `4,ahci-hd,${f('b.img')},ro`).slots).toHaveLength(3);
  });

  it('maps one to one onto vm.json and back', () => {
    const c = config('-s', `4,ahci,hd:${f('a.img')},snapshot,format=raw,cd:`, '-s', `5,ahci-hd,${f('b.img')},ro`, '-s', `6,virtio-blk,${f('a.img')},format=qcow2`);
    const json = configToJson(c);
    expect(json.slots).toContainEqual({ slot: 4, func: 0, emulation: 'ahci', ports: [{ type: 'hd', path: f('a.img'), snapshot: true, format: 'raw' }, { type: 'cd' }] });
    expect(validateConfig(json)).toEqual(c);
    expect(validateConfig({ slots: [{ slot: 4, emulation: 'ahci', ports: [{ type: 'hd' }] }] }, 'vm.json')).toMatchObject({
      message: 'vm.json: slots[0].ports[0].path: is required',
    });
    expect(validateConfig({ slots: [{ slot: 4, emulation: 'ahci', ports: [{ type: 'cd', path: 'x', format: 'iso' }] }] }, 'vm.json')).toMatchObject({
      message: "vm.json: slots[0].ports[0].format: must be raw or qcow2 (got 'iso')",
    });
  });
});

describe('wasmpc run with an image that does not open', () => {
  const root = packageRoot();
  const cli = join(root, 'build', 'node', 'wasmpc.js');
  const kernel = join(root, 'images', 'debian-i686', 'vmlinuz');
  const missing = [existsSync(cli) ? null : 'build/node/wasmpc.js is missing (npm run build)', existsSync(kernel) ? null : 'the Debian guest is missing (npm run images)'];

  itWhen(missing, 'exits with status 2 and one line naming the slot and the problem', () => {
    const bad = f('bad.qcow2');
    const header = new Uint8Array(512);
    header.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]);
    writeFileSync(bad, header);
    for (const [slot, message] of [
      [`4,ahci,hd:${bad}`, /^wasmpc: -s 4:0,ahci,hd:.*bad\.qcow2: .*bad\.qcow2: not a usable qcow2 image: version 9/],
      [`3,virtio-blk,${bad}`, /^wasmpc: -s 3:0,virtio-blk,.*bad\.qcow2: .*version 9/],
    ] as const) {
      const r = spawnSync(process.execPath, [cli, 'run', '--kernel', kernel, '-s', slot], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
