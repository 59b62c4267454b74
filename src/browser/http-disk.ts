// A disk image read over HTTP, lazily: the ImageFile the image formats (src/block raw.ts, qcow2.ts) read, with
// each read turned into Range requests (RFC 9110 §14) for the 64 KiB blocks it touches that are not cached yet.
// Consecutive missing blocks go in one request; the blocks stay in a bounded LRU cache. The first request asks
// for block 0 and learns the size from its Content-Range, so a server that ignores Range is found at open.
// The file is read-only: a disk's writes go to an overlay (overlay-store.ts).
import { ImageError, type ImageFile, type ImageHost, type InflateRaw } from '../block/image-file';

/** Bytes per Range request unit and cache entry. */
export const HTTP_BLOCK = 64 * 1024;
/** Blocks cached per file: 16 MiB. */
export const HTTP_CACHE_BLOCKS = 256;

/** What a file fetched so far, for the page and tests. */
export interface HttpStats {
  /** Range requests made. */
  requests: number;
  /** Body bytes received. */
  bytes: number;
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export class HttpImageFile implements ImageFile {
  readonly writable = false;
  readonly stats: HttpStats = { requests: 0, bytes: 0 };
  /** Cached and in-flight blocks by index; Map order is least recently used first. */
  private readonly blocks = new Map<number, Promise<Uint8Array>>();

  private constructor(readonly name: string, /** The image's size in bytes. */ readonly length: number, private readonly fetchFn: Fetch, private readonly cacheBlocks: number) {}

  get identity(): string { return this.name; }

  /**
   * Open `url` (absolute). Errors are one line naming the URL: unreachable, an HTTP error, or a server that
   * does not answer Range requests.
   */
  static async open(url: string, options: { fetch?: Fetch; cacheBlocks?: number } = {}): Promise<HttpImageFile> {
    const fetchFn = options.fetch ?? ((u, init) => fetch(u, init));
    const first = await rangeRequest(fetchFn, url, 0, HTTP_BLOCK - 1);
    if (first.status === 416) throw new ImageError(`${url}: the image is empty`);
    const total = /^bytes \d+-\d+\/(\d+)$/.exec(first.headers.get('content-range') ?? '')?.[1];
    if (first.status !== 206 || total === undefined) {
      await first.body?.cancel();
      if (!first.ok) throw new ImageError(`${url}: HTTP ${first.status} ${first.statusText}`.trimEnd());
      throw new ImageError(`${url}: the server does not answer Range requests (HTTP ${first.status} without a byte range); serve the image from one that does (\`wasmpc serve\`, nginx, any static host with Accept-Ranges)`);
    }
    const file = new HttpImageFile(url, Number(total), fetchFn, Math.max(1, options.cacheBlocks ?? HTTP_CACHE_BLOCKS));
    const block0 = file.receive(first, 0, Math.min(HTTP_BLOCK, file.length));
    file.remember(0, block0);
    await block0;
    return file;
  }

  async read(offset: number, into: Uint8Array): Promise<number> {
    const n = Math.max(0, Math.min(into.length, this.length - offset));
    if (n === 0) return 0;
    const first = Math.floor(offset / HTTP_BLOCK);
    const last = Math.floor((offset + n - 1) / HTTP_BLOCK);
    const pending: Array<Promise<Uint8Array>> = [];
    for (let b = first; b <= last;) {
      const cached = this.blocks.get(b);
      if (cached) {
        this.blocks.delete(b);
        this.blocks.set(b, cached);
        pending.push(cached);
        b++;
        continue;
      }
      let end = b;
      while (end < last && !this.blocks.has(end + 1)) end++;
      pending.push(...this.fetchBlocks(b, end));
      b = end + 1;
    }
    const data = await Promise.all(pending);
    for (let b = first; b <= last; b++) {
      const block = data[b - first]!;
      const start = Math.max(offset, b * HTTP_BLOCK);
      const stop = Math.min(offset + n, (b + 1) * HTTP_BLOCK);
      into.set(block.subarray(start - b * HTTP_BLOCK, stop - b * HTTP_BLOCK), start - offset);
    }
    return n;
  }

  async write(): Promise<void> { throw new ImageError(`${this.name}: a disk read over HTTP is read-only`); }
  async size(): Promise<number> { return this.length; }
  async flush(): Promise<void> {}
  async close(): Promise<void> { this.blocks.clear(); }

  /** One Range request for blocks first..last; a promise per block. */
  private fetchBlocks(first: number, last: number): Array<Promise<Uint8Array>> {
    const start = first * HTTP_BLOCK;
    const end = Math.min((last + 1) * HTTP_BLOCK, this.length);
    const all = rangeRequest(this.fetchFn, this.name, start, end - 1).then((r) => this.receive(r, start, end - start));
    const out: Array<Promise<Uint8Array>> = [];
    for (let b = first; b <= last; b++) {
      const block = all.then((bytes) => bytes.subarray((b - first) * HTTP_BLOCK, Math.min((b - first + 1) * HTTP_BLOCK, bytes.length)));
      this.remember(b, block);
      out.push(block);
    }
    return out;
  }

  /** The body of a 206 answer for `length` bytes at `start`, checked against what was asked. */
  private async receive(response: Response, start: number, length: number): Promise<Uint8Array> {
    this.stats.requests++;
    const range = response.headers.get('content-range');
    const expected = `bytes ${start}-${start + length - 1}/${this.length}`;
    if (response.status !== 206 || range !== expected) {
      await response.body?.cancel();
      throw new ImageError(`${this.name}: asked for ${expected}, got HTTP ${response.status}${range ? ` with ${range}` : ''} (was the image changed on the server?)`);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      throw new ImageError(`${this.name}: the download of ${expected} broke off (${(e as Error).message})`);
    }
    this.stats.bytes += bytes.length;
    if (bytes.length !== length) throw new ImageError(`${this.name}: ${expected} came with ${bytes.length} bytes`);
    return bytes;
  }

  /** Cache a block, dropping the least recently used beyond the bound; a failed fetch is not kept. */
  private remember(b: number, block: Promise<Uint8Array>): void {
    this.blocks.set(b, block);
    block.catch(() => { if (this.blocks.get(b) === block) this.blocks.delete(b); });
    while (this.blocks.size > this.cacheBlocks) this.blocks.delete(this.blocks.keys().next().value!);
  }
}

async function rangeRequest(fetchFn: Fetch, url: string, start: number, end: number): Promise<Response> {
  try {
    return await fetchFn(url, { headers: { Range: `bytes=${start}-${end}` } });
  } catch (e) {
    throw new ImageError(`${url}: cannot fetch (${(e as Error).message}); check the URL, and that its server allows CORS when it is another site`);
  }
}

/** Raw DEFLATE through the platform's DecompressionStream (browsers, Node 18+), stopped after `size` bytes. */
export const inflateRawStream: InflateRaw = async (data, size) => {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const out = new Uint8Array(size);
  let at = 0;
  try {
    while (at < size) {
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value.subarray(0, size - at), at);
      at += Math.min(value.length, size - at);
    }
  } catch (e) {
    // A compressed cluster ends somewhere in its last sector: what follows the stream is not ours to read.
    if (at < size) throw e;
  }
  void reader.cancel().catch(() => {});
  if (at < size) throw new Error(`the compressed data holds ${at} of ${size} bytes`);
  return out;
};

/**
 * Images by absolute URL, each opened once (a qcow2 overlay and a probe share the base's cache). Backing file
 * names resolve against the naming image's URL.
 */
export class HttpImageHost implements ImageHost {
  readonly inflateRaw = inflateRawStream;
  private readonly files = new Map<string, Promise<HttpImageFile>>();
  private readonly opened: HttpImageFile[] = [];

  constructor(private readonly fetchFn?: Fetch) {}

  async open(path: string, writable: boolean): Promise<ImageFile> {
    if (writable) throw new ImageError(`${path}: a disk read over HTTP is read-only; its writes go to an overlay`);
    let file = this.files.get(path);
    if (!file) {
      file = HttpImageFile.open(path, this.fetchFn ? { fetch: this.fetchFn } : {});
      this.files.set(path, file);
      file.then((f) => this.opened.push(f), () => this.files.delete(path));
    }
    return file;
  }

  resolve(from: string, name: string): string { return new URL(name, from).href; }

  /** What the files opened so far fetched, together, and their sizes together. */
  stats(): HttpStats & { imageBytes: number } {
    const all = { requests: 0, bytes: 0, imageBytes: 0 };
    for (const f of this.opened) {
      all.requests += f.stats.requests;
      all.bytes += f.stats.bytes;
      all.imageBytes += f.length;
    }
    return all;
  }
}
