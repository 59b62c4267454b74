// The raw image file backend: positioned asynchronous I/O on a real file in a temporary directory, read-only and
// snapshot modes, and the errors a person sees for a missing or mis-sized image.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlockBackend } from '../../src/node/block-file';
import { BlockError } from '../../src/block/backend';

const SIZE = 64 * 1024;

function pattern(): Uint8Array {
  const d = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) d[i] = (i * 13 + (i >> 9)) & 0xff;
  return d;
}

describe('FileBlockBackend', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'wasmpc-block-'));
    path = join(dir, `disk-${Math.random().toString(36).slice(2)}.img`);
    await writeFile(path, pattern());
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads and writes at byte offsets of the file, and reports its size and name', async () => {
    const b = await FileBlockBackend.open(path);
    expect([b.size, b.sectorSize, b.readOnly]).toEqual([SIZE, 512, false]);
    expect(b.id).toBe(path.split('/').at(-1)!.slice(0, 20));
    const got = new Uint8Array(1024);
    await b.read(2048, got);
    expect(got).toEqual(pattern().subarray(2048, 3072));
    await b.write(512, new Uint8Array(512).fill(0xee));
    await b.flush();
    await b.close();
    const file = await readFile(path);
    expect(file.subarray(512, 1024).every((x) => x === 0xee)).toBe(true);
    expect(file.subarray(0, 512)).toEqual(Buffer.from(pattern().subarray(0, 512)));
  });

  it('runs overlapping requests concurrently, each landing where it was aimed', async () => {
    const b = await FileBlockBackend.open(path);
    await Promise.all(Array.from({ length: 16 }, (_, i) => b.write(i * 4096, new Uint8Array(4096).fill(i + 1))));
    const reads = Array.from({ length: 16 }, () => new Uint8Array(4096));
    await Promise.all(reads.map((r, i) => b.read(i * 4096, r)));
    expect(reads.map((r) => r[0])).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    await b.close();
  });

  it('zeroes ranges in the file', async () => {
    const b = await FileBlockBackend.open(path);
    await b.writeZeroes(1024, 8192);
    await b.discard(0, 512);
    await b.close();
    const file = await readFile(path);
    expect(file.subarray(1024, 9216).every((x) => x === 0)).toBe(true);
    expect(file[9216]).toBe(pattern()[9216]);
  });

  it('refuses requests outside the disk or not in whole sectors', async () => {
    const b = await FileBlockBackend.open(path);
    await expect(b.read(SIZE, new Uint8Array(512))).rejects.toMatchObject({ kind: 'range' });
    await expect(b.write(100, new Uint8Array(512))).rejects.toMatchObject({ kind: 'range' });
    await b.close();
    await expect(b.read(0, new Uint8Array(512))).rejects.toBeInstanceOf(BlockError);
  });

  it('opens read-only with ro and refuses writes', async () => {
    await chmod(path, 0o444);
    const b = await FileBlockBackend.open(path, { ro: true, id: 'serial-1' });
    expect([b.readOnly, b.id]).toEqual([true, 'serial-1']);
    await expect(b.write(0, new Uint8Array(512))).rejects.toMatchObject({ kind: 'readonly' });
    await expect(b.writeZeroes(0, 512)).rejects.toMatchObject({ kind: 'readonly' });
    const got = new Uint8Array(512);
    await b.read(0, got);
    expect(got).toEqual(pattern().subarray(0, 512));
    await b.close();
  });

  it('keeps snapshot writes in memory and never writes the base file', async () => {
    await chmod(path, 0o444);
    const b = await FileBlockBackend.open(path, { snapshot: true });
    expect(b.readOnly).toBe(false);
    await b.write(1024, new Uint8Array(1024).fill(0x77));
    await b.writeZeroes(4096, 512);
    await b.flush();
    const got = new Uint8Array(5120);
    await b.read(0, got);
    const want = pattern().slice(0, 5120);
    want.fill(0x77, 1024, 2048);
    want.fill(0, 4096, 4608);
    expect(got).toEqual(want);
    expect(b.overlayBytes).toBe(1536);
    await b.close();
    expect(new Uint8Array(await readFile(path))).toEqual(pattern());
  });

  it('explains a missing file', async () => {
    await expect(FileBlockBackend.open(join(dir, 'nope.img'))).rejects.toThrow(/cannot open disk image .*nope\.img: no such file \(ENOENT\)/);
  });

  it('explains an image whose size is not a multiple of 512, and how to fix it', async () => {
    await writeFile(path, new Uint8Array(1000));
    await expect(FileBlockBackend.open(path)).rejects.toThrow(/is 1000 bytes, not a multiple of 512; pad it \(truncate -s 1024 /);
  });

  it('refuses a directory', async () => {
    await expect(FileBlockBackend.open(dir, { ro: true })).rejects.toThrow(/cannot (open|use) disk image/);
  });
});
