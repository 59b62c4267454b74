// Damaged and hostile qcow2 images: a clear error at open, or an I/O error for the request that meets the
// damage; never an exception of another kind, and never a write into the image's metadata.
import { describe, expect, it } from 'vitest';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BlockError } from '../../src/block/backend';
import { ImageError, MemoryImageHost } from '../../src/block/image-file';
import { openImage } from '../../src/block/open';
import { Hdr, INCOMPAT_DIRTY, newQcow2 } from '../../src/block/qcow2-format';
import { pattern } from './qemu-img';

const CS = 65536;
const inflate = (d: Uint8Array, size: number) => new Uint8Array(inflateRawSync(d, { finishFlush: 2, maxOutputLength: size }));

/** A v3 image of 4 MiB with data written to guest clusters 0, 1 and 40 (so it has one L2 table). */
async function sample(host = new MemoryImageHost(inflate), name = 'a.qcow2'): Promise<{ host: MemoryImageHost; bytes: () => Uint8Array }> {
  const f = host.add(name, newQcow2({ size: 4 << 20, version: 3, clusterBits: 16 }));
  const img = await openImage(host, name);
  await img.write(0, pattern(2 * CS, 1));
  await img.write(40 * CS, pattern(CS, 2));
  await img.close();
  return { host, bytes: () => f.data };
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.length);
const l1Offset = (b: Uint8Array) => Number(view(b).getBigUint64(Hdr.L1TableOffset));
const l2Offset = (b: Uint8Array) => Number(view(b).getBigUint64(l1Offset(b)) & 0x00ff_ffff_ffff_fe00n);
const setU64 = (b: Uint8Array, at: number, v: bigint) => view(b).setBigUint64(at, v);

async function openError(host: MemoryImageHost, name = 'a.qcow2', readOnly = false): Promise<string> {
  try {
    const img = await openImage(host, name, { readOnly });
    await img.close();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return (e as Error).message;
  }
  throw new Error('the image opened');
}

describe('a damaged qcow2 header is refused at open', () => {
  const cases: Array<[string, (b: Uint8Array) => void, RegExp]> = [
    ['a wrong magic with the format forced', (b) => { b[3] = 0; }, /no qcow2 magic/],
    ['version 4', (b) => view(b).setUint32(Hdr.Version, 4), /version 4/],
    ['cluster_bits 30', (b) => view(b).setUint32(Hdr.ClusterBits, 30), /cluster_bits 30/],
    ['encryption', (b) => view(b).setUint32(Hdr.CryptMethod, 1), /encrypted/],
    ['an unknown incompatible feature', (b) => setU64(b, Hdr.IncompatibleFeatures, 1n << 40n), /unknown incompatible features/],
    ['an L1 table past the end of the file', (b) => setU64(b, Hdr.L1TableOffset, 1n << 40n), /L1 table .* past the end/],
    ['an L1 table on the header', (b) => setU64(b, Hdr.L1TableOffset, 0n), /overlaps the header/],
    ['an L1 table too small for the disk', (b) => view(b).setUint32(Hdr.L1Size, 0), /cannot map/],
    ['a refcount table on the L1 table', (b) => setU64(b, Hdr.RefcountTableOffset, BigInt(l1Offset(b))), /overlap/],
    ['a huge refcount table', (b) => view(b).setUint32(Hdr.RefcountTableClusters, 1 << 20), /larger than 8 MiB/],
    ['a header_length past the first cluster', (b) => view(b).setUint32(Hdr.HeaderLength, CS + 8), /header_length/],
    ['a backing file name of 2000 bytes', (b) => { setU64(b, Hdr.BackingFileOffset, 512n); view(b).setUint32(Hdr.BackingFileSize, 2000); }, /backing file name/],
    ['a virtual size not in sectors', (b) => setU64(b, Hdr.Size, 1000n), /multiple of 512/],
  ];
  for (const [what, damage, message] of cases) {
    it(`with ${what}`, async () => {
      const { host, bytes } = await sample();
      damage(bytes());
      const name = 'a.qcow2';
      try {
        const img = await openImage(host, name, { format: 'qcow2' });
        await img.close();
        throw new Error('the image opened');
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        expect((e as Error).message).toMatch(message);
        expect((e as Error).message).toContain(name);
      }
    });
  }

  it('when the file is shorter than a header', async () => {
    const host = new MemoryImageHost();
    host.add('a.qcow2', newQcow2({ size: 1 << 20, version: 3, clusterBits: 16 }).slice(0, 40));
    expect(await openError(host)).toMatch(/shorter than a qcow2 header/);
  });

  it('when the file was cut before its tables', async () => {
    const { host, bytes } = await sample();
    host.add('b.qcow2', bytes().slice(0, 3 * CS + 100));
    expect(await openError(host, 'b.qcow2')).toMatch(/past the end|truncated/);
  });
});

describe('damaged qcow2 tables are refused at open', () => {
  it('an L1 entry pointing past the end of the file', async () => {
    const { host, bytes } = await sample();
    setU64(bytes(), l1Offset(bytes()), (1n << 63n) | (1n << 36n));
    expect(await openError(host)).toMatch(/L1 entry 0 points to an L2 table at byte \d+, past the end/);
  });

  it('an L2 table on the refcount table', async () => {
    const { host, bytes } = await sample();
    setU64(bytes(), l1Offset(bytes()), (1n << 63n) | BigInt(CS));
    expect(await openError(host)).toMatch(/overlaps other metadata/);
  });

  it('an L2 entry pointing past the end of the file', async () => {
    const { host, bytes } = await sample();
    setU64(bytes(), l2Offset(bytes()) + 8, (1n << 63n) | (1n << 40n));
    expect(await openError(host, 'a.qcow2', true)).toMatch(/guest cluster 1 maps to byte \d+, past the end/);
  });

  it('an L2 entry pointing at its own L2 table', async () => {
    const { host, bytes } = await sample();
    const b = bytes();
    setU64(b, l2Offset(b) + 8, (1n << 63n) | BigInt(l2Offset(b)));
    expect(await openError(host)).toMatch(/guest cluster 1 maps to byte \d+, which holds metadata/);
  });

  it('a refcount block pointing past the end of the file', async () => {
    const { host, bytes } = await sample();
    const b = bytes();
    setU64(b, Number(view(b).getBigUint64(Hdr.RefcountTableOffset)), 1n << 40n);
    expect(await openError(host)).toMatch(/refcount block 0 .* not a cluster inside the file/);
  });

  it('a dirty image opens read-only but not for writing', async () => {
    const { host, bytes } = await sample();
    setU64(bytes(), Hdr.IncompatibleFeatures, BigInt(INCOMPAT_DIRTY));
    const ro = await openImage(host, 'a.qcow2', { readOnly: true });
    await ro.close();
    expect(await openError(host)).toMatch(/marked dirty/);
  });
});

describe('damage met by a request is an I/O error for it', () => {
  it('a compressed cluster that does not decompress', async () => {
    const { host, bytes } = await sample();
    const b = bytes();
    // Point guest cluster 2 at compressed garbage: the data of guest cluster 0, 4 sectors long.
    const data = BigInt(Number(view(b).getBigUint64(l2Offset(b))) & 0xffff_fe00);
    setU64(b, l2Offset(b) + 16, (1n << 62n) | (3n << 54n) | data);
    const img = await openImage(host, 'a.qcow2', { readOnly: true });
    await expect(img.read(2 * CS, new Uint8Array(512))).rejects.toBeInstanceOf(BlockError);
    await img.close();
  });

  it('a compressed cluster whose refcount is already 0 when it is overwritten', async () => {
    const { host, bytes } = await sample();
    const b = bytes();
    // A real compressed cluster appended at the end, but never counted in the refcounts.
    const packed = deflateRawSync(new Uint8Array(CS).fill(7));
    const at = b.length;
    const f = host.files.get('a.qcow2')!;
    await f.write(at, packed);
    await f.write(at + packed.length, new Uint8Array(CS));
    setU64(f.data, l2Offset(f.data) + 16, (1n << 62n) | (BigInt(Math.ceil(packed.length / 512) - 1) << 54n) | BigInt(at));
    const img = await openImage(host, 'a.qcow2');
    const got = new Uint8Array(512);
    await img.read(2 * CS, got);
    expect(got.every((x) => x === 7)).toBe(true);
    await expect(img.write(2 * CS, new Uint8Array(512))).rejects.toBeInstanceOf(BlockError);
    await img.close();
  });

  it('a file truncated while in use', async () => {
    const { host } = await sample();
    const img = await openImage(host, 'a.qcow2', { readOnly: true });
    host.files.get('a.qcow2')!.read = async () => 0;
    await expect(img.read(40 * CS, new Uint8Array(512))).rejects.toBeInstanceOf(BlockError);
    await img.close();
  });
});

describe('backing files', () => {
  it('a missing backing file is an error naming it', async () => {
    const host = new MemoryImageHost();
    host.add('top.qcow2', newQcow2({ size: 1 << 20, version: 3, clusterBits: 16, backingFile: 'gone.raw', backingFormat: 'raw' }));
    expect(await openError(host, 'top.qcow2')).toMatch(/top\.qcow2: backing file gone\.raw: .*no such file/);
  });

  it('a backing loop is an error', async () => {
    const host = new MemoryImageHost();
    host.add('a.qcow2', newQcow2({ size: 1 << 20, version: 3, clusterBits: 16, backingFile: 'b.qcow2', backingFormat: 'qcow2' }));
    host.add('b.qcow2', newQcow2({ size: 1 << 20, version: 3, clusterBits: 16, backingFile: 'a.qcow2' }));
    expect(await openError(host, 'a.qcow2')).toMatch(/backing file loop: a\.qcow2 -> b\.qcow2 -> a\.qcow2/);
    host.add('self.qcow2', newQcow2({ size: 1 << 20, version: 2, clusterBits: 16, backingFile: 'self.qcow2' }));
    expect(await openError(host, 'self.qcow2')).toMatch(/backing file loop/);
  });

  it('an unknown backing format is an error', async () => {
    const host = new MemoryImageHost();
    host.add('base.vmdk', new Uint8Array(1 << 20));
    host.add('top.qcow2', newQcow2({ size: 1 << 20, version: 3, clusterBits: 16, backingFile: 'base.vmdk', backingFormat: 'vmdk' }));
    expect(await openError(host, 'top.qcow2')).toMatch(/format 'vmdk'/);
  });
});

describe('random damage', () => {
  it('never escapes as anything but ImageError or BlockError, and never rewrites the header cluster', async () => {
    const { bytes } = await sample();
    const good = bytes().slice();
    let x = 12345;
    const rand = (n: number) => { x = (x * 1103515245 + 12345) >>> 0; return x % n; };
    const l1 = l1Offset(good);
    const l2 = l2Offset(good);
    for (let round = 0; round < 300; round++) {
      const b = good.slice();
      // Hit the header, the L1 table, the refcount table and block, and the L2 table.
      const regions = [[0, 112], [l1, 64], [CS, 64], [2 * CS, 64], [l2, 512]] as const;
      for (let k = 0; k < 1 + rand(4); k++) {
        const [start, len] = regions[rand(regions.length)]!;
        b[start + rand(len)] ^= 1 << rand(8);
      }
      const host = new MemoryImageHost(inflate);
      const f = host.add('a.qcow2', b);
      let img;
      try {
        img = await openImage(host, 'a.qcow2', { format: 'qcow2' });
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        continue;
      }
      const header = f.data.slice(0, 4096);
      for (const at of [0, CS, 40 * CS, 3 * CS + 512]) {
        for (const op of [() => img.read(at, new Uint8Array(4096)), () => img.write(at, new Uint8Array(4096).fill(0xee))]) {
          try { await op(); } catch (e) { expect(e).toBeInstanceOf(BlockError); }
        }
      }
      await img.close();
      // Only the autoclear field may change in the header (it is cleared for writing).
      header.fill(0, Hdr.AutoclearFeatures, Hdr.AutoclearFeatures + 8);
      const after = f.data.slice(0, 4096);
      after.fill(0, Hdr.AutoclearFeatures, Hdr.AutoclearFeatures + 8);
      after.fill(0, Hdr.RefcountTableOffset, Hdr.RefcountTableOffset + 12);
      header.fill(0, Hdr.RefcountTableOffset, Hdr.RefcountTableOffset + 12);
      expect(Buffer.from(after).equals(Buffer.from(header))).toBe(true);
    }
  });
});
