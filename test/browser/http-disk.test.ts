// Disks over HTTP without a browser: the Range-request file against `wasmpc serve`'s server (Node's fetch is
// the browser's), the qcow2 code reading through it, and the qcow2 overlay the browser keeps a disk's writes in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveWeb, type WebServer } from '../../src/node/serve';
import { HTTP_BLOCK, HttpImageFile, HttpImageHost } from '../../src/browser/http-disk';
import { OverlayDisk, overlayName } from '../../src/browser/overlay-disk';
import { BrowserDisks } from '../../src/browser/disks';
import type { OverlayStore } from '../../src/browser/overlay-store';
import { MemoryImageFile } from '../../src/block/image-file';
import { openImage } from '../../src/block/open';
import { itWhen } from '../images/host-tools';
import { noQemuImg, pattern, qemuImg, qemuIo } from '../block/qemu-img';

let dir = '';
let server: WebServer;
const ranges: string[] = [];
const SIZE = 1024 * 1024 + 512;
const data = pattern(SIZE, 7);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmpc-http-disk-'));
  writeFileSync(join(dir, 'disk.raw'), data);
  server = await serveWeb({ web: dir, guest: dir, extra: { prefix: '/disks/', dir } }, 0, (_, range) => { if (range) ranges.push(range); });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const url = (name: string) => new URL(`disks/${name}`, server.url).href;

/** An OverlayStore in memory that keeps its files, so a test can open them again. */
class KeptStore implements OverlayStore {
  readonly persistent = true;
  readonly files = new Map<string, MemoryImageFile>();
  async open(name: string) { return this.files.get(name) ?? this.create(name); }
  async create(name: string) {
    const f = new MemoryImageFile(name);
    this.files.set(name, f);
    return f;
  }
}

describe('a disk image over HTTP', () => {
  it('learns its size from the first Range request and reads any byte range through the block cache', async () => {
    ranges.length = 0;
    const file = await HttpImageFile.open(url('disk.raw'));
    expect(await file.size()).toBe(SIZE);
    expect(ranges).toEqual([`bytes=0-${HTTP_BLOCK - 1}`]);
    const into = new Uint8Array(3 * HTTP_BLOCK + 100);
    expect(await file.read(HTTP_BLOCK - 50, into)).toBe(into.length);
    expect(into).toEqual(data.subarray(HTTP_BLOCK - 50, HTTP_BLOCK - 50 + into.length));
    // Block 0 was cached; blocks 1-4 came in one request.
    expect(ranges.slice(1)).toEqual([`bytes=${HTTP_BLOCK}-${5 * HTTP_BLOCK - 1}`]);
    const again = new Uint8Array(100);
    await file.read(2 * HTTP_BLOCK, again);
    expect(ranges).toHaveLength(2);
    // The tail: a short last block, and reads past the end are short.
    const tail = new Uint8Array(1000);
    expect(await file.read(SIZE - 512, tail)).toBe(512);
    expect(tail.subarray(0, 512)).toEqual(data.subarray(SIZE - 512));
    expect(file.stats.requests).toBe(3);
    expect(file.stats.bytes).toBe(5 * HTTP_BLOCK + (SIZE - 16 * HTTP_BLOCK));
  });

  it('keeps at most its bound of blocks, fetching an evicted one again', async () => {
    const file = await HttpImageFile.open(url('disk.raw'), { cacheBlocks: 2 });
    const one = new Uint8Array(10);
    // Open cached block 0; 1 and 2 push it out, so it is fetched again, pushing out 1.
    for (const b of [1, 2, 0]) await file.read(b * HTTP_BLOCK, one);
    expect(file.stats.requests).toBe(4);
    await file.read(2 * HTTP_BLOCK, one);
    expect(file.stats.requests).toBe(4);
    await file.read(1 * HTTP_BLOCK, one);
    expect(file.stats.requests).toBe(5);
    expect(one).toEqual(data.subarray(HTTP_BLOCK, HTTP_BLOCK + 10));
  });

  it('names the URL when the server does not answer Range requests, or the file is missing', async () => {
    const plain: Server = createServer((_, res) => res.writeHead(200, { 'Content-Length': 4 }).end('abcd'));
    await new Promise<void>((done) => plain.listen(0, '127.0.0.1', done));
    const address = plain.address() as { port: number };
    const where = `http://127.0.0.1:${address.port}/disk.img`;
    await expect(HttpImageFile.open(where)).rejects.toThrow(`${where}: the server does not answer Range requests (HTTP 200 without a byte range)`);
    await new Promise((done) => plain.close(done));
    await expect(HttpImageFile.open(url('missing.img'))).rejects.toThrow(`${url('missing.img')}: HTTP 404 Not Found`);
  });

  itWhen([noQemuImg], 'serves a compressed qcow2 image to the qcow2 code without fetching all of it', async () => {
    writeFileSync(join(dir, 'src.raw'), new Uint8Array(8 * 1024 * 1024));
    qemuIo(join(dir, 'src.raw'), 'raw', 'write -P 0x5a 3M 64k');
    expect(qemuImg('convert', '-c', '-O', 'qcow2', join(dir, 'src.raw'), join(dir, 'small.qcow2')).status).toBe(0);
    const host = new HttpImageHost();
    const image = await openImage(host, url('small.qcow2'), { readOnly: true });
    expect(image.format).toBe('qcow2');
    const got = new Uint8Array(4096);
    await image.read(3 * 1024 * 1024, got);
    expect(got.every((b) => b === 0x5a)).toBe(true);
    expect(host.stats().bytes).toBeLessThanOrEqual(readFileSync(join(dir, 'small.qcow2')).length);
  });
});

describe('the overlay of a disk over HTTP', () => {
  itWhen([noQemuImg], 'keeps writes in a qcow2 overlay whose backing file is the URL, that qemu-img reads', async () => {
    writeFileSync(join(dir, 'base.raw'), new Uint8Array(4 * 1024 * 1024));
    expect(qemuImg('convert', '-O', 'qcow2', join(dir, 'base.raw'), join(dir, 'base.qcow2')).status).toBe(0);
    const store = new KeptStore();
    const disk = await OverlayDisk.open(new HttpImageHost(), url('base.qcow2'), undefined, store);
    expect(disk.size).toBe(4 * 1024 * 1024);
    expect(disk.restored).toBe(false);
    const written = pattern(4096, 3);
    await disk.write(1024 * 1024, written);
    await disk.flush();
    const saved = await disk.save();
    // The overlay is a qcow2 image of its own; against a local copy of the base, qemu-img sees the write.
    writeFileSync(join(dir, 'saved.qcow2'), saved);
    expect(qemuImg('rebase', '-u', '-b', join(dir, 'base.qcow2'), '-F', 'qcow2', join(dir, 'saved.qcow2')).status).toBe(0);
    expect(qemuIo(join(dir, 'saved.qcow2'), 'qcow2', 'read -P 0 0 1M')).toMatch(/read 1048576\/1048576/);
    expect(Buffer.from(saved).indexOf(Buffer.from(written))).toBeGreaterThan(0);

    // Opened again (a page reload), the overlay is used as it was; discarded, the disk reads as the image.
    await disk.close();
    const again = await OverlayDisk.open(new HttpImageHost(), url('base.qcow2'), undefined, store);
    expect(again.restored).toBe(true);
    const got = new Uint8Array(4096);
    await again.read(1024 * 1024, got);
    expect(got).toEqual(written);
    await again.discardChanges();
    await again.read(1024 * 1024, got);
    expect(got.every((b) => b === 0)).toBe(true);
    expect(store.files.has(overlayName(url('base.qcow2')))).toBe(true);
  });
});

describe("the Worker's disks", () => {
  it('opens ro disks as they are, overlays writable ones, and names the slot and the URL in errors', async () => {
    const disks = new BrowserDisks();
    const cd = await disks.openDisk(url('disk.raw'), { ro: true }, '-s 5:0,ahci-cd,cd');
    expect(cd.readOnly).toBe(true);
    const disk = await disks.openDisk(url('disk.raw'), {}, '-s 3:0,virtio-blk,disk');
    const sector = new Uint8Array(512);
    await disk.write(0, sector);
    await cd.read(0, sector);
    expect(sector).toEqual(data.subarray(0, 512));
    await expect(disks.openDisk(url('missing.img'), {}, '-s 4:0,virtio-blk,missing.img'))
      .rejects.toThrow(`wasmpc: -s 4:0,virtio-blk,missing.img: ${url('missing.img')}: HTTP 404 Not Found`);
    // Node has no OPFS: the overlays are in memory, and the report says why.
    const report = await disks.report();
    expect(report.writable).toEqual([url('disk.raw')]);
    expect(report.store.kind).toBe('memory');
    expect(report.imageBytes).toBe(SIZE);
    expect((await disks.save())[0]!.name).toBe('disk-changes.qcow2');
  });
});
