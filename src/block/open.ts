// Opening a disk image the way every disk device does (virtio-blk, AHCI disks and CDs, `wasmpc img`): the
// format from the file's magic unless given, the backing chain of a qcow2 image (read-only, relative names
// against the naming image's directory, loops and missing files as errors), and `snapshot` as an overlay in
// memory over an image opened read-only.
import { IMAGE_FORMATS, type DiskImage, type ImageFormat } from './image';
import { ImageError, type ImageFile, type ImageHost } from './image-file';
import { OverlayImage } from './overlay';
import { Qcow2Image } from './qcow2';
import { isQcow2Magic, readQcow2Header } from './qcow2-format';
import { RawImage } from './raw';

/** Backing chains deeper than this are refused (QEMU has no fixed limit; real chains are short). */
export const MAX_BACKING_DEPTH = 16;

export interface OpenImageOptions {
  /** The format, overriding detection: a raw image whose guest wrote a qcow2 header stays raw. */
  format?: ImageFormat;
  readOnly?: boolean;
  /** Keep writes in memory; the file is opened read-only and never written. */
  snapshot?: boolean;
}

/** Detect a file's format from its first bytes. */
export async function detectFormat(file: ImageFile): Promise<ImageFormat> {
  const magic = new Uint8Array(4);
  const n = await file.read(0, magic);
  return n === 4 && isQcow2Magic(magic) ? 'qcow2' : 'raw';
}

export function parseFormat(name: string): ImageFormat {
  if (!(IMAGE_FORMATS as readonly string[]).includes(name)) {
    throw new ImageError(`unknown image format '${name}' (known: ${IMAGE_FORMATS.join(', ')})`);
  }
  return name as ImageFormat;
}

export async function openImage(host: ImageHost, path: string, options: OpenImageOptions = {}): Promise<DiskImage> {
  const snapshot = options.snapshot ?? false;
  const readOnly = (options.readOnly ?? false) || snapshot;
  const image = await openChain(host, path, options.format, readOnly, []);
  if (image.format === 'raw' && image.size % 512 !== 0) {
    await image.close();
    throw new ImageError(`${path} is ${image.size} bytes, not a multiple of 512; pad it (truncate -s ${Math.ceil(image.size / 512) * 512} ${path})`);
  }
  return snapshot ? new OverlayImage(image) : image;
}

async function openChain(host: ImageHost, path: string, format: ImageFormat | undefined, readOnly: boolean, chain: ImageFile[]): Promise<DiskImage> {
  const file = await host.open(path, !readOnly);
  try {
    const loop = chain.find((f) => f.identity === file.identity);
    if (loop) throw new ImageError(`backing file loop: ${[...chain, file].map((f) => f.name).join(' -> ')}`);
    if (chain.length > MAX_BACKING_DEPTH) throw new ImageError(`${chain[0]!.name}: the backing chain is deeper than ${MAX_BACKING_DEPTH} images`);
    const fmt = format ?? await detectFormat(file);
    if (fmt === 'raw') return await RawImage.open(file, readOnly);
    const header = await readQcow2Header(file);
    let backing: DiskImage | undefined;
    if (header.backingFile !== undefined) {
      let backingFormat: ImageFormat | undefined;
      if (header.backingFormat !== undefined) {
        if (!(IMAGE_FORMATS as readonly string[]).includes(header.backingFormat)) {
          throw new ImageError(`${file.name}: its backing file ${header.backingFile} has format '${header.backingFormat}', which wasmpc cannot read (raw, qcow2)`);
        }
        backingFormat = header.backingFormat as ImageFormat;
      }
      const where = host.resolve(path, header.backingFile);
      try {
        backing = await openChain(host, where, backingFormat, true, [...chain, file]);
      } catch (e) {
        if (e instanceof ImageError && e.message.startsWith('backing file loop')) throw e;
        throw new ImageError(`${file.name}: backing file ${header.backingFile}: ${(e as Error).message}`);
      }
    }
    try {
      return await Qcow2Image.open(file, header, { readOnly, backing, inflateRaw: host.inflateRaw });
    } catch (e) {
      await backing?.close();
      throw e;
    }
  } catch (e) {
    await file.close();
    throw e;
  }
}
