// Where a browser disk's writes are kept: files in the origin private file system (OPFS), through the
// synchronous access handles a dedicated Worker may open, so they outlive the page; or, where OPFS is missing
// (an insecure origin, some private windows), files in memory that go with the page.
import { MemoryImageFile, type ImageFile } from '../block/image-file';

/** The parts of FileSystemSyncAccessHandle used here (TypeScript's DOM lib does not declare the Worker-only API). */
interface SyncAccessHandle {
  read(into: Uint8Array, options: { at: number }): number;
  write(from: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

interface SyncFileHandle {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
}

export interface OverlayStore {
  /** OPFS: the overlays are still there when the page is opened again. */
  readonly persistent: boolean;
  /** The file `name` as it was left, or an empty one. */
  open(name: string): Promise<ImageFile>;
  /** The file `name`, emptied. */
  create(name: string): Promise<ImageFile>;
}

/** An OPFS file through its synchronous access handle: reads and writes at positions, flush to the disk. */
class OpfsImageFile implements ImageFile {
  readonly writable = true;
  private closed = false;

  constructor(readonly name: string, private readonly handle: SyncAccessHandle) {}

  get identity(): string { return `opfs:${this.name}`; }

  async read(offset: number, into: Uint8Array): Promise<number> {
    let done = 0;
    while (done < into.length) {
      const n = this.handle.read(into.subarray(done), { at: offset + done });
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  async write(offset: number, from: Uint8Array): Promise<void> {
    let done = 0;
    while (done < from.length) done += this.handle.write(from.subarray(done), { at: offset + done });
  }

  async size(): Promise<number> { return this.handle.getSize(); }
  async flush(): Promise<void> { this.handle.flush(); }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }
}

class OpfsStore implements OverlayStore {
  readonly persistent = true;
  constructor(private readonly dir: FileSystemDirectoryHandle) {}

  async open(name: string): Promise<ImageFile> { return new OpfsImageFile(name, await this.handle(name)); }

  async create(name: string): Promise<ImageFile> {
    const handle = await this.handle(name);
    handle.truncate(0);
    return new OpfsImageFile(name, handle);
  }

  private async handle(name: string): Promise<SyncAccessHandle> {
    const file = await this.dir.getFileHandle(name, { create: true }) as unknown as SyncFileHandle;
    return file.createSyncAccessHandle();
  }
}

class MemoryStore implements OverlayStore {
  readonly persistent = false;
  private readonly files = new Map<string, MemoryImageFile>();

  async open(name: string): Promise<ImageFile> { return this.files.get(name) ?? this.create(name); }

  async create(name: string): Promise<ImageFile> {
    const file = new MemoryImageFile(name);
    this.files.set(name, file);
    return file;
  }
}

/** OPFS when this Worker can open sync access handles in it; memory otherwise, with the reason. */
export async function openOverlayStore(): Promise<{ store: OverlayStore; why?: string }> {
  try {
    const dir = await navigator.storage.getDirectory();
    const probe = await dir.getFileHandle('wasmpc-probe', { create: true }) as unknown as Partial<SyncFileHandle>;
    if (typeof probe.createSyncAccessHandle !== 'function') throw new Error('no createSyncAccessHandle');
    (await probe.createSyncAccessHandle()).close();
    await dir.removeEntry('wasmpc-probe');
    return { store: new OpfsStore(dir) };
  } catch (e) {
    return { store: new MemoryStore(), why: `the browser's private file system is unavailable (${(e as Error).message})` };
  }
}
