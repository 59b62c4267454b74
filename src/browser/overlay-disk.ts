// A writable disk in the browser: a qcow2 overlay in an OverlayStore (OPFS) whose backing file is the image at
// its URL, read lazily over HTTP. The qcow2 code in src/block does all the work — allocation, copy-on-write
// from the backing image, reads that fall through to it — so the overlay is a standard file: "Save disk"
// hands it to the user as it is, and `qemu-img rebase -u -b IMAGE` points it at a local copy of the image.
// An overlay left by an earlier visit is used again when it names the same image of the same size.
import type { BlockBackend } from '../block/backend';
import type { DiskImage, ImageFormat } from '../block/image';
import { ImageError, type ImageFile, type ImageHost } from '../block/image-file';
import { detectFormat, openImage } from '../block/open';
import { DEFAULT_CLUSTER_BITS, isQcow2Magic, newQcow2, readQcow2Header } from '../block/qcow2-format';
import type { OverlayStore } from './overlay-store';

/** Overlay file names: the base image's URL hashed (FNV-1a, 32 bits), so each image has its own. */
export function overlayName(url: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(url)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return `wasmpc-overlay-${h.toString(16).padStart(8, '0')}.qcow2`;
}

/** The format of the image at `url`: its extension when that says, else its first bytes. */
export async function imageFormat(host: ImageHost, url: string): Promise<ImageFormat> {
  const path = new URL(url).pathname.toLowerCase();
  if (path.endsWith('.qcow2')) return 'qcow2';
  if (path.endsWith('.raw') || path.endsWith('.iso')) return 'raw';
  return detectFormat(await host.open(url, false));
}

/** The guest-visible size of the image at `url`. */
async function imageSize(host: ImageHost, url: string, format: ImageFormat): Promise<number> {
  const file = await host.open(url, false);
  return format === 'qcow2' ? (await readQcow2Header(file)).size : file.size();
}

export class OverlayDisk implements BlockBackend {
  readonly sectorSize = 512;
  readonly readOnly = false;
  readonly canDiscard = false;
  private image!: DiskImage;
  /** The overlay file the image has open (OPFS allows one handle per file). */
  private file: ImageFile | undefined;
  private readonly host: ImageHost;

  private constructor(
    http: ImageHost,
    private readonly store: OverlayStore,
    /** The overlay's name in the store. */
    readonly name: string,
    /** The overlay held changes from an earlier visit when it was opened. */
    readonly restored: boolean,
  ) {
    this.host = {
      open: async (path, writable) => {
        if (path !== name) return http.open(path, writable);
        this.file = await store.open(name);
        return this.file;
      },
      resolve: (from, backing) => (from === name ? backing : http.resolve(from, backing)),
      ...(http.inflateRaw ? { inflateRaw: http.inflateRaw } : {}),
    };
  }

  /** The disk of the image at `url` (absolute, or a local file's path) with its overlay in `store`. */
  static async open(http: ImageHost, url: string, format: ImageFormat | undefined, store: OverlayStore): Promise<OverlayDisk> {
    const fmt = format ?? await imageFormat(http, url);
    const size = await imageSize(http, url, fmt);
    const name = overlayName(url);
    const old = await store.open(name);
    const restored = await matches(old, url, size);
    await old.close();
    if (!restored) await create(store, name, url, fmt, size);
    const disk = new OverlayDisk(http, store, name, restored);
    await disk.reopen();
    return disk;
  }

  get size(): number { return this.image.size; }
  get id(): string { return this.image.backing?.id ?? this.image.id; }

  read(offset: number, into: Uint8Array): Promise<void> { return this.track(this.image.read(offset, into)); }
  write(offset: number, from: Uint8Array): Promise<void> { return this.track(this.image.write(offset, from)); }
  flush(): Promise<void> { return this.track(this.image.flush()); }
  discard(offset: number, length: number): Promise<void> { return this.track(this.image.discard(offset, length)); }
  writeZeroes(offset: number, length: number): Promise<void> { return this.track(this.image.writeZeroes(offset, length)); }
  close(): Promise<void> { return this.image.close(); }

  /** The overlay file as it is after a flush: a qcow2 image whose backing file is the disk's URL. */
  async save(): Promise<Uint8Array<ArrayBuffer>> {
    await this.image.flush();
    const bytes = new Uint8Array(await this.file!.size());
    await this.file!.read(0, bytes);
    return bytes;
  }

  /** Drop every write: the disk reads as the image at its URL again. Call with the guest stopped. */
  async discardChanges(): Promise<void> {
    // A request the device started before the guest stopped finishes on the old overlay.
    await Promise.allSettled([...this.pending]);
    const backing = this.image.backing!;
    const url = backingUrl(this.image);
    await this.image.close();
    await create(this.store, this.name, url, backing.format, backing.size);
    await this.reopen();
  }

  /** Requests under way, which discardChanges() waits for. */
  private readonly pending = new Set<Promise<void>>();

  private track(request: Promise<void>): Promise<void> {
    this.pending.add(request);
    const done = () => { this.pending.delete(request); };
    request.then(done, done);
    return request;
  }

  private async reopen(): Promise<void> {
    this.image = await openImage(this.host, this.name, { format: 'qcow2' });
  }
}

function backingUrl(image: DiskImage): string {
  const name = image.info().backingFile;
  if (name === undefined) throw new ImageError('the overlay has no backing file');
  return name;
}

/** Whether `file` is an overlay of the `size`-byte image at `url`. */
async function matches(file: ImageFile, url: string, size: number): Promise<boolean> {
  const magic = new Uint8Array(4);
  if (await file.read(0, magic) !== 4 || !isQcow2Magic(magic)) return false;
  try {
    const header = await readQcow2Header(file);
    return header.backingFile === url && header.size === size;
  } catch {
    return false;
  }
}

/** Make `name` an empty overlay of the `size`-byte image at `url`. */
async function create(store: OverlayStore, name: string, url: string, format: ImageFormat, size: number): Promise<void> {
  const file = await store.create(name);
  try {
    await file.write(0, newQcow2({ size, version: 3, clusterBits: DEFAULT_CLUSTER_BITS, backingFile: url, backingFormat: format }));
    await file.flush();
  } finally {
    await file.close();
  }
}
