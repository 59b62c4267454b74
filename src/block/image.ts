// An open disk image: the BlockBackend a disk device uses, plus what image code needs from an image it sits
// on (a qcow2 backing file, a snapshot overlay, `wasmpc img convert`): reads of any byte range, and a
// description for `wasmpc img info`.
import type { BlockBackend } from './backend';

export const IMAGE_FORMATS = ['raw', 'qcow2'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export interface ImageInfo {
  format: ImageFormat;
  /** The guest-visible size in bytes. */
  virtualSize: number;
  /** qcow2 only. */
  clusterSize?: number;
  /** qcow2 format version (2 or 3). */
  version?: number;
  /** The backing file's name as the image records it, and its recorded format. */
  backingFile?: string;
  backingFormat?: string;
}

export interface DiskImage extends BlockBackend {
  readonly format: ImageFormat;
  /** The image this one reads unallocated data from, if any. */
  readonly backing: DiskImage | undefined;
  /** Read any byte range, without alignment rules; bytes past `size` read as zeros. */
  readAt(offset: number, into: Uint8Array): Promise<void>;
  info(): ImageInfo;
}

/** GET_ID / IDENTIFY serial numbers hold 20 bytes: the file's base name, cut at a character boundary. */
export function diskId(name: string): string {
  const base = name.split(/[\\/]/).pop() || name;
  const enc = new TextEncoder();
  let out = '';
  for (const ch of base) {
    if (enc.encode(out + ch).length > 20) break;
    out += ch;
  }
  return out;
}

/** A promise-chain lock: metadata updates of one image run one at a time. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(body: () => Promise<T>): Promise<T> {
    const result = this.tail.then(body);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
