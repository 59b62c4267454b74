// A raw disk image: the file's bytes are the disk's bytes.
import { BlockError, checkRange } from './backend';
import { diskId, type DiskImage, type ImageInfo } from './image';
import type { ImageFile } from './image-file';

const SECTOR = 512;
/** WRITE ZEROES goes to the file in chunks of this many bytes. */
const ZERO_CHUNK = 1 << 20;

export class RawImage implements DiskImage {
  readonly format = 'raw' as const;
  readonly sectorSize = SECTOR;
  /** No portable hole punching: discard is accepted and leaves the data as it was. */
  readonly canDiscard = false;
  readonly backing = undefined;
  readonly id: string;
  private closed = false;

  /** `size` is the file's length when opened; the disk does not grow. */
  constructor(private readonly file: ImageFile, readonly size: number, readonly readOnly: boolean) {
    this.id = diskId(file.name);
  }

  static async open(file: ImageFile, readOnly: boolean): Promise<RawImage> {
    return new RawImage(file, await file.size(), readOnly || !file.writable);
  }

  info(): ImageInfo { return { format: 'raw', virtualSize: this.size }; }

  async readAt(offset: number, into: Uint8Array): Promise<void> {
    this.checkOpen();
    const inFile = Math.max(0, Math.min(into.length, this.size - offset));
    let n: number;
    try {
      n = inFile > 0 ? await this.file.read(offset, into.subarray(0, inFile)) : 0;
    } catch (e) {
      throw new BlockError('io', `${this.file.name}: read at byte ${offset} failed: ${(e as Error).message}`);
    }
    // Past the end (or a file truncated while in use) reads as zeros, as a backing file's tail does.
    into.fill(0, n);
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    checkRange(this, offset, into.length, false);
    const n = await this.readRaw(offset, into);
    if (n !== into.length) throw new BlockError('io', `${this.file.name}: ended at byte ${offset + n}; was the image truncated while in use?`);
  }

  async write(offset: number, from: Uint8Array): Promise<void> {
    this.checkOpen();
    checkRange(this, offset, from.length, true);
    try {
      await this.file.write(offset, from);
    } catch (e) {
      throw new BlockError('io', `${this.file.name}: write at byte ${offset} failed: ${(e as Error).message}`);
    }
  }

  async flush(): Promise<void> {
    this.checkOpen();
    if (this.readOnly) return;
    try {
      await this.file.flush();
    } catch (e) {
      throw new BlockError('io', `${this.file.name}: flush failed: ${(e as Error).message}`);
    }
  }

  async discard(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length, true);
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length, true);
    const zeroes = new Uint8Array(Math.min(length, ZERO_CHUNK));
    for (let done = 0; done < length; done += zeroes.length) {
      await this.write(offset + done, zeroes.subarray(0, Math.min(zeroes.length, length - done)));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }

  private async readRaw(offset: number, into: Uint8Array): Promise<number> {
    this.checkOpen();
    try {
      return await this.file.read(offset, into);
    } catch (e) {
      throw new BlockError('io', `${this.file.name}: read at byte ${offset} failed: ${(e as Error).message}`);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new BlockError('io', `${this.file.name} is closed`);
  }
}
