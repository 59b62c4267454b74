// The qcow2 on-disk format (QEMU docs/interop/qcow2.txt): the header and its extensions, table entries, and
// the checks that turn a hostile or damaged header into one clear error at open. All numbers are big-endian.
// Offsets are JavaScript numbers: exact below 2^53 bytes (8 PiB), far beyond any file this host can hold.
import { ImageError, readExact, type ImageFile } from './image-file';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const QCOW2_V2_HEADER_BYTES = 72;
export const QCOW2_V3_HEADER_BYTES = 104;
/** qcow2.txt: cluster_bits is at least 9; QEMU opens at most 2 MiB clusters (21). */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
export const DEFAULT_CLUSTER_BITS = 16;
/** qcow2.txt: refcount_order at most 6 (64-bit refcounts); version 2 always uses 4 (16-bit). */
export const MAX_REFCOUNT_ORDER = 6;
export const DEFAULT_REFCOUNT_ORDER = 4;
/** QEMU's limits: a backing file name of at most 1023 bytes, an L1 table of 32 MiB, a refcount table of 8 MiB. */
const MAX_BACKING_NAME = 1023;
const MAX_L1_BYTES = 32 << 20;
const MAX_REFTABLE_BYTES = 8 << 20;

/** Header field offsets (qcow2.txt "Header"). */
export const enum Hdr {
  Magic = 0, Version = 4, BackingFileOffset = 8, BackingFileSize = 16, ClusterBits = 20, Size = 24,
  CryptMethod = 32, L1Size = 36, L1TableOffset = 40, RefcountTableOffset = 48, RefcountTableClusters = 56,
  NbSnapshots = 60, SnapshotsOffset = 64, IncompatibleFeatures = 72, CompatibleFeatures = 80,
  AutoclearFeatures = 88, RefcountOrder = 96, HeaderLength = 100, CompressionType = 104,
}

/** incompatible_features bits. */
export const INCOMPAT_DIRTY = 1 << 0;
export const INCOMPAT_CORRUPT = 1 << 1;
export const INCOMPAT_DATA_FILE = 1 << 2;
export const INCOMPAT_COMPRESSION = 1 << 3;
export const INCOMPAT_EXTL2 = 1 << 4;
const INCOMPAT_NAMES = ['dirty', 'corrupt', 'external data file', 'compression type', 'extended L2 entries'];

/** Header extension types. */
export const enum Ext {
  End = 0x0000_0000,
  BackingFormat = 0xe279_2aca,
  FeatureTable = 0x6803_f857,
  Bitmaps = 0x2385_2875,
  Encryption = 0x0537_be77,
  DataFile = 0x4441_5441,
}

// An L1 or L2 entry is read as two 32-bit halves, hi (bits 63..32) and lo (bits 31..0):
//
//   L1:  63 COPIED | 62..56 reserved | 55..9 L2 table offset | 8..0 reserved
//   L2:  63 COPIED | 62 COMPRESSED | 61..0 descriptor
//        standard:   61..56 reserved | 55..9 host cluster offset | 8..1 reserved | 0 ZERO (v3)
//        compressed: 61..x sectors beyond the first | x-1..0 host byte offset, x = 62 - (cluster_bits - 8)
export const HI_COPIED = 0x8000_0000;
export const HI_COMPRESSED = 0x4000_0000;
export const LO_ZERO = 0x0000_0001;
/** Bits 55..32 of an offset. */
export const HI_OFFSET_MASK = 0x00ff_ffff;
/** Bits 31..9 of an offset. */
export const LO_OFFSET_MASK = 0xffff_fe00;
export const L1_HI_RESERVED = 0x7f00_0000;
export const L1_LO_RESERVED = 0x0000_01ff;
export const L2_HI_RESERVED = 0x3f00_0000;
export const L2_LO_RESERVED = 0x0000_01fe;
const TWO32 = 0x1_0000_0000;

export function entryOffset(hi: number, lo: number): number {
  return (hi & HI_OFFSET_MASK) * TWO32 + ((lo & LO_OFFSET_MASK) >>> 0);
}

/** A compressed cluster's host byte offset and the number of 512-byte sectors its data starts in. */
export function compressedExtent(hi: number, lo: number, clusterBits: number): { offset: number; sectors: number } {
  const x = 62 - (clusterBits - 8);
  const entry = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const offset = Number(entry & ((1n << BigInt(x)) - 1n));
  const sectors = Number((entry >> BigInt(x)) & ((1n << BigInt(62 - x)) - 1n)) + 1;
  return { offset, sectors };
}

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  /** Virtual disk size in bytes. */
  size: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatible: number;
  autoclear: bigint;
  refcountOrder: number;
  headerLength: number;
  backingFile: string | undefined;
  backingFormat: string | undefined;
}

export const clusterSize = (h: { clusterBits: number }): number => 2 ** h.clusterBits;
/** L1 entries needed to map `size` bytes. */
export function l1EntriesFor(size: number, clusterBits: number): number {
  const l2Span = 2 ** clusterBits * (2 ** clusterBits / 8);
  return Math.ceil(size / l2Span);
}

/** Whether the first bytes of a file are a qcow2 header's magic. */
export function isQcow2Magic(first: Uint8Array): boolean {
  return first.length >= 4 && new DataView(first.buffer, first.byteOffset, 4).getUint32(0) === QCOW2_MAGIC;
}

function u64(v: DataView, at: number, what: string, bad: (m: string) => ImageError): number {
  const big = v.getBigUint64(at);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} ${big} is beyond any file`);
  return Number(big);
}

/**
 * Read and check the header, its extensions and the backing file name. Everything a later step relies on
 * (table positions inside the file, sizes within QEMU's limits) is checked here.
 */
export async function readQcow2Header(file: ImageFile): Promise<Qcow2Header> {
  const fileSize = await file.size();
  const bad = (m: string) => new ImageError(`${file.name}: not a usable qcow2 image: ${m}`);
  if (fileSize < QCOW2_V2_HEADER_BYTES) throw bad(`the file is ${fileSize} bytes, shorter than a qcow2 header (truncated?)`);
  const first = new Uint8Array(Math.min(fileSize, 2 ** MAX_CLUSTER_BITS));
  await readExact(file, 0, first, 'header');
  const v = new DataView(first.buffer);
  if (v.getUint32(Hdr.Magic) !== QCOW2_MAGIC) throw bad('no qcow2 magic (QFI\\xfb)');
  const version = v.getUint32(Hdr.Version);
  if (version !== 2 && version !== 3) throw bad(`version ${version} (only 2 and 3 exist)`);
  const clusterBits = v.getUint32(Hdr.ClusterBits);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw bad(`cluster_bits ${clusterBits} is out of range (${MIN_CLUSTER_BITS}-${MAX_CLUSTER_BITS})`);
  }
  const cs = 2 ** clusterBits;
  const size = u64(v, Hdr.Size, 'virtual size', bad);
  if (size % 512 !== 0) throw bad(`the virtual size ${size} is not a multiple of 512`);
  const crypt = v.getUint32(Hdr.CryptMethod);
  if (crypt !== 0) throw bad(`it is encrypted (crypt_method ${crypt}), which wasmpc does not support`);
  let incompatible = 0;
  let autoclear = 0n;
  let refcountOrder = DEFAULT_REFCOUNT_ORDER;
  let headerLength = QCOW2_V2_HEADER_BYTES;
  if (version === 3) {
    if (fileSize < QCOW2_V3_HEADER_BYTES) throw bad('the file is shorter than a version 3 header (truncated?)');
    const incompat = v.getBigUint64(Hdr.IncompatibleFeatures);
    const unknown = incompat & ~BigInt(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2);
    if (unknown !== 0n) throw bad(`unknown incompatible features 0x${unknown.toString(16)}`);
    incompatible = Number(incompat);
    autoclear = v.getBigUint64(Hdr.AutoclearFeatures);
    refcountOrder = v.getUint32(Hdr.RefcountOrder);
    if (refcountOrder > MAX_REFCOUNT_ORDER) throw bad(`refcount_order ${refcountOrder} is above ${MAX_REFCOUNT_ORDER}`);
    headerLength = v.getUint32(Hdr.HeaderLength);
    if (headerLength < QCOW2_V3_HEADER_BYTES || headerLength % 8 !== 0 || headerLength > cs || headerLength > fileSize) {
      throw bad(`header_length ${headerLength} (must be a multiple of 8 from 104 to the cluster size)`);
    }
    for (const bit of [INCOMPAT_DATA_FILE, INCOMPAT_EXTL2]) {
      if (incompatible & bit) throw bad(`it uses ${INCOMPAT_NAMES[Math.log2(bit)]}, which wasmpc does not support`);
    }
    if (incompatible & INCOMPAT_COMPRESSION) {
      const type = headerLength > Hdr.CompressionType ? first[Hdr.CompressionType]! : 0;
      if (type !== 0) throw bad(`its compressed clusters use compression type ${type} (zstd); wasmpc reads only zlib`);
    }
  }
  const l1Size = v.getUint32(Hdr.L1Size);
  const l1TableOffset = u64(v, Hdr.L1TableOffset, 'L1 table offset', bad);
  const refcountTableOffset = u64(v, Hdr.RefcountTableOffset, 'refcount table offset', bad);
  const refcountTableClusters = v.getUint32(Hdr.RefcountTableClusters);
  const nbSnapshots = v.getUint32(Hdr.NbSnapshots);
  const snapshotsOffset = u64(v, Hdr.SnapshotsOffset, 'snapshot table offset', bad);

  if (l1Size < l1EntriesFor(size, clusterBits)) throw bad(`the L1 table (${l1Size} entries) cannot map the ${size}-byte disk`);
  if (l1Size * 8 > MAX_L1_BYTES) throw bad(`the L1 table of ${l1Size} entries is larger than 32 MiB`);
  checkTable(bad, 'L1 table', l1TableOffset, l1Size * 8, cs, fileSize);
  if (refcountTableClusters === 0) throw bad('the refcount table is empty');
  if (refcountTableClusters * cs > MAX_REFTABLE_BYTES) throw bad(`the refcount table of ${refcountTableClusters} clusters is larger than 8 MiB`);
  checkTable(bad, 'refcount table', refcountTableOffset, refcountTableClusters * cs, cs, fileSize);
  if (overlaps(l1TableOffset, l1Size * 8, refcountTableOffset, refcountTableClusters * cs)) {
    throw bad('the L1 table and the refcount table overlap');
  }
  if (nbSnapshots > 0 && (snapshotsOffset % cs !== 0 || snapshotsOffset === 0 || snapshotsOffset >= fileSize)) {
    throw bad(`the snapshot table offset ${snapshotsOffset} is not a cluster inside the file`);
  }

  // Header extensions, from the end of the header to the end of the first cluster.
  let backingFormat: string | undefined;
  const extEnd = Math.min(cs, first.length);
  for (let at = headerLength; ;) {
    if (at + 8 > extEnd) throw bad('the header extensions run past the first cluster');
    const type = v.getUint32(at);
    const len = v.getUint32(at + 4);
    if (type === Ext.End) break;
    if (at + 8 + len > extEnd) throw bad(`header extension 0x${type.toString(16)} runs past the first cluster`);
    if (type === Ext.BackingFormat) backingFormat = new TextDecoder().decode(first.subarray(at + 8, at + 8 + len));
    if (type === Ext.DataFile) throw bad('it uses an external data file, which wasmpc does not support');
    at += 8 + Math.ceil(len / 8) * 8;
  }

  let backingFile: string | undefined;
  const backingOffset = u64(v, Hdr.BackingFileOffset, 'backing file name offset', bad);
  if (backingOffset !== 0) {
    const len = v.getUint32(Hdr.BackingFileSize);
    if (len === 0 || len > MAX_BACKING_NAME) throw bad(`the backing file name is ${len} bytes (1-${MAX_BACKING_NAME})`);
    if (backingOffset + len > extEnd) throw bad('the backing file name lies outside the first cluster');
    backingFile = new TextDecoder().decode(first.subarray(backingOffset, backingOffset + len));
    if (backingFile.includes('\0')) throw bad('the backing file name holds a NUL byte');
  }
  return {
    version, clusterBits, size, l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots,
    snapshotsOffset, incompatible, autoclear, refcountOrder, headerLength, backingFile, backingFormat,
  };
}

function checkTable(bad: (m: string) => ImageError, what: string, offset: number, bytes: number, cs: number, fileSize: number): void {
  if (bytes === 0) return;
  if (offset % cs !== 0) throw bad(`the ${what} offset ${offset} is not cluster-aligned`);
  if (offset < cs) throw bad(`the ${what} overlaps the header`);
  if (offset + bytes > fileSize) throw bad(`the ${what} (${bytes} bytes at ${offset}) runs past the end of the ${fileSize}-byte file (truncated?)`);
}

export function overlaps(a: number, aLen: number, b: number, bLen: number): boolean {
  return a < b + bLen && b < a + aLen;
}

export interface NewQcow2 {
  size: number;
  version: 2 | 3;
  clusterBits: number;
  backingFile?: string;
  backingFormat?: string;
}

/**
 * A new, empty image as QEMU lays it out: the header (with the backing file format extension and the
 * backing file name) in cluster 0, then the refcount table, the refcount blocks and the L1 table; every
 * cluster used so far has refcount 1. Returns the whole file.
 */
export function newQcow2(spec: NewQcow2): Uint8Array {
  const cs = 2 ** spec.clusterBits;
  const refcountBits = 2 ** DEFAULT_REFCOUNT_ORDER;
  const perBlock = (cs * 8) / refcountBits;
  const l1Size = l1EntriesFor(spec.size, spec.clusterBits);
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  // The refcount structures must count themselves: iterate to a fixed point.
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const b = Math.ceil(total / perBlock);
    const t = Math.ceil((b * 8) / cs);
    if (b === blocks && t === tableClusters) break;
    blocks = b;
    tableClusters = t;
  }
  const total = 1 + tableClusters + blocks + l1Clusters;
  const out = new Uint8Array(total * cs);
  const v = new DataView(out.buffer);
  const headerLength = spec.version === 3 ? QCOW2_V3_HEADER_BYTES + 8 : QCOW2_V2_HEADER_BYTES;
  v.setUint32(Hdr.Magic, QCOW2_MAGIC);
  v.setUint32(Hdr.Version, spec.version);
  v.setUint32(Hdr.ClusterBits, spec.clusterBits);
  v.setBigUint64(Hdr.Size, BigInt(spec.size));
  v.setUint32(Hdr.L1Size, l1Size);
  const reftable = cs;
  const l1 = (1 + tableClusters + blocks) * cs;
  v.setBigUint64(Hdr.L1TableOffset, BigInt(l1));
  v.setBigUint64(Hdr.RefcountTableOffset, BigInt(reftable));
  v.setUint32(Hdr.RefcountTableClusters, tableClusters);
  if (spec.version === 3) {
    v.setUint32(Hdr.RefcountOrder, DEFAULT_REFCOUNT_ORDER);
    v.setUint32(Hdr.HeaderLength, headerLength);
  }
  let at = headerLength;
  const enc = new TextEncoder();
  if (spec.backingFile !== undefined) {
    if (spec.backingFormat !== undefined) {
      const fmt = enc.encode(spec.backingFormat);
      v.setUint32(at, Ext.BackingFormat);
      v.setUint32(at + 4, fmt.length);
      out.set(fmt, at + 8);
      at += 8 + Math.ceil(fmt.length / 8) * 8;
    }
    at += 8; // the end-of-extensions marker (zeros)
    const name = enc.encode(spec.backingFile);
    if (name.length === 0 || name.length > MAX_BACKING_NAME || at + name.length > cs) {
      throw new ImageError(`the backing file name must be 1-${MAX_BACKING_NAME} bytes and fit in the first cluster`);
    }
    out.set(name, at);
    v.setBigUint64(Hdr.BackingFileOffset, BigInt(at));
    v.setUint32(Hdr.BackingFileSize, name.length);
  }
  for (let b = 0; b < blocks; b++) {
    v.setBigUint64(reftable + b * 8, BigInt((1 + tableClusters + b) * cs));
  }
  const block0 = (1 + tableClusters) * cs;
  for (let c = 0; c < total; c++) v.setUint16(block0 + c * 2, 1); // 16-bit refcounts; blocks are contiguous
  return out;
}
