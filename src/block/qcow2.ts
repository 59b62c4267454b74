// A qcow2 image (QEMU docs/interop/qcow2.txt, versions 2 and 3) as a disk: reads of standard, zero and
// compressed (deflate) clusters and of a backing image; writes that allocate clusters at the end of the file
// and keep the refcounts exact, so `qemu-img check` finds nothing to report.
//
// At open every L2 table is read and every entry checked against the file: a table or cluster outside the
// file, or data that overlaps metadata, is an error then, so a guest write can never land on the header, a
// table or a refcount block, nor outside the image. Images with internal snapshots (shared clusters) open
// read-only. The L1 and L2 tables stay in memory, so mapping a guest offset needs no I/O.
import { BlockError, checkRange } from './backend';
import { diskId, Mutex, type DiskImage, type ImageInfo } from './image';
import { ImageError, readExact, type ImageFile, type InflateRaw } from './image-file';
import {
  compressedExtent, entryOffset, Hdr, HI_COMPRESSED, HI_COPIED, HI_OFFSET_MASK, INCOMPAT_CORRUPT, INCOMPAT_DIRTY,
  L1_HI_RESERVED, L1_LO_RESERVED, L2_HI_RESERVED, L2_LO_RESERVED, LO_ZERO, type Qcow2Header,
} from './qcow2-format';
import { Refcounts } from './qcow2-refcount';

const SECTOR = 512;
const TWO32 = 0x1_0000_0000;

/** Where a guest cluster's data is. */
type Mapping =
  | { kind: 'unallocated' }
  | { kind: 'zero'; host: number }
  | { kind: 'data'; host: number }
  | { kind: 'compressed'; offset: number; sectors: number };

export interface Qcow2Options {
  readOnly: boolean;
  backing: DiskImage | undefined;
  inflateRaw: InflateRaw | undefined;
}

export class Qcow2Image implements DiskImage {
  readonly format = 'qcow2' as const;
  readonly sectorSize = SECTOR;
  readonly canDiscard = false;
  readonly id: string;
  readonly size: number;
  readonly readOnly: boolean;
  readonly backing: DiskImage | undefined;
  private readonly cs: number;
  private readonly l2Entries: number;
  /** L1 entries as (hi, lo) pairs. */
  private readonly l1: Uint32Array;
  /** The L2 table of each L1 entry, as (hi, lo) pairs; undefined where the entry is 0. */
  private readonly l2: Array<Uint32Array | undefined>;
  private readonly lock = new Mutex();
  /** The last decompressed cluster, for reads that take a compressed cluster in pieces. */
  private inflated: { key: number; data: Uint8Array } | undefined;
  private closed = false;

  private constructor(
    private readonly file: ImageFile,
    private readonly header: Qcow2Header,
    private readonly refcounts: Refcounts | undefined,
    private fileSize: number,
    l1: Uint32Array,
    l2: Array<Uint32Array | undefined>,
    private readonly options: Qcow2Options,
  ) {
    this.id = diskId(file.name);
    this.size = header.size;
    this.cs = 2 ** header.clusterBits;
    this.l2Entries = this.cs / 8;
    this.l1 = l1;
    this.l2 = l2;
    this.readOnly = options.readOnly;
    this.backing = options.backing;
  }

  /** Open an image whose header has been read; `file` must be writable unless readOnly. */
  static async open(file: ImageFile, header: Qcow2Header, options: Qcow2Options): Promise<Qcow2Image> {
    const bad = (m: string) => new ImageError(`${file.name}: corrupt qcow2 image: ${m}; \`qemu-img check -r all\` may repair it`);
    const cs = 2 ** header.clusterBits;
    const fileSize = await file.size();
    if (!options.readOnly) {
      if (header.incompatible & INCOMPAT_CORRUPT) throw new ImageError(`${file.name}: the image is marked corrupt; open it read-only (ro) or repair it with qemu-img check -r all`);
      if (header.incompatible & INCOMPAT_DIRTY) throw new ImageError(`${file.name}: the image is marked dirty (lazy refcounts); run qemu-img check -r all before writing to it`);
      if (header.nbSnapshots > 0) throw new ImageError(`${file.name}: the image has ${header.nbSnapshots} internal snapshots, which wasmpc cannot write; open it with ro or snapshot`);
    }
    const refcounts = await Refcounts.load(file, {
      clusterBits: header.clusterBits, refcountOrder: header.refcountOrder,
      tableOffset: header.refcountTableOffset, tableClusters: header.refcountTableClusters,
    }, fileSize, !options.readOnly);

    // Metadata clusters: the header, the L1 table, the refcount structures, then each L2 table.
    const metadata = new Set<number>([0]);
    const claim = (cluster: number, what: string) => {
      if (metadata.has(cluster)) throw bad(`the ${what} at byte ${cluster * cs} overlaps other metadata`);
      metadata.add(cluster);
    };
    for (let c = 0; c < Math.ceil((header.l1Size * 8) / cs); c++) claim(header.l1TableOffset / cs + c, 'L1 table');
    for (const c of refcounts.metadataClusters()) claim(c, 'refcount structure');

    const l1Bytes = new Uint8Array(header.l1Size * 8);
    await readExact(file, header.l1TableOffset, l1Bytes, 'L1 table');
    const l1 = toPairs(l1Bytes);
    const l2: Array<Uint32Array | undefined> = [];
    for (let i = 0; i < header.l1Size; i++) {
      const hi = l1[2 * i]!;
      const lo = l1[2 * i + 1]!;
      const off = entryOffset(hi, lo);
      if (off === 0) { l2.push(undefined); continue; }
      if ((hi & L1_HI_RESERVED) || (lo & L1_LO_RESERVED) || off % cs !== 0) throw bad(`L1 entry ${i} has reserved bits set or is misaligned`);
      if (off + cs > fileSize) throw bad(`L1 entry ${i} points to an L2 table at byte ${off}, past the end of the ${fileSize}-byte file`);
      claim(off / cs, `L2 table of L1 entry ${i}`);
      const table = new Uint8Array(cs);
      await readExact(file, off, table, 'L2 table');
      l2.push(toPairs(table));
    }
    // Data clusters must lie inside the file and outside metadata.
    const firstUnmappable = Math.ceil(header.size / cs);
    l2.forEach((table, i) => {
      if (!table) return;
      for (let j = 0; j < table.length / 2; j++) {
        const hi = table[2 * j]!;
        const lo = table[2 * j + 1]!;
        if (hi === 0 && lo === 0) continue;
        const guest = i * (cs / 8) + j;
        if (hi & HI_COMPRESSED) {
          const { offset } = compressedExtent(hi, lo, header.clusterBits);
          if (offset < cs || offset >= fileSize) throw bad(`the compressed cluster of guest cluster ${guest} lies outside the file (byte ${offset})`);
          if (metadata.has(Math.floor(offset / cs))) throw bad(`the compressed cluster of guest cluster ${guest} overlaps metadata`);
          continue;
        }
        const off = entryOffset(hi, lo);
        if ((hi & L2_HI_RESERVED) || (lo & L2_LO_RESERVED) || (header.version === 2 && (lo & LO_ZERO))) {
          throw bad(`the L2 entry of guest cluster ${guest} has reserved bits set`);
        }
        if (off === 0 || guest >= firstUnmappable) continue; // clusters past the disk are never read or written
        if (off + cs > fileSize) throw bad(`guest cluster ${guest} maps to byte ${off}, past the end of the ${fileSize}-byte file`);
        if (metadata.has(off / cs)) throw bad(`guest cluster ${guest} maps to byte ${off}, which holds metadata`);
      }
    });
    const image = new Qcow2Image(file, header, options.readOnly ? undefined : refcounts, fileSize, l1, l2, options);
    // qcow2.txt: a writer must first clear the autoclear features it does not maintain (here: all of them).
    if (!options.readOnly && header.version === 3 && header.autoclear !== 0n) {
      await file.write(Hdr.AutoclearFeatures, new Uint8Array(8));
    }
    return image;
  }

  info(): ImageInfo {
    const h = this.header;
    return {
      format: 'qcow2', virtualSize: h.size, clusterSize: this.cs, version: h.version,
      ...(h.backingFile !== undefined ? { backingFile: h.backingFile } : {}),
      ...(h.backingFormat !== undefined ? { backingFormat: h.backingFormat } : {}),
    };
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    checkRange(this, offset, into.length, false);
    await this.readAt(offset, into);
  }

  async readAt(offset: number, into: Uint8Array): Promise<void> {
    this.checkOpen();
    const cs = this.cs;
    for (let done = 0; done < into.length;) {
      const pos = offset + done;
      const within = pos % cs;
      const n = Math.min(cs - within, into.length - done);
      const part = into.subarray(done, done + n);
      done += n;
      if (pos >= this.size) { part.fill(0); continue; }
      const m = this.map(Math.floor(pos / cs));
      switch (m.kind) {
        case 'unallocated':
          if (this.backing) await this.backing.readAt(pos, part);
          else part.fill(0);
          break;
        case 'zero':
          part.fill(0);
          break;
        case 'data':
          await this.readHost(m.host + within, part);
          break;
        case 'compressed':
          part.set((await this.inflate(m)).subarray(within, within + n));
          break;
      }
    }
  }

  async write(offset: number, from: Uint8Array): Promise<void> {
    this.checkOpen();
    checkRange(this, offset, from.length, true);
    await this.lock.run(async () => {
      for (let done = 0; done < from.length;) {
        const pos = offset + done;
        const within = pos % this.cs;
        const n = Math.min(this.cs - within, from.length - done);
        try {
          await this.writeCluster(Math.floor(pos / this.cs), within, from.subarray(done, done + n));
        } catch (e) {
          if (e instanceof BlockError) throw e;
          throw new BlockError('io', `${this.file.name}: write at byte ${pos} failed: ${(e as Error).message}`);
        }
        done += n;
      }
    });
  }

  async flush(): Promise<void> {
    this.checkOpen();
    if (this.readOnly) return;
    await this.lock.run(async () => {
      try {
        await this.file.flush();
      } catch (e) {
        throw new BlockError('io', `${this.file.name}: flush failed: ${(e as Error).message}`);
      }
    });
  }

  /** The range's content becomes unspecified: it stays as it was. */
  async discard(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length, true);
  }

  /** Zeroes, skipping whole clusters that already read as zero without a backing image. */
  async writeZeroes(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length, true);
    const zeroes = new Uint8Array(this.cs);
    for (let done = 0; done < length;) {
      const pos = offset + done;
      const n = Math.min(this.cs - (pos % this.cs), length - done);
      const kind = this.map(Math.floor(pos / this.cs)).kind;
      const alreadyZero = kind === 'zero' || (kind === 'unallocated' && !this.backing);
      if (!alreadyZero) await this.write(pos, zeroes.subarray(0, n));
      done += n;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lock.run(async () => {
      await this.file.close();
      await this.backing?.close();
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new BlockError('io', `${this.file.name} is closed`);
  }

  private map(cluster: number): Mapping {
    const table = this.l2[Math.floor(cluster / this.l2Entries)];
    if (!table) return { kind: 'unallocated' };
    const j = cluster % this.l2Entries;
    const hi = table[2 * j]!;
    const lo = table[2 * j + 1]!;
    if (hi & HI_COMPRESSED) return { kind: 'compressed', ...compressedExtent(hi, lo, this.header.clusterBits) };
    const host = entryOffset(hi, lo);
    if (lo & LO_ZERO) return { kind: 'zero', host };
    return host === 0 ? { kind: 'unallocated' } : { kind: 'data', host };
  }

  private async readHost(offset: number, into: Uint8Array): Promise<void> {
    let n: number;
    try {
      n = await this.file.read(offset, into);
    } catch (e) {
      throw new BlockError('io', `${this.file.name}: read at byte ${offset} failed: ${(e as Error).message}`);
    }
    if (n !== into.length) throw new BlockError('io', `${this.file.name}: data at byte ${offset} is past the end of the file (truncated?)`);
  }

  private async inflate(m: { offset: number; sectors: number }): Promise<Uint8Array> {
    if (this.inflated?.key === m.offset) return this.inflated.data;
    const inflateRaw = this.options.inflateRaw;
    if (!inflateRaw) throw new BlockError('unsupported', `${this.file.name}: compressed clusters need a deflate decoder, which this host lacks`);
    // qcow2.txt: the data starts at the offset and ends within the last of `sectors` 512-byte sectors.
    const length = Math.min(m.sectors * SECTOR - (m.offset % SECTOR), this.fileSize - m.offset);
    const packed = new Uint8Array(Math.max(0, length));
    await this.readHost(m.offset, packed);
    let data: Uint8Array;
    try {
      data = await inflateRaw(packed, this.cs);
    } catch (e) {
      throw new BlockError('io', `${this.file.name}: the compressed cluster at byte ${m.offset} does not decompress: ${(e as Error).message}`);
    }
    if (data.length !== this.cs) {
      throw new BlockError('io', `${this.file.name}: the compressed cluster at byte ${m.offset} holds ${data.length} bytes, not ${this.cs}`);
    }
    this.inflated = { key: m.offset, data };
    return data;
  }

  /**
   * Write `data` at `within` in guest cluster `cluster`. A cluster with refcount 1 is written in place;
   * anything else (unallocated, zero, compressed, shared) gets a new cluster holding the old content with the
   * new bytes laid over it, and the old one loses a reference.
   */
  private async writeCluster(cluster: number, within: number, data: Uint8Array): Promise<void> {
    const refcounts = this.refcounts!;
    const m = this.map(cluster);
    if (m.kind === 'data' && refcounts.get(m.host / this.cs) === 1) {
      await this.writeHost(m.host + within, data);
      return;
    }
    let full = data;
    if (data.length !== this.cs) {
      full = new Uint8Array(this.cs);
      await this.readAt(cluster * this.cs, full);
      full.set(data, within);
    }
    const table = await this.l2ForWrite(Math.floor(cluster / this.l2Entries));
    const host = await this.allocate(1);
    await this.writeHost(host, full);
    const j = cluster % this.l2Entries;
    await this.setL2(table.l1Index, j, host);
    if (m.kind === 'compressed') {
      // The sectors the compressed data occupies count a reference on each host cluster they touch.
      const first = m.offset - (m.offset % SECTOR);
      const c0 = Math.floor(first / this.cs);
      const c1 = Math.floor((first + m.sectors * SECTOR - 1) / this.cs);
      await refcounts.release(c0, c1 - c0 + 1);
      if (this.inflated?.key === m.offset) this.inflated = undefined;
    } else if ((m.kind === 'data' || m.kind === 'zero') && m.host !== 0 && refcounts.get(m.host / this.cs) > 0) {
      await refcounts.release(m.host / this.cs);
    }
  }

  /** The L2 table for L1 entry `i`, allocating an empty one (COPIED, refcount 1) if there is none. */
  private async l2ForWrite(i: number): Promise<{ l1Index: number }> {
    if (this.l2[i]) {
      const off = entryOffset(this.l1[2 * i]!, this.l1[2 * i + 1]!);
      if (this.refcounts!.get(off / this.cs) !== 1) {
        throw new BlockError('io', `${this.file.name}: corrupt qcow2 image: the L2 table at byte ${off} has refcount ${this.refcounts!.get(off / this.cs)}, not 1`);
      }
      return { l1Index: i };
    }
    const host = await this.allocate(1);
    const table = new Uint32Array(this.l2Entries * 2);
    await this.writeHost(host, new Uint8Array(this.cs));
    this.l2[i] = table;
    const hi = (HI_COPIED | Math.floor(host / TWO32)) >>> 0;
    const lo = host % TWO32;
    this.l1[2 * i] = hi;
    this.l1[2 * i + 1] = lo;
    await this.writeHost(this.header.l1TableOffset + i * 8, pairBytes(hi, lo));
    return { l1Index: i };
  }

  private async setL2(i: number, j: number, host: number): Promise<void> {
    const hi = (HI_COPIED | (Math.floor(host / TWO32) & HI_OFFSET_MASK)) >>> 0;
    const lo = host % TWO32;
    const table = this.l2[i]!;
    table[2 * j] = hi;
    table[2 * j + 1] = lo;
    const l2Offset = entryOffset(this.l1[2 * i]!, this.l1[2 * i + 1]!);
    await this.writeHost(l2Offset + j * 8, pairBytes(hi, lo));
  }

  private async allocate(n: number): Promise<number> {
    try {
      const at = await this.refcounts!.allocate(n);
      this.fileSize = Math.max(this.fileSize, at + n * this.cs);
      return at;
    } catch (e) {
      if (e instanceof BlockError) throw e;
      throw new BlockError('io', `${this.file.name}: allocating a cluster failed: ${(e as Error).message}`);
    }
  }

  private async writeHost(offset: number, data: Uint8Array): Promise<void> {
    try {
      await this.file.write(offset, data);
    } catch (e) {
      throw new BlockError('io', `${this.file.name}: write at byte ${offset} failed: ${(e as Error).message}`);
    }
    this.fileSize = Math.max(this.fileSize, offset + data.length);
  }
}

function toPairs(bytes: Uint8Array): Uint32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4);
  return out;
}

function pairBytes(hi: number, lo: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, hi);
  v.setUint32(4, lo);
  return b;
}
