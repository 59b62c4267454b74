// `snapshot` mode: a copy-on-write overlay in memory over any image. Writes land in 4 KiB chunks held in a
// map (a chunk written in part is first filled from the image below); reads take the chunks that exist and the
// rest from below. The image below is opened read-only and never written; everything is dropped at close.
import { checkRange } from './backend';
import { Mutex, type DiskImage, type ImageInfo } from './image';

const CHUNK = 4096;
const SECTOR = 512;

export class OverlayImage implements DiskImage {
  readonly sectorSize = SECTOR;
  readonly readOnly = false;
  readonly canDiscard = false;
  private readonly chunks = new Map<number, Uint8Array>();
  private readonly lock = new Mutex();

  constructor(private readonly base: DiskImage) {}

  get format(): DiskImage['format'] { return this.base.format; }
  get backing(): DiskImage | undefined { return this.base.backing; }
  get size(): number { return this.base.size; }
  get id(): string { return this.base.id; }
  /** Bytes of written data held in memory. */
  get overlayBytes(): number { return this.chunks.size * CHUNK; }

  info(): ImageInfo { return this.base.info(); }

  async readAt(offset: number, into: Uint8Array): Promise<void> {
    for (let done = 0; done < into.length;) {
      const pos = offset + done;
      const within = pos % CHUNK;
      const n = Math.min(CHUNK - within, into.length - done);
      const chunk = this.chunks.get(Math.floor(pos / CHUNK));
      // Runs of chunks not written go to the image below in one read.
      if (!chunk) {
        let end = pos + n;
        while (end < offset + into.length && !this.chunks.has(Math.floor(end / CHUNK))) end = Math.min(end + CHUNK, offset + into.length);
        await this.base.readAt(pos, into.subarray(done, end - offset));
        done = end - offset;
        continue;
      }
      into.set(chunk.subarray(within, within + n), done);
      done += n;
    }
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    checkRange(this, offset, into.length, false);
    await this.readAt(offset, into);
  }

  async write(offset: number, from: Uint8Array): Promise<void> {
    checkRange(this, offset, from.length, true);
    await this.lock.run(async () => {
      for (let done = 0; done < from.length;) {
        const pos = offset + done;
        const within = pos % CHUNK;
        const n = Math.min(CHUNK - within, from.length - done);
        const key = Math.floor(pos / CHUNK);
        let chunk = this.chunks.get(key);
        if (!chunk) {
          chunk = new Uint8Array(CHUNK);
          if (n !== CHUNK) await this.base.readAt(key * CHUNK, chunk);
          this.chunks.set(key, chunk);
        }
        chunk.set(from.subarray(done, done + n), within);
        done += n;
      }
    });
  }

  async flush(): Promise<void> {}

  async discard(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length, true);
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length, true);
    const zeroes = new Uint8Array(Math.min(length, 1 << 20));
    for (let done = 0; done < length; done += zeroes.length) {
      await this.write(offset + done, zeroes.subarray(0, Math.min(zeroes.length, length - done)));
    }
  }

  async close(): Promise<void> {
    this.chunks.clear();
    await this.base.close();
  }
}
