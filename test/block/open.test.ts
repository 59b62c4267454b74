// The image opener on files in memory: format detection and its override, the snapshot overlay, raw images,
// and qcow2 images we create and write ourselves (the qemu-img cross-checks are in qcow2-qemu.test.ts).
import { describe, expect, it } from 'vitest';
import { BlockError } from '../../src/block/backend';
import { ImageError, MemoryImageHost } from '../../src/block/image-file';
import { openImage } from '../../src/block/open';
import { OverlayImage } from '../../src/block/overlay';
import { newQcow2 } from '../../src/block/qcow2-format';
import { pattern } from './qemu-img';

const MiB = 1 << 20;

describe('openImage', () => {
  it('detects qcow2 by its magic, and takes everything else as raw', async () => {
    const host = new MemoryImageHost();
    host.add('q', newQcow2({ size: MiB, version: 3, clusterBits: 16 }));
    host.add('r', new Uint8Array(MiB));
    expect((await openImage(host, 'q')).format).toBe('qcow2');
    expect((await openImage(host, 'r')).format).toBe('raw');
  });

  it('lets an explicit format override the magic', async () => {
    const host = new MemoryImageHost();
    const bytes = newQcow2({ size: 4 * MiB, version: 3, clusterBits: 16 });
    host.add('q', bytes);
    const raw = await openImage(host, 'q', { format: 'raw' });
    expect(raw.format).toBe('raw');
    expect(raw.size).toBe(bytes.length);
    await expect(openImage(host, 'q', { format: 'qcow2', readOnly: true })).resolves.toMatchObject({ size: 4 * MiB });
  });

  it('refuses a raw disk whose size is not in sectors, naming the fix', async () => {
    const host = new MemoryImageHost();
    host.add('odd.img', new Uint8Array(1000));
    await expect(openImage(host, 'odd.img')).rejects.toThrow(/odd\.img is 1000 bytes, not a multiple of 512; pad it \(truncate -s 1024 odd\.img\)/);
  });

  it('refuses writes to a read-only image with BlockError', async () => {
    const host = new MemoryImageHost();
    host.add('r', new Uint8Array(MiB));
    host.add('q', newQcow2({ size: MiB, version: 3, clusterBits: 16 }));
    for (const name of ['r', 'q']) {
      const img = await openImage(host, name, { readOnly: true });
      expect(img.readOnly).toBe(true);
      await expect(img.write(0, new Uint8Array(512))).rejects.toBeInstanceOf(BlockError);
    }
  });

  it('a missing file is an ImageError', async () => {
    await expect(openImage(new MemoryImageHost(), 'nothing')).rejects.toBeInstanceOf(ImageError);
  });
});

describe('a qcow2 image written and read back in memory', () => {
  it('holds what was written, across clusters, with zeros elsewhere', async () => {
    for (const version of [2, 3] as const) {
      for (const clusterBits of [9, 12, 16]) {
        const host = new MemoryImageHost();
        host.add('q', newQcow2({ size: 4 * MiB, version, clusterBits }));
        const img = await openImage(host, 'q');
        const model = new Uint8Array(4 * MiB);
        for (const [at, len, seed] of [[0, 512, 1], [3000 * 512, 70_000 - (70_000 % 512), 2], [4 * MiB - 1024, 1024, 3], [512, 1024, 4]] as const) {
          const data = pattern(len, seed);
          await img.write(at, data);
          model.set(data, at);
        }
        await img.close();
        const again = await openImage(host, 'q', { readOnly: true });
        const all = new Uint8Array(4 * MiB);
        await again.read(0, all);
        expect(Buffer.from(all).equals(Buffer.from(model)), `v${version}, ${2 ** clusterBits}-byte clusters`).toBe(true);
      }
    }
  });
});

describe('the snapshot overlay', () => {
  it('keeps writes in memory, reads through to the base elsewhere, and never writes the base', async () => {
    const host = new MemoryImageHost();
    const baseBytes = pattern(2 * MiB, 9);
    const file = host.add('base.img', baseBytes.slice());
    const img = await openImage(host, 'base.img', { snapshot: true });
    expect(img).toBeInstanceOf(OverlayImage);
    expect(img.readOnly).toBe(false);
    const model = baseBytes.slice();
    for (const [at, len, seed] of [[512, 512, 1], [4096 * 3 - 512, 8192, 2], [MiB, 64 * 1024, 3]] as const) {
      const data = pattern(len, seed);
      await img.write(at, data);
      model.set(data, at);
    }
    await img.writeZeroes(1536, 1024);
    model.fill(0, 1536, 2560);
    const all = new Uint8Array(2 * MiB);
    await img.read(0, all);
    expect(Buffer.from(all).equals(Buffer.from(model))).toBe(true);
    expect((img as OverlayImage).overlayBytes).toBeLessThan(100 * 1024);
    await img.close();
    expect(Buffer.from(file.data).equals(Buffer.from(baseBytes))).toBe(true);
  });
});
