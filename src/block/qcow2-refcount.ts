// qcow2 reference counts (qcow2.txt "Host cluster management"): a refcount table of refcount block
// offsets, each block one cluster of 2^refcount_order-bit counts. Clusters are only ever allocated at the end
// of the file and never reused within a session, so a cluster freed while a read still maps it keeps its data
// until that read is done. The refcount structures an allocation needs (a new block, a larger table) are
// placed at the end as well, before the clusters asked for, and counted like any other cluster.
import { BlockError } from './backend';
import { ImageError, readExact, type ImageFile } from './image-file';
import { Hdr } from './qcow2-format';

const TWO32 = 0x1_0000_0000;

export interface RefcountLayout {
  clusterBits: number;
  refcountOrder: number;
  tableOffset: number;
  tableClusters: number;
}

export class Refcounts {
  readonly cs: number;
  /** Refcount entries in one block. */
  readonly perBlock: number;
  private readonly bits: number;
  private readonly max: number;
  /** Host cluster index of each refcount block; 0 for none. */
  private table: number[];
  private blocks = new Map<number, Uint8Array>();
  private tableOffset: number;
  private tableClusters: number;
  /** The first cluster past everything in use: allocations start here. */
  private end: number;

  private constructor(private readonly file: ImageFile, layout: RefcountLayout, table: number[], end: number) {
    this.cs = 2 ** layout.clusterBits;
    this.bits = 2 ** layout.refcountOrder;
    this.perBlock = (this.cs * 8) / this.bits;
    this.max = this.bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** this.bits - 1;
    this.table = table;
    this.tableOffset = layout.tableOffset;
    this.tableClusters = layout.tableClusters;
    this.end = end;
  }

  /**
   * Read the table and its blocks. Blocks must be clusters inside the file other than the header; `loadBlocks`
   * reads them too (a writer needs them; a reader only needs to know where they are).
   */
  static async load(file: ImageFile, layout: RefcountLayout, fileSize: number, loadBlocks: boolean): Promise<Refcounts> {
    const cs = 2 ** layout.clusterBits;
    const raw = new Uint8Array(layout.tableClusters * cs);
    await readExact(file, layout.tableOffset, raw, 'refcount table');
    const v = new DataView(raw.buffer);
    const table: number[] = [];
    for (let i = 0; i < raw.length / 8; i++) {
      const hi = v.getUint32(i * 8);
      const lo = v.getUint32(i * 8 + 4);
      const offset = hi * TWO32 + lo;
      if (offset !== 0 && (lo % cs !== 0 || offset < cs || offset + cs > fileSize || hi > 0x00ff_ffff)) {
        throw new ImageError(`${file.name}: corrupt qcow2 image: refcount block ${i} at byte ${offset} is not a cluster inside the file`);
      }
      table.push(offset / cs);
    }
    const r = new Refcounts(file, layout, table, Math.ceil(fileSize / cs));
    if (loadBlocks) {
      for (let i = 0; i < table.length; i++) {
        if (table[i] === 0) continue;
        const block = new Uint8Array(cs);
        await readExact(file, table[i]! * cs, block, 'refcount block');
        r.blocks.set(i, block);
        // Anything counted past the end of the file is in use as well: never allocate over it.
        for (let e = r.perBlock - 1; e >= 0; e--) {
          if (r.entry(block, e) !== 0) { r.end = Math.max(r.end, i * r.perBlock + e + 1); break; }
        }
      }
    }
    return r;
  }

  /** Clusters holding refcount structures (the table and the blocks), for overlap checks. */
  metadataClusters(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.tableClusters; c++) out.push(this.tableOffset / this.cs + c);
    for (const b of this.table) if (b !== 0) out.push(b);
    return out;
  }

  /** The refcount of host cluster `cluster` (blocks must have been loaded). */
  get(cluster: number): number {
    const block = this.blocks.get(Math.floor(cluster / this.perBlock));
    return block ? this.entry(block, cluster % this.perBlock) : 0;
  }

  /** Allocate `n` contiguous new clusters with refcount 1; returns the byte offset of the first. */
  async allocate(n: number): Promise<number> {
    const start = this.end;
    this.end += n;
    await this.commit([[start, n]]);
    return start * this.cs;
  }

  /** Drop one reference to each of `count` clusters from `cluster`. A count already 0 means a corrupt image. */
  async release(cluster: number, count = 1): Promise<void> {
    const dirty = new Map<number, [number, number]>();
    for (let c = cluster; c < cluster + count; c++) {
      const b = Math.floor(c / this.perBlock);
      const block = this.blocks.get(b);
      const e = c % this.perBlock;
      const now = block ? this.entry(block, e) : 0;
      if (!block || now === 0) {
        throw new BlockError('io', `${this.file.name}: corrupt qcow2 image: cluster ${c} is in use but its refcount is 0 (qemu-img check -r all repairs it)`);
      }
      this.setEntry(block, e, now - 1);
      widen(dirty, b, e);
    }
    await this.writeEntries(dirty);
  }

  /**
   * Give +1 to the clusters of `ranges` (all at or past the old end), creating the blocks and growing the
   * table as needed, then write the changes: new blocks, changed entries, and a moved table with the header
   * pointing at it, in that order, so a crash leaves at worst leaked clusters.
   */
  private async commit(ranges: Array<[number, number]>): Promise<void> {
    const counted = [...ranges];
    const newBlocks = new Set<number>();
    let newTable: { at: number; clusters: number } | undefined;
    const capacity = () => (newTable?.clusters ?? this.tableClusters) * (this.cs / 8);
    for (let changed = true; changed;) {
      changed = false;
      const need = Math.floor((this.end - 1) / this.perBlock) + 1;
      if (need > capacity()) {
        // A table with room for twice what is needed, so that the table and its own blocks fit as well.
        let entries = Math.max(need * 2, capacity() * 2);
        let clusters = Math.ceil((entries * 8) / this.cs);
        while (Math.floor((this.end + clusters + 2 * Math.ceil(clusters / this.perBlock) + 2) / this.perBlock) + 1 > entries) {
          entries *= 2;
          clusters = Math.ceil((entries * 8) / this.cs);
        }
        // A table reserved by an earlier turn of this loop is abandoned: it was never counted or written.
        newTable = { at: this.end, clusters };
        this.end += clusters;
        while (this.table.length < entries) this.table.push(0);
        changed = true;
      }
      const all = newTable ? [...counted, [newTable.at, newTable.clusters] as [number, number]] : counted;
      for (const [s, n] of all) {
        for (let b = Math.floor(s / this.perBlock); b <= Math.floor((s + n - 1) / this.perBlock); b++) {
          if (this.table[b] !== 0) continue;
          const at = this.end++;
          this.table[b] = at;
          this.blocks.set(b, new Uint8Array(this.cs));
          newBlocks.add(b);
          counted.push([at, 1]);
          changed = true;
        }
      }
    }
    if (newTable) counted.push([newTable.at, newTable.clusters]);
    const dirty = new Map<number, [number, number]>();
    for (const [s, n] of counted) {
      for (let c = s; c < s + n; c++) {
        const b = Math.floor(c / this.perBlock);
        const block = this.blocks.get(b)!;
        const e = c % this.perBlock;
        const now = this.entry(block, e);
        if (now >= this.max) throw new BlockError('io', `${this.file.name}: refcount of cluster ${c} would overflow ${this.bits} bits`);
        this.setEntry(block, e, now + 1);
        if (!newBlocks.has(b)) widen(dirty, b, e);
      }
    }
    for (const b of newBlocks) await this.file.write(this.table[b]! * this.cs, this.blocks.get(b)!);
    await this.writeEntries(dirty);
    if (newTable) {
      const bytes = new Uint8Array(newTable.clusters * this.cs);
      const v = new DataView(bytes.buffer);
      this.table.forEach((b, i) => v.setBigUint64(i * 8, BigInt(b * this.cs)));
      await this.file.write(newTable.at * this.cs, bytes);
      const header = new Uint8Array(12);
      const hv = new DataView(header.buffer);
      hv.setBigUint64(0, BigInt(newTable.at * this.cs));
      hv.setUint32(8, newTable.clusters);
      await this.file.write(Hdr.RefcountTableOffset, header);
      const old = { at: this.tableOffset / this.cs, clusters: this.tableClusters };
      this.tableOffset = newTable.at * this.cs;
      this.tableClusters = newTable.clusters;
      await this.release(old.at, old.clusters);
    } else {
      for (const b of newBlocks) {
        const entry = new Uint8Array(8);
        new DataView(entry.buffer).setBigUint64(0, BigInt(this.table[b]! * this.cs));
        await this.file.write(this.tableOffset + b * 8, entry);
      }
    }
  }

  /** Write the changed entries of each block: the bytes from the first to the last changed entry. */
  private async writeEntries(dirty: Map<number, [number, number]>): Promise<void> {
    for (const [b, [lo, hi]] of dirty) {
      const from = Math.floor((lo * this.bits) / 8);
      const to = Math.ceil(((hi + 1) * this.bits) / 8);
      await this.file.write(this.table[b]! * this.cs + from, this.blocks.get(b)!.subarray(from, to));
    }
  }

  private entry(block: Uint8Array, e: number): number {
    const bits = this.bits;
    if (bits >= 8) {
      const bytes = bits / 8;
      let v = 0;
      for (let i = 0; i < bytes; i++) v = v * 256 + block[e * bytes + i]!;
      return v;
    }
    // Sub-byte widths: entry 0 in the low bits of byte 0 (qcow2.txt: bit 0 is the least significant).
    const perByte = 8 / bits;
    return (block[Math.floor(e / perByte)]! >> ((e % perByte) * bits)) & ((1 << bits) - 1);
  }

  private setEntry(block: Uint8Array, e: number, value: number): void {
    const bits = this.bits;
    if (bits >= 8) {
      const bytes = bits / 8;
      for (let i = bytes - 1; i >= 0; i--) {
        block[e * bytes + i] = value % 256;
        value = Math.floor(value / 256);
      }
      return;
    }
    const perByte = 8 / bits;
    const shift = (e % perByte) * bits;
    const at = Math.floor(e / perByte);
    block[at] = (block[at]! & ~(((1 << bits) - 1) << shift)) | (value << shift);
  }
}

function widen(dirty: Map<number, [number, number]>, b: number, e: number): void {
  const r = dirty.get(b);
  if (!r) dirty.set(b, [e, e]);
  else { r[0] = Math.min(r[0], e); r[1] = Math.max(r[1], e); }
}
