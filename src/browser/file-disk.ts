// A disk image from the user's machine (the page's "Local files" form): the ImageFile the image formats read,
// over a File (a Blob), each read one file.slice(a, b).arrayBuffer(). Nothing is read whole and nothing is
// cached (the browser reads the slices from the local disk). The file is read-only: a disk's writes go to an
// overlay (overlay-disk.ts), as for a disk read over HTTP.
import { ImageError, type ImageFile, type ImageHost } from '../block/image-file';

/** The path that names a local file in the machine config and the overlay store: its name and size. */
export function localPath(file: File): string {
  return `local:${encodeURIComponent(file.name)}?size=${file.size}`;
}

export function isLocalPath(path: string): boolean { return path.startsWith('local:'); }

export class FileImageFile implements ImageFile {
  readonly writable = false;
  /** Bytes read so far. */
  bytesRead = 0;

  constructor(readonly name: string, private readonly file: Blob) {}

  get identity(): string { return this.name; }
  get length(): number { return this.file.size; }

  async read(offset: number, into: Uint8Array): Promise<number> {
    const n = Math.max(0, Math.min(into.length, this.file.size - offset));
    if (n === 0) return 0;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await this.file.slice(offset, offset + n).arrayBuffer());
    } catch (e) {
      throw new ImageError(`${this.name}: cannot read bytes ${offset}-${offset + n - 1} (${(e as Error).message}); was the file changed or removed?`);
    }
    if (bytes.length !== n) throw new ImageError(`${this.name}: bytes ${offset}-${offset + n - 1} came back as ${bytes.length} bytes`);
    into.set(bytes);
    this.bytesRead += n;
    return n;
  }

  async write(): Promise<void> { throw new ImageError(`${this.name}: a local file is read-only; its writes go to an overlay`); }
  async size(): Promise<number> { return this.file.size; }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The local files the page passed, by localPath(). */
export class FileImageHost implements ImageHost {
  private readonly files = new Map<string, FileImageFile>();

  add(file: File): string {
    const path = localPath(file);
    this.files.set(path, new FileImageFile(decodeURIComponent(path.slice('local:'.length).replace(/\?.*$/, '')), file));
    return path;
  }

  has(path: string): boolean { return this.files.has(path); }

  async open(path: string, writable: boolean): Promise<ImageFile> {
    if (writable) throw new ImageError(`${path}: a local file is read-only; its writes go to an overlay`);
    const file = this.files.get(path);
    if (!file) throw new ImageError(`${path}: no such local file was chosen`);
    return file;
  }

  /** A local image's backing file is another chosen file of that name. */
  resolve(_from: string, name: string): string {
    for (const [path, file] of this.files) if (file.name === name) return path;
    throw new ImageError(`${name}: a local image's backing file must be chosen too`);
  }

  /** The local files' sizes together, and the bytes read from them. */
  stats(): { bytes: number; imageBytes: number } {
    let bytes = 0;
    let imageBytes = 0;
    for (const f of this.files.values()) {
      bytes += f.bytesRead;
      imageBytes += f.length;
    }
    return { bytes, imageBytes };
  }
}
