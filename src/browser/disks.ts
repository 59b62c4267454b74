// The Worker's disks: the PcHost.openDisk of the browser. Every image is read lazily, over HTTP or from a local
// file the page passed (file-disk.ts, named by localPath()); a writable disk
// gets a qcow2 overlay in OPFS (overlay-disk.ts), `snapshot` keeps writes in memory, and `ro` and CDs are read
// as they are. The page's "Save disk" and "Discard changes" act on the overlays through here.
import type { BlockBackend } from '../block/backend';
import { openImage } from '../block/open';
import type { ImageFile, ImageHost } from '../block/image-file';
import type { DiskImageOptions } from '../machine/config';
import { AssemblyError } from '../pc/assemble';
import { FileImageHost, isLocalPath } from './file-disk';
import { HttpImageHost } from './http-disk';
import { OverlayDisk, imageFormat } from './overlay-disk';
import { openOverlayStore, type OverlayStore } from './overlay-store';
import type { DiskReport } from './protocol';

export class BrowserDisks {
  private readonly http = new HttpImageHost();
  /** The local files the page passed. */
  readonly local = new FileImageHost();
  /** Local paths to the local files, everything else over HTTP. */
  private readonly host: ImageHost = {
    open: (path: string, writable: boolean): Promise<ImageFile> => (isLocalPath(path) ? this.local : this.http).open(path, writable),
    resolve: (from: string, name: string): string => (isLocalPath(from) ? this.local : this.http).resolve(from, name),
    inflateRaw: this.http.inflateRaw,
  };
  private store: Promise<{ store: OverlayStore; why?: string }> | undefined;
  private readonly overlays: Array<{ url: string; disk: OverlayDisk }> = [];

  /** PcHost.openDisk: `path` is an absolute URL or a local file's path. */
  async openDisk(path: string, opts: DiskImageOptions, where: string): Promise<BlockBackend> {
    try {
      if (opts.ro || opts.snapshot) {
        const format = opts.format ?? await imageFormat(this.host, path);
        return await openImage(this.host, path, { readOnly: opts.ro ?? false, snapshot: opts.snapshot ?? false, format });
      }
      const { store } = await this.openStore();
      const disk = await OverlayDisk.open(this.host, path, opts.format, store);
      this.overlays.push({ url: path, disk });
      return disk;
    } catch (e) {
      throw new AssemblyError(`wasmpc: ${where}: ${(e as Error).message}`);
    }
  }

  async report(): Promise<DiskReport> {
    const { why } = await this.openStore();
    const stats = this.http.stats();
    const local = this.local.stats();
    return {
      writable: this.overlays.map((o) => o.url),
      store: why === undefined ? { kind: 'opfs' } : { kind: 'memory', why },
      restored: this.overlays.filter((o) => o.disk.restored).map((o) => o.url),
      fetched: stats.bytes + local.bytes,
      imageBytes: stats.imageBytes + local.imageBytes,
    };
  }

  /** Each overlay, named for download after its disk: `debian.qcow2` gives `debian-changes.qcow2`. */
  async save(): Promise<Array<{ name: string; bytes: Uint8Array<ArrayBuffer> }>> {
    const out = [];
    for (const { url, disk } of this.overlays) {
      const base = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '').replace(/\.[^.]*$/, '') || 'disk';
      out.push({ name: `${base}-changes.qcow2`, bytes: await disk.save() });
    }
    return out;
  }

  /** Drop the changes of every overlay; the guest must be stopped. */
  async discard(): Promise<void> {
    for (const { disk } of this.overlays) await disk.discardChanges();
  }

  private openStore(): Promise<{ store: OverlayStore; why?: string }> {
    this.store ??= openOverlayStore();
    return this.store;
  }
}
