// `wasmpc serve`'s file server: the page at /, the default guest under /images/debian-i686/, byte ranges as RFC
// 9110 has them, cross-origin isolation headers, and nothing outside its two folders.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRange, serveWeb, type WebServer } from '../../src/node/serve';

let dir = '';
let server: WebServer;
/** Each request the server was told of: its path and Range header. */
const seen: string[] = [];
const body = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmpc-serve-'));
  mkdirSync(join(dir, 'web'));
  mkdirSync(join(dir, 'guest'));
  mkdirSync(join(dir, 'disks'));
  writeFileSync(join(dir, 'disks', 'a.img'), body);
  writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html>');
  writeFileSync(join(dir, 'web', 'core.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d]));
  writeFileSync(join(dir, 'guest', 'vmlinuz'), body);
  writeFileSync(join(dir, 'secret'), 'outside');
  server = await serveWeb({ web: join(dir, 'web'), guest: join(dir, 'guest'), extra: { prefix: '/disks/', dir: join(dir, 'disks') } }, 0,
    (path, range) => seen.push(`${path} ${range ?? ''}`.trimEnd()));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(new URL(path, server.url), { headers, method });

describe('wasmpc serve', () => {
  it('serves the page at / with its type and cross-origin isolation headers', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await r.text()).toBe('<!doctype html>');
    expect((await get('/core.wasm')).headers.get('content-type')).toBe('application/wasm');
  });

  it('serves the default guest under /images/debian-i686/ whole, with its length and Accept-Ranges', async () => {
    const r = await get('/images/debian-i686/vmlinuz');
    expect(r.status).toBe(200);
    expect(r.headers.get('accept-ranges')).toBe('bytes');
    expect(r.headers.get('content-length')).toBe('1000');
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(body);
  });

  it('answers a byte range with 206 and Content-Range, and a range past the end with 416', async () => {
    const r = await get('/images/debian-i686/vmlinuz', { Range: 'bytes=10-19' });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(body.subarray(10, 20));
    const tail = await get('/images/debian-i686/vmlinuz', { Range: 'bytes=-4' });
    expect(tail.headers.get('content-range')).toBe('bytes 996-999/1000');
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(body.subarray(996));
    const past = await get('/images/debian-i686/vmlinuz', { Range: 'bytes=1000-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */1000');
  });

  it('sends the whole file for a Range under an If-Range that no longer matches', async () => {
    const etag = (await get('/images/debian-i686/vmlinuz', {}, 'HEAD')).headers.get('etag')!;
    expect((await get('/images/debian-i686/vmlinuz', { 'Range': 'bytes=0-0', 'If-Range': etag })).status).toBe(206);
    expect((await get('/images/debian-i686/vmlinuz', { 'Range': 'bytes=0-0', 'If-Range': '"other"' })).status).toBe(200);
  });

  it('serves an extra folder at its prefix, and tells its observer of each request and range', async () => {
    seen.length = 0;
    const r = await get('/disks/a.img', { Range: 'bytes=0-9' });
    expect(r.status).toBe(206);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(body.subarray(0, 10));
    await get('/disks/a.img', {}, 'HEAD');
    expect(seen).toEqual(['/disks/a.img bytes=0-9', '/disks/a.img']);
  });

  it('answers 404 for missing files and for paths that leave its folders, 405 for other methods', async () => {
    expect((await get('/nothing.js')).status).toBe(404);
    expect((await get('/%2e%2e/secret')).status).toBe(404);
    expect((await get('/images/debian-i686/%2e%2e/%2e%2e/secret')).status).toBe(404);
    expect((await get('/', {}, 'POST')).status).toBe(405);
  });
});

describe('parseRange', () => {
  it('reads the three forms of one byte range and clamps the last byte to the file', () => {
    expect(parseRange('bytes=0-99', 50)).toEqual({ kind: 'part', start: 0, end: 49 });
    expect(parseRange('bytes=5-', 50)).toEqual({ kind: 'part', start: 5, end: 49 });
    expect(parseRange('bytes=-100', 50)).toEqual({ kind: 'part', start: 0, end: 49 });
  });

  it('ignores what is not one byte range (the whole file is sent)', () => {
    expect(parseRange(undefined, 50)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=0-1,5-6', 50)).toEqual({ kind: 'whole' });
    expect(parseRange('items=0-1', 50)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=9-3', 50)).toEqual({ kind: 'whole' });
  });

  it('cannot satisfy a range that starts past the end or an empty suffix', () => {
    expect(parseRange('bytes=50-', 50)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 50)).toEqual({ kind: 'unsatisfiable' });
  });
});
