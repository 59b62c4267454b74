// `wasmpc img create|info|convert`, checked against Debian's qemu-img: what we create it accepts and reads as
// we meant, and what we convert it reads back byte for byte.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itWhen } from '../images/host-tools';
import { imgMain, parseImageSize } from '../../src/node/img';
import { expectClean, noQemuImg, pattern, qemuImg, qemuRaw, tempDir, writeRaw } from '../block/qemu-img';

const MiB = 1 << 20;
let dir = '';
let cleanup = () => {};
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => { cleanup(); vi.restoreAllMocks(); });

/** Run `wasmpc img ARGS` in-process; returns the exit status and what it printed. */
async function img(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  const status = await imgMain(args);
  vi.restoreAllMocks();
  return { status, out, err };
}

const p = (name: string) => join(dir, name);

describe('wasmpc img create', () => {
  itWhen([noQemuImg], 'makes a qcow2 image that qemu-img checks clean and reads as zeros', async () => {
    expect((await img('create', '-f', 'qcow2', p('a.qcow2'), '64M')).status).toBe(0);
    expectClean(p('a.qcow2'));
    const info = qemuImg('info', '--output', 'json', p('a.qcow2'));
    const j = JSON.parse(info.out) as Record<string, unknown>;
    expect(j).toMatchObject({ format: 'qcow2', 'virtual-size': 64 * MiB, 'cluster-size': 65536 });
    expect((j['format-specific'] as { data: { compat: string } }).data.compat).toBe('1.1');
    expect(qemuRaw(dir, p('a.qcow2')).every((b) => b === 0)).toBe(true);
  });

  itWhen([noQemuImg], 'makes v2 images and other cluster sizes with -o', async () => {
    expect((await img('create', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4k', p('b.qcow2'), '3G')).status).toBe(0);
    expectClean(p('b.qcow2'));
    const j = JSON.parse(qemuImg('info', '--output', 'json', p('b.qcow2')).out) as Record<string, unknown>;
    expect(j).toMatchObject({ 'virtual-size': 3 * 2 ** 30, 'cluster-size': 4096 });
    expect((j['format-specific'] as { data: { compat: string } }).data.compat).toBe('0.10');
  });

  itWhen([noQemuImg], 'makes an overlay with -b, relative to the new image, that qemu-img reads through', async () => {
    const base = writeRaw(p('base.raw'), 2 * MiB, 21);
    expect((await img('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', p('ov.qcow2'))).status).toBe(0);
    expectClean(p('ov.qcow2'));
    const j = JSON.parse(qemuImg('info', '--output', 'json', p('ov.qcow2')).out) as Record<string, unknown>;
    expect(j).toMatchObject({ 'virtual-size': 2 * MiB, 'backing-filename': 'base.raw', 'backing-filename-format': 'raw' });
    expect(Buffer.from(qemuRaw(dir, p('ov.qcow2'))).equals(Buffer.from(base))).toBe(true);
    // -F is detected when not given.
    expect((await img('create', '-f', 'qcow2', '-b', 'ov.qcow2', p('top.qcow2'))).status).toBe(0);
    expect(JSON.parse(qemuImg('info', '--output', 'json', p('top.qcow2')).out)).toMatchObject({ 'backing-filename-format': 'qcow2' });
  });

  it('makes a sparse raw file of the size asked, rounded up to 512', async () => {
    expect((await img('create', p('r.raw'), '1000')).status).toBe(0);
    expect(readFileSync(p('r.raw')).length).toBe(1024);
  });

  it('refuses bad input with one line and status 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['create', p('x.qcow2')], /a SIZE is needed without -b/],
      [['create', '-f', 'vmdk', p('x'), '1M'], /-f: unknown image format 'vmdk'/],
      [['create', '-f', 'qcow2', p('x'), '12Q'], /invalid size '12Q'/],
      [['create', '-f', 'qcow2', '-o', 'cluster_size=3000', p('x'), '1M'], /cluster_size must be a power of two/],
      [['create', '-f', 'qcow2', '-b', 'missing.raw', p('x')], /backing file missing\.raw: cannot open .*ENOENT/],
      [['create', '-b', 'base.raw', p('x')], /-b and -o need -f qcow2/],
      [['info', p('nothing')], /cannot open .*nothing: no such file/],
      [['convert', p('nothing'), p('out')], /cannot open/],
      [['convert', '-Z', 'a', 'b'], /unknown option '-Z'/],
      [['frob'], /unknown verb 'frob'/],
    ];
    for (const [args, message] of cases) {
      const r = await img(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('reads sizes as qemu-img does', () => {
    expect(parseImageSize('512')).toBe(512);
    expect(parseImageSize('1k')).toBe(1024);
    expect(parseImageSize('1.5M')).toBe(1.5 * MiB);
    expect(parseImageSize('2G')).toBe(2 * 2 ** 30);
    expect(parseImageSize('1')).toBe(512);
  });
});

describe('wasmpc img info', () => {
  itWhen([noQemuImg], 'prints format, virtual size, cluster size and backing file', async () => {
    writeRaw(p('base.raw'), MiB, 1);
    expect(qemuImg('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', p('ov.qcow2')).status).toBe(0);
    const r = await img('info', p('ov.qcow2'));
    expect(r.status).toBe(0);
    expect(r.out).toContain('file format: qcow2');
    expect(r.out).toContain('virtual size: 1 MiB (1048576 bytes)');
    expect(r.out).toContain('cluster_size: 65536');
    expect(r.out).toContain('backing file: base.raw');
    expect(r.out).toContain('backing file format: raw');
    const raw = await img('info', p('base.raw'));
    expect(raw.out).toContain('file format: raw');
    expect(raw.out).toContain('virtual size: 1 MiB (1048576 bytes)');
    // The header alone: an overlay whose backing file is gone still has its info.
    writeFileSync(p('base.raw'), '');
    expect((await img('info', p('ov.qcow2'))).status).toBe(0);
  });
});

describe('wasmpc img convert', () => {
  itWhen([noQemuImg], 'flattens a qcow2 overlay with compressed clusters to raw and to qcow2', async () => {
    const base = writeRaw(p('base.raw'), 3 * MiB, 31);
    const text = new Uint8Array(3 * MiB);
    for (let i = 0; i < text.length; i++) text[i] = 48 + (i % 10);
    writeFileSync(p('text.raw'), text);
    expect(qemuImg('convert', '-c', '-O', 'qcow2', p('text.raw'), p('c.qcow2')).status).toBe(0);
    expect(qemuImg('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', p('ov.qcow2')).status).toBe(0);
    const patch = pattern(100 * 1024, 5);
    for (const [src, expected] of [[p('c.qcow2'), text], [p('ov.qcow2'), base]] as const) {
      expect((await img('convert', '-O', 'raw', src, p('out.raw'))).status).toBe(0);
      expect(Buffer.from(readFileSync(p('out.raw'))).equals(Buffer.from(expected))).toBe(true);
      expect((await img('convert', '-f', 'qcow2', '-O', 'qcow2', src, p('out.qcow2'))).status).toBe(0);
      expectClean(p('out.qcow2'));
      expect(Buffer.from(qemuRaw(dir, p('out.qcow2'))).equals(Buffer.from(expected))).toBe(true);
    }
    // raw to qcow2 and back.
    writeFileSync(p('p.raw'), patch);
    expect((await img('convert', '-O', 'qcow2', p('p.raw'), p('p.qcow2'))).status).toBe(0);
    expectClean(p('p.qcow2'));
    expect((await img('convert', p('p.qcow2'), p('back.raw'))).status).toBe(0);
    expect(readFileSync(p('back.raw')).equals(Buffer.from(patch))).toBe(true);
  });
});
