// The Node host of the image formats in src/block: files through fs.promises FileHandles (positioned reads and
// writes, fdatasync on flush), backing file names relative to the naming image's directory, and zlib's raw
// inflate for qcow2's compressed clusters.
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { ImageError, type ImageFile, type ImageHost } from '../block/image-file';
import { openImage, type OpenImageOptions } from '../block/open';
import type { DiskImage } from '../block/image';

export class NodeImageFile implements ImageFile {
  private closed = false;

  private constructor(private readonly fh: FileHandle, readonly name: string, readonly identity: string, readonly writable: boolean) {}

  /** Open `path`; a missing file, a directory or no permission is an ImageError naming the file and the fix. */
  static async open(path: string, writable: boolean): Promise<NodeImageFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, writable ? 'r+' : 'r');
    } catch (e) {
      throw new ImageError(`cannot open ${path}: ${describe(e, writable)}`);
    }
    try {
      if (!(await fh.stat()).isFile()) throw new ImageError(`cannot use ${path}: not a regular file`);
      return new NodeImageFile(fh, path, await realpath(path), writable);
    } catch (e) {
      await fh.close();
      throw e instanceof ImageError ? e : new ImageError(`cannot use ${path}: ${(e as Error).message}`);
    }
  }

  /** A positioned read; short reads continue until the request is filled or the file ends. */
  async read(offset: number, into: Uint8Array): Promise<number> {
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await this.fh.read(into, done, into.length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  async write(offset: number, from: Uint8Array): Promise<void> {
    let done = 0;
    while (done < from.length) {
      const { bytesWritten } = await this.fh.write(from, done, from.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async size(): Promise<number> { return (await this.fh.stat()).size; }

  async flush(): Promise<void> {
    if (!this.writable) return;
    try {
      await this.fh.datasync();
    } catch {
      await this.fh.sync();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

export const nodeImageHost: ImageHost = {
  open: (path, writable) => NodeImageFile.open(path, writable),
  resolve: (from, name) => (isAbsolute(name) ? name : resolve(dirname(from), name)),
  inflateRaw: (data, size) => {
    // The data ends somewhere in its last sector; what follows the end of the stream is not ours to read.
    const out = inflateRawSync(data, { finishFlush: 2 /* Z_SYNC_FLUSH: a stream cut short is not an error */, maxOutputLength: size });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
};

/** Open a disk image file for a device or `wasmpc img`. */
export function openDiskImage(path: string, options: OpenImageOptions = {}): Promise<DiskImage> {
  return openImage(nodeImageHost, path, options);
}

function describe(e: unknown, writable: boolean): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such file (ENOENT); check the path';
    case 'EACCES':
    case 'EPERM': return writable ? `permission denied (${code}); open it with ro or snapshot` : `permission denied (${code})`;
    case 'EISDIR': return 'it is a directory (EISDIR)';
    case 'EROFS': return 'the file system is read-only (EROFS); open it with ro or snapshot';
    default: return code ? `${(e as Error).message}` : String(e);
  }
}
