// What the image formats (raw.ts, qcow2.ts) need from their host: a file with positioned, asynchronous
// reads and writes, and a way to find and open the files an image names (its backing file). The Node host
// is src/node/block-image.ts; a browser supplies the same from a File, an OPFS handle or HTTP range reads.

/** One open file. Reads past the end return fewer bytes; writes past the end grow the file. */
export interface ImageFile {
  /** What error messages call the file (its path as the user gave it, or a URL). */
  readonly name: string;
  /** The same file always gives the same identity (a real path); backing chains use it to find loops. */
  readonly identity: string;
  readonly writable: boolean;
  /** Bytes read into `into` from `offset`; fewer than into.length only at the end of the file. */
  read(offset: number, into: Uint8Array): Promise<number>;
  write(offset: number, from: Uint8Array): Promise<void>;
  /** The file's length now. */
  size(): Promise<number>;
  /** Make completed writes durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Raw DEFLATE (RFC 1951) decompression to exactly `size` bytes, or an exception. */
export type InflateRaw = (data: Uint8Array, size: number) => Uint8Array | Promise<Uint8Array>;

export interface ImageHost {
  /** Open `path` (as the user or an image wrote it, already resolved by resolve()). */
  open(path: string, writable: boolean): Promise<ImageFile>;
  /** The path of `name`, a backing file named inside image `from`: relative names are relative to its directory. */
  resolve(from: string, name: string): string;
  /** Decompression for qcow2's compressed clusters; without it they read as I/O errors. */
  inflateRaw?: InflateRaw;
}

/** A problem with an image file, for a person: names the file, what is wrong and, where there is one, the fix. */
export class ImageError extends Error {}

/** Read exactly into.length bytes or fail with a message naming the file and what was being read. */
export async function readExact(file: ImageFile, offset: number, into: Uint8Array, what: string): Promise<void> {
  const n = await file.read(offset, into);
  if (n !== into.length) {
    throw new ImageError(`${file.name}: the ${what} at byte ${offset} runs past the end of the file (truncated image?)`);
  }
}

/** A file held in memory: for tests, and for images a browser has loaded whole. */
export class MemoryImageFile implements ImageFile {
  readonly identity: string;
  private bytes: Uint8Array;
  private length: number;

  constructor(readonly name: string, data: Uint8Array = new Uint8Array(0), readonly writable = true) {
    this.identity = `memory:${name}`;
    this.bytes = data;
    this.length = data.length;
  }

  /** The file's current content. */
  get data(): Uint8Array { return this.bytes.subarray(0, this.length); }

  async read(offset: number, into: Uint8Array): Promise<number> {
    const n = Math.max(0, Math.min(into.length, this.length - offset));
    into.set(this.bytes.subarray(offset, offset + n));
    return n;
  }

  async write(offset: number, from: Uint8Array): Promise<void> {
    if (!this.writable) throw new ImageError(`${this.name}: the file is read-only`);
    const end = offset + from.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(from, offset);
    this.length = Math.max(this.length, end);
  }

  async size(): Promise<number> { return this.length; }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Files in memory by name, for tests: backing names resolve as plain names. */
export class MemoryImageHost implements ImageHost {
  readonly files = new Map<string, MemoryImageFile>();

  constructor(readonly inflateRaw?: InflateRaw) {}

  add(name: string, data: Uint8Array): MemoryImageFile {
    const f = new MemoryImageFile(name, data);
    this.files.set(name, f);
    return f;
  }

  async open(path: string, writable: boolean): Promise<ImageFile> {
    const f = this.files.get(path);
    if (!f) throw new ImageError(`${path}: no such file`);
    return writable ? f : new ReadOnlyView(f);
  }

  resolve(_from: string, name: string): string { return name; }
}

/** The same memory file, refusing writes. */
class ReadOnlyView implements ImageFile {
  readonly writable = false;
  constructor(private readonly f: MemoryImageFile) {}
  get name(): string { return this.f.name; }
  get identity(): string { return this.f.identity; }
  read(offset: number, into: Uint8Array): Promise<number> { return this.f.read(offset, into); }
  async write(): Promise<void> { throw new ImageError(`${this.f.name}: the file is open read-only`); }
  size(): Promise<number> { return this.f.size(); }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
