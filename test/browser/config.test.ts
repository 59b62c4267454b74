// The page's query string: what machine ?kernel=&initrd=&append=&mem=&disk=&cdrom=&config=&net= asks for, the default
// guest without a kernel, and the one line for each mistake.
import { describe, expect, it } from 'vitest';
import { bootRequestFromQuery, configUrl, type ConfigFile } from '../../src/browser/config';
import { ConfigError } from '../../src/machine/config';
import type { BootRequest } from '../../src/browser/protocol';

const PAGE = 'http://127.0.0.1:8080/index.html';
const MiB = 1024 * 1024;

function ok(search: string, file?: ConfigFile): BootRequest {
  const r = bootRequestFromQuery(search, PAGE, file);
  if (r instanceof ConfigError) throw new Error(r.message);
  return r;
}

function err(search: string, file?: ConfigFile): string {
  const r = bootRequestFromQuery(search, PAGE, file);
  if (!(r instanceof ConfigError)) throw new Error(`accepted: ${search}`);
  return r.message;
}

describe('bootRequestFromQuery', () => {
  it('boots the default guest beside the page with its console on COM1 when the query is empty', () => {
    const r = ok('');
    expect(r.kernel).toBe('http://127.0.0.1:8080/images/debian-i686/vmlinuz');
    expect(r.initrd).toBe('http://127.0.0.1:8080/images/debian-i686/initrd.img');
    expect(r.append).toBe('console=ttyS0');
    expect(r.core).toBe('http://127.0.0.1:8080/core.wasm');
    expect(r.config.memoryBytes).toBe(256 * MiB);
    expect(r.config.slots.map((s) => s.emulation)).toEqual(['hostbridge', 'lpc']);
    expect(r.config.serial).toEqual({ com1: { kind: 'stdio' } });
  });

  it('gives the default guest another command line and memory size', () => {
    const r = ok(`?append=${encodeURIComponent('console=ttyS0 wasmpc.run="uname -m"')}&mem=512M`);
    expect(r.append).toBe('console=ttyS0 wasmpc.run="uname -m"');
    expect(r.config.memoryBytes).toBe(512 * MiB);
    expect(r.kernel).toMatch(/debian-i686\/vmlinuz$/);
  });

  it('resolves kernel and initrd URLs against the page and boots a kernel without an initrd', () => {
    const r = ok('?kernel=guests/bzImage&initrd=https://example.org/rd.gz');
    expect(r.kernel).toBe('http://127.0.0.1:8080/guests/bzImage');
    expect(r.initrd).toBe('https://example.org/rd.gz');
    expect(r.append).toBe('');
    const bare = ok('?kernel=k');
    expect(bare.initrd).toBeUndefined();
  });

  it('takes an empty parameter as no parameter', () => {
    expect(ok('?kernel=&initrd=').kernel).toMatch(/debian-i686\/vmlinuz$/);
  });

  it('adds a user-mode virtio-net NIC for ?net= and none without it', () => {
    const r = ok('?net=ws://127.0.0.1:8081&disk=d.img');
    expect(r.net).toBe('ws://127.0.0.1:8081');
    const nic = r.config.slots.find((s) => s.emulation === 'virtio-net');
    expect(nic).toMatchObject({ slot: 3, backend: { kind: 'user', hostfwd: [], restrict: false } });
    expect(r.config.slots.find((s) => s.emulation === 'virtio-blk')?.slot).toBe(4);
    expect(ok('').net).toBeUndefined();
    expect(ok('').config.slots.some((s) => s.emulation === 'virtio-net')).toBe(false);
    expect(err('?net=http://127.0.0.1:8081')).toMatch(/^\?net=http:\/\/127\.0\.0\.1:8081: must be a ws:\/\/ or wss:\/\/ URL/);
    expect(err('?net=relay')).toMatch(/^\?net=relay: is not a URL/);
  });

  it('names the parameter and its value in each mistake', () => {
    expect(err('?mem=4G')).toBe('?mem=4G: must be at most 3584M (3.5G): RAM ends below the PCI hole');
    expect(err('?mem=lots')).toMatch(/^\?mem=lots: must be a size/);
    expect(err('?kernal=x')).toBe('?kernal=: not a parameter (parameters: kernel, initrd, append, mem, disk, cdrom, config, net)');
    expect(err('?kernel=http://[')).toBe('?kernel=http://[: is not a URL');
    expect(err('?initrd=rd.gz')).toBe('query: an initrd needs a kernel (the default guest brings its own)');
  });

  it('puts each ?disk= on virtio-blk and each ?cdrom= on an AHCI CD drive, from slot 3, as URLs against the page', () => {
    const r = ok('?disk=disks/a.qcow2&disk=https://example.org/b.img&cdrom=install.iso');
    expect(r.config.slots.slice(2)).toEqual([
      { slot: 3, func: 0, emulation: 'virtio-blk', path: 'http://127.0.0.1:8080/disks/a.qcow2', ro: false, snapshot: false },
      { slot: 4, func: 0, emulation: 'virtio-blk', path: 'https://example.org/b.img', ro: false, snapshot: false },
      { slot: 5, func: 0, emulation: 'ahci-cd', path: 'http://127.0.0.1:8080/install.iso' },
    ]);
  });

  it('reads ?config= with its paths relative to the config, under the other parameters', () => {
    expect(configUrl('?config=vms/a.json', PAGE)).toBe('http://127.0.0.1:8080/vms/a.json');
    expect(configUrl('', PAGE)).toBeUndefined();
    const file: ConfigFile = {
      url: 'http://127.0.0.1:8080/vms/a.json',
      json: {
        memory: '128M', kernel: 'bzImage', append: 'console=ttyS0 quiet',
        slots: [{ slot: 3, emulation: 'virtio-blk', path: 'root.qcow2', ro: true }, { slot: 5, emulation: 'ahci', ports: [{ type: 'cd' }, { type: 'hd', path: '/data.img' }] }],
      },
    };
    const r = ok('?mem=64M&disk=extra.img', file);
    expect(r.kernel).toBe('http://127.0.0.1:8080/vms/bzImage');
    expect(r.append).toBe('console=ttyS0 quiet');
    expect(r.config.memoryBytes).toBe(64 * MiB);
    expect(r.config.slots.slice(2)).toEqual([
      { slot: 3, func: 0, emulation: 'virtio-blk', path: 'http://127.0.0.1:8080/vms/root.qcow2', ro: true, snapshot: false },
      { slot: 4, func: 0, emulation: 'virtio-blk', path: 'http://127.0.0.1:8080/extra.img', ro: false, snapshot: false },
      { slot: 5, func: 0, emulation: 'ahci', ports: [{ type: 'cd' }, { type: 'hd', path: 'http://127.0.0.1:8080/data.img' }] },
    ]);
    expect(err('', { url: file.url, json: { slots: [{ slot: 40, emulation: 'virtio-blk', path: 'x' }] } }))
      .toBe('?config=http://127.0.0.1:8080/vms/a.json: slots[0].slot: must be 0-31');
  });
});
