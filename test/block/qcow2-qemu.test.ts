// qcow2 interoperability with Debian's qemu-img: what qemu-img writes we read, and what we write qemu-img
// checks clean and reads back as we wrote it.
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itWhen } from '../images/host-tools';
import { openDiskImage } from '../../src/node/block-image';
import type { DiskImage } from '../../src/block/image';
import { expectClean, noQemuImg, pattern, qemuImg, qemuIo, qemuRaw, tempDir, writeRaw } from './qemu-img';

const MiB = 1 << 20;
let dir = '';
let cleanup = () => {};
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

async function readAll(img: DiskImage): Promise<Uint8Array> {
  const out = new Uint8Array(img.size);
  for (let at = 0; at < img.size; at += MiB) await img.read(at, out.subarray(at, Math.min(img.size, at + MiB)));
  return out;
}

function mustRun(...args: string[]): void {
  const r = qemuImg(...args);
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')}: ${r.out}`);
}

/** A fixed mix of writes: sector-sized, cluster-crossing, large, and at both ends of the disk. */
async function scribble(img: DiskImage, model: Uint8Array, seed: number): Promise<void> {
  const writes: Array<[number, number]> = [
    [0, 512], [4096, 8192], [65536 - 1024, 4096], [3 * MiB + 512, 200 * 1024], [model.length - 4096, 4096],
    [MiB, MiB], [7 * 512, 512], [2 * MiB - 512, 1024],
  ];
  let s = seed;
  for (const [at, len] of writes) {
    if (at + len > model.length) continue;
    const data = pattern(len, s++);
    await img.write(at, data);
    model.set(data, at);
  }
}

describe('qcow2 images made by qemu-img', () => {
  for (const [label, opts] of [['v3, 64 KiB clusters', []], ['v2 (compat=0.10)', ['-o', 'compat=0.10']], ['v3, 512-byte clusters', ['-o', 'cluster_size=512']]] as const) {
    itWhen([noQemuImg], `read as the raw data they were converted from (${label})`, async () => {
      const raw = join(dir, 'src.raw');
      const data = writeRaw(raw, 4 * MiB, 7);
      const q = join(dir, 'img.qcow2');
      mustRun('convert', '-f', 'raw', '-O', 'qcow2', ...opts, raw, q);
      const img = await openDiskImage(q, { readOnly: true });
      expect(img.format).toBe('qcow2');
      expect(img.size).toBe(4 * MiB);
      expect(Buffer.from(await readAll(img)).equals(Buffer.from(data))).toBe(true);
      await img.close();
    });
  }

  itWhen([noQemuImg], 'read compressed clusters written by qemu-img convert -c', async () => {
    const raw = join(dir, 'src.raw');
    // Text-like data that deflate shrinks, so qemu-img really stores compressed clusters.
    const data = new Uint8Array(3 * MiB);
    for (let i = 0; i < data.length; i++) data[i] = 97 + ((i * 7 + (i >> 9)) % 23);
    writeFileSync(raw, data);
    const q = join(dir, 'c.qcow2');
    mustRun('convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, q);
    expect(readFileSync(q).length).toBeLessThan(data.length / 4);
    const img = await openDiskImage(q, { readOnly: true });
    expect(Buffer.from(await readAll(img)).equals(Buffer.from(data))).toBe(true);
    // Unaligned pieces of one compressed cluster.
    const piece = new Uint8Array(512);
    await img.read(65536 + 1536, piece);
    expect(Buffer.from(piece).equals(Buffer.from(data.subarray(65536 + 1536, 65536 + 2048)))).toBe(true);
    await img.close();
  });

  itWhen([noQemuImg], 'read zero clusters (v3) as zeros over a backing file', async () => {
    const base = join(dir, 'base.raw');
    writeFileSync(base, pattern(2 * MiB, 3));
    const q = join(dir, 'ov.qcow2');
    mustRun('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', q);
    qemuIo(q, 'qcow2', 'write -z 0 64k', 'write -P 0x55 128k 64k');
    const img = await openDiskImage(q, { readOnly: true });
    const all = await readAll(img);
    expect(all.subarray(0, 65536).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(all.subarray(65536, 131072)).equals(Buffer.from(pattern(2 * MiB, 3).subarray(65536, 131072)))).toBe(true);
    expect(all.subarray(131072, 196608).every((b) => b === 0x55)).toBe(true);
    expect(Buffer.from(all).equals(Buffer.from(qemuRaw(dir, q)))).toBe(true);
    await img.close();
  });
});

describe('qcow2 images we write', () => {
  const cases: Array<[string, string[]]> = [
    ['v3, 64 KiB clusters', []],
    ['v2 (compat=0.10)', ['-o', 'compat=0.10']],
    ['512-byte clusters', ['-o', 'cluster_size=512']],
    ['1-bit refcounts', ['-o', 'refcount_bits=1']],
    ['64-bit refcounts', ['-o', 'refcount_bits=64']],
  ];
  for (const [label, opts] of cases) {
    itWhen([noQemuImg], `pass qemu-img check and read back in qemu-img as written (${label})`, async () => {
      const q = join(dir, 'w.qcow2');
      mustRun('create', '-f', 'qcow2', ...opts, q, String(8 * MiB));
      const model = new Uint8Array(8 * MiB);
      const img = await openDiskImage(q);
      await scribble(img, model, 100);
      // Rewrite some of it in place, then flush.
      await scribble(img, model, 200);
      await img.flush();
      expect(Buffer.from(await readAll(img)).equals(Buffer.from(model))).toBe(true);
      await img.close();
      expectClean(q);
      expect(Buffer.from(qemuRaw(dir, q)).equals(Buffer.from(model))).toBe(true);
    });
  }

  itWhen([noQemuImg], 'grow the refcount table when the file outgrows it', async () => {
    const q = join(dir, 'grow.qcow2');
    mustRun('create', '-f', 'qcow2', '-o', 'cluster_size=512', q, String(16 * MiB));
    const tableClusters = () => readFileSync(q).readUInt32BE(56);
    // One 512-byte table holds 64 blocks of 256 clusters each: 8 MiB of file.
    expect(tableClusters()).toBe(1);
    const model = pattern(12 * MiB, 77);
    const img = await openDiskImage(q);
    for (let at = 0; at < model.length; at += MiB) await img.write(at, model.subarray(at, at + MiB));
    await img.close();
    expect(tableClusters()).toBeGreaterThan(1);
    expectClean(q);
    expect(Buffer.from(qemuRaw(dir, q).subarray(0, model.length)).equals(Buffer.from(model))).toBe(true);
  });

  itWhen([noQemuImg], 'overwrite compressed clusters, dropping their references', async () => {
    const raw = join(dir, 'src.raw');
    const data = new Uint8Array(2 * MiB);
    for (let i = 0; i < data.length; i++) data[i] = 65 + (i % 26);
    writeFileSync(raw, data);
    const q = join(dir, 'c.qcow2');
    mustRun('convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, q);
    const img = await openDiskImage(q);
    const model = data.slice();
    await scribble(img, model, 300);
    await img.close();
    expectClean(q);
    expect(Buffer.from(qemuRaw(dir, q)).equals(Buffer.from(model))).toBe(true);
  });

  itWhen([noQemuImg], 'write an overlay of a raw base (-b base.raw -F raw) and leave the base alone', async () => {
    const base = join(dir, 'base.raw');
    const baseData = writeRaw(base, 6 * MiB, 11);
    const q = join(dir, 'ov.qcow2');
    mustRun('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', q);
    const img = await openDiskImage(q);
    expect(img.size).toBe(6 * MiB);
    expect(img.info()).toMatchObject({ backingFile: 'base.raw', backingFormat: 'raw' });
    const model = baseData.slice();
    await scribble(img, model, 400);
    expect(Buffer.from(await readAll(img)).equals(Buffer.from(model))).toBe(true);
    await img.close();
    expectClean(q);
    expect(Buffer.from(qemuRaw(dir, q)).equals(Buffer.from(model))).toBe(true);
    expect(Buffer.from(readFileSync(base)).equals(Buffer.from(baseData))).toBe(true);
  });

  itWhen([noQemuImg], 'read a chain qcow2 -> qcow2 -> raw, with a backing file smaller than the disk', async () => {
    const base = join(dir, 'base.raw');
    const baseData = pattern(MiB, 5);
    writeFileSync(base, baseData);
    const mid = join(dir, 'mid.qcow2');
    mustRun('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', mid, String(2 * MiB));
    qemuIo(mid, 'qcow2', 'write -P 0x11 512k 64k');
    const top = join(dir, 'top.qcow2');
    mustRun('create', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', top);
    const img = await openDiskImage(top);
    const all = await readAll(img);
    const expected = new Uint8Array(2 * MiB);
    expected.set(baseData);
    expected.fill(0x11, 512 * 1024, 576 * 1024);
    expect(Buffer.from(all).equals(Buffer.from(expected))).toBe(true);
    await img.close();
  });

  itWhen([noQemuImg], 'leave the file byte-identical in snapshot mode (raw and qcow2)', async () => {
    const raw = join(dir, 'd.raw');
    writeRaw(raw, 2 * MiB, 9);
    const q = join(dir, 'd.qcow2');
    mustRun('convert', '-f', 'raw', '-O', 'qcow2', raw, q);
    for (const path of [raw, q]) {
      const before = readFileSync(path);
      const img = await openDiskImage(path, { snapshot: true });
      const model = new Uint8Array(await readAll(img));
      await scribble(img, model, 500);
      await img.flush();
      expect(Buffer.from(await readAll(img)).equals(Buffer.from(model))).toBe(true);
      await img.close();
      expect(readFileSync(path).equals(before)).toBe(true);
    }
  });
});
