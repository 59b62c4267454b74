// A raw disk image file as a BlockBackend, for Node: asynchronous positioned reads and writes on one
// fs.promises FileHandle (requests may overlap and complete out of order), FLUSH as fdatasync, a read-only mode,
// and a snapshot mode that keeps every write in memory as a copy-on-write overlay and never writes the file.
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { BlockError, checkRange, type BlockBackend } from '../block/backend';

const SECTOR = 512;
/** WRITE_ZEROES on the file goes out in chunks of this many bytes. */
const ZERO_CHUNK = 1024 * 1024;
/** GET_ID / IDENTIFY serial numbers hold 20 bytes. */
const ID_BYTES = 20;

export interface BlockFileOptions {
  /** Open the file read-only; the device reports a read-only disk. */
  ro?: boolean;
  /** Keep writes in memory only (lost when the backend closes); the file is opened read-only. */
  snapshot?: boolean;
  /** Serial number; defaults to the file's name, cut to 20 bytes. */
  id?: string;
}

export class FileBlockBackend implements BlockBackend {
  readonly sectorSize = SECTOR;
  /** Node has no portable hole punching, so discard is accepted and does nothing. */
  readonly canDiscard = false;
  /** Snapshot mode: sector index -> its current content. Entries are replaced, never changed in place. */
  private readonly overlay: Map<number, Uint8Array> | undefined;
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
    readonly size: number,
    readonly readOnly: boolean,
    readonly id: string,
    snapshot: boolean,
  ) {
    this.overlay = snapshot ? new Map() : undefined;
  }

  /** Open `path`. Errors name the file and the fix: a missing file, no permission, a size not in sectors. */
  static async open(path: string, opts: BlockFileOptions = {}): Promise<FileBlockBackend> {
    const ro = opts.ro ?? false;
    const snapshot = opts.snapshot ?? false;
    let file: FileHandle;
    try {
      file = await open(path, ro || snapshot ? 'r' : 'r+');
    } catch (e) {
      throw new BlockError('io', `wasmpc: cannot open disk image ${path}: ${describe(e, ro || snapshot)}`);
    }
    let size: number;
    try {
      const st = await file.stat();
      if (!st.isFile()) throw new BlockError('io', 'not a regular file; give a raw image file');
      size = st.size;
    } catch (e) {
      await file.close();
      throw new BlockError('io', `wasmpc: cannot use disk image ${path}: ${(e as Error).message}`);
    }
    if (size % SECTOR !== 0) {
      await file.close();
      throw new BlockError('range',
        `wasmpc: disk image ${path} is ${size} bytes, not a multiple of 512; pad it (truncate -s ${Math.ceil(size / SECTOR) * SECTOR} ${path})`);
    }
    const id = opts.id ?? basename(path);
    return new FileBlockBackend(file, path, size, ro, truncateId(id), snapshot);
  }

  /** Bytes held by the snapshot overlay (0 outside snapshot mode). */
  get overlayBytes(): number { return (this.overlay?.size ?? 0) * SECTOR; }

  async read(offset: number, into: Uint8Array): Promise<void> {
    this.checkOpen();
    checkRange(this, offset, into.length, false);
    await this.readFile(offset, into);
    const overlay = this.overlay;
    if (!overlay || overlay.size === 0) return;
    const first = offset / SECTOR;
    const count = into.length / SECTOR;
    for (let i = 0; i < count; i++) {
      const s = overlay.get(first + i);
      if (s) into.set(s, i * SECTOR);
    }
  }

  async write(offset: number, from: Uint8Array): Promise<void> {
    this.checkOpen();
    checkRange(this, offset, from.length, true);
    const overlay = this.overlay;
    if (overlay) {
      const first = offset / SECTOR;
      for (let i = 0; i * SECTOR < from.length; i++) overlay.set(first + i, from.slice(i * SECTOR, (i + 1) * SECTOR));
      return;
    }
    await this.writeFile(offset, from);
  }

  /** Make completed writes durable: fdatasync, or fsync where the platform has no fdatasync. */
  async flush(): Promise<void> {
    this.checkOpen();
    if (this.readOnly || this.overlay) return;
    try {
      await this.file.datasync();
    } catch {
      try {
        await this.file.sync();
      } catch (e) {
        throw new BlockError('io', `wasmpc: ${this.path}: flush failed: ${(e as Error).message}`);
      }
    }
  }

  /** The range's content becomes unspecified: here it simply stays as it was. */
  async discard(offset: number, length: number): Promise<void> {
    this.checkOpen();
    checkRange(this, offset, length, true);
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    this.checkOpen();
    checkRange(this, offset, length, true);
    const overlay = this.overlay;
    if (overlay) {
      for (let i = 0; i * SECTOR < length; i++) overlay.set(offset / SECTOR + i, ZERO_SECTOR);
      return;
    }
    const zeroes = new Uint8Array(Math.min(length, ZERO_CHUNK));
    for (let done = 0; done < length; done += zeroes.length) {
      const n = Math.min(zeroes.length, length - done);
      await this.writeFile(offset + done, zeroes.subarray(0, n));
    }
  }

  /** Close the file; the snapshot overlay is dropped. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.overlay?.clear();
    await this.file.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new BlockError('io', `wasmpc: ${this.path} is closed`);
  }

  /** A positioned read of exactly into.length bytes; short reads continue, end of file is an error. */
  private async readFile(offset: number, into: Uint8Array): Promise<void> {
    let done = 0;
    while (done < into.length) {
      let n: number;
      try {
        ({ bytesRead: n } = await this.file.read(into, done, into.length - done, offset + done));
      } catch (e) {
        throw new BlockError('io', `wasmpc: ${this.path}: read at byte ${offset + done} failed: ${(e as Error).message}`);
      }
      if (n === 0) throw new BlockError('io', `wasmpc: ${this.path}: ended at byte ${offset + done}; was the image truncated while in use?`);
      done += n;
    }
  }

  private async writeFile(offset: number, from: Uint8Array): Promise<void> {
    let done = 0;
    while (done < from.length) {
      let n: number;
      try {
        ({ bytesWritten: n } = await this.file.write(from, done, from.length - done, offset + done));
      } catch (e) {
        throw new BlockError('io', `wasmpc: ${this.path}: write at byte ${offset + done} failed: ${(e as Error).message}`);
      }
      done += n;
    }
  }
}

/** The sector every zeroed overlay entry shares (entries are never modified in place). */
const ZERO_SECTOR = new Uint8Array(SECTOR);

function describe(e: unknown, readOnly: boolean): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such file (ENOENT); check the path';
    case 'EACCES':
    case 'EPERM': return readOnly ? `permission denied (${code})` : `permission denied (${code}); open it with ro or snapshot`;
    case 'EISDIR': return 'it is a directory (EISDIR)';
    case 'EROFS': return 'the file system is read-only (EROFS); open it with ro or snapshot';
    default: return code ? `${(e as Error).message}` : String(e);
  }
}

/** At most 20 bytes of UTF-8, not cutting a character in half. */
function truncateId(id: string): string {
  const enc = new TextEncoder();
  let out = '';
  for (const ch of id) {
    if (enc.encode(out + ch).length > ID_BYTES) break;
    out += ch;
  }
  return out;
}
