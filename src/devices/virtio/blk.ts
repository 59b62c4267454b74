// virtio-blk (virtio 1.2 §5.2): one request queue served by a BlockBackend. Requests start when the driver
// notifies and complete when the backend's promise settles, so they may finish out of order; each completion
// writes the status byte, returns the chain through the used ring and, unless suppressed, interrupts.
//
// Every request is parsed from guest memory the guest controls: a chain that is malformed, too short, points
// outside RAM, or asks for more than the device advertised fails with VIRTIO_BLK_S_IOERR when it has a writable
// status byte, and otherwise puts the device into DEVICE_NEEDS_RESET (§2.1.2). Nothing here throws.
import type { AccessSize } from '../device';
import type { BlockBackend } from '../../block/backend';
import { DmaError, type GuestMemory } from '../../machine/dma';
import { ChainError, DescriptorChain, QueueError, type SplitQueue } from './queue';
import { VirtioDeviceType, type VirtioActivation, type VirtioDevice, type VirtioInterrupt } from './device';

// Feature bits (§5.2.3).
export const VIRTIO_BLK_F_SIZE_MAX = 1n << 1n;
export const VIRTIO_BLK_F_SEG_MAX = 1n << 2n;
export const VIRTIO_BLK_F_RO = 1n << 5n;
export const VIRTIO_BLK_F_BLK_SIZE = 1n << 6n;
export const VIRTIO_BLK_F_FLUSH = 1n << 9n;
export const VIRTIO_BLK_F_TOPOLOGY = 1n << 10n;
export const VIRTIO_BLK_F_DISCARD = 1n << 13n;
export const VIRTIO_BLK_F_WRITE_ZEROES = 1n << 14n;

/** Request types (§5.2.6). */
export const enum BlkType {
  In = 0,
  Out = 1,
  Flush = 4,
  GetId = 8,
  Discard = 11,
  WriteZeroes = 13,
}

/** Status byte values (§5.2.6). */
export const enum BlkStatus {
  Ok = 0,
  IoErr = 1,
  Unsupp = 2,
}

/** struct virtio_blk_config (§5.2.4), the fields this device fills. */
export const enum BlkConfig {
  Capacity = 0,
  SizeMax = 8,
  SegMax = 12,
  BlkSize = 20,
  PhysicalBlockExp = 24,
  AlignmentOffset = 25,
  MinIoSize = 26,
  OptIoSize = 28,
  MaxDiscardSectors = 36,
  MaxDiscardSeg = 40,
  DiscardSectorAlignment = 44,
  MaxWriteZeroesSectors = 48,
  MaxWriteZeroesSeg = 52,
  WriteZeroesMayUnmap = 56,
}
/** Through unused1 (virtio 1.1 layout, rounded to a dword): secure erase and zoned fields are not offered. */
const CONFIG_SIZE = 0x40;

// struct virtio_blk_req header (§5.2.6): le32 type, le32 reserved, le64 sector.
const REQ_HEADER = 16;
const REQ_TYPE = 0;
const REQ_SECTOR = 8;
const STATUS_BYTES = 1;
// struct virtio_blk_discard_write_zeroes (§5.2.6): le64 sector, le32 num_sectors, le32 flags.
const SEGMENT_SIZE = 16;
const SEG_SECTOR = 0;
const SEG_NUM_SECTORS = 8;
const SEG_FLAGS = 12;
const SEG_FLAG_UNMAP = 0b1;
/** GET_ID: a NUL-padded ASCII string of up to 20 bytes. */
export const VIRTIO_BLK_ID_BYTES = 20;

/** The protocol's sector is always 512 bytes (§5.2.6), whatever blk_size says. */
const SECTOR = 512;
const TWO_32 = 2 ** 32;
const DEFAULT_QUEUE_SIZE = 256;
/** size_max: largest segment (descriptor) the driver builds. */
const SIZE_MAX = 64 * 1024;
/** topology: 4 KiB physical blocks (2^3 logical blocks), so the guest aligns its I/O to them. */
const PHYSICAL_BLOCK_EXP = 3;
const MIN_IO_BLOCKS = 1 << PHYSICAL_BLOCK_EXP;
const MAX_DISCARD_SECTORS = 0x1_0000;
const MAX_DISCARD_SEGMENTS = 32;
/** Host memory held by buffered requests at most; further requests wait in the ring until some complete. */
const MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;

export interface VirtioBlkOptions {
  /** Queue size offered (a power of two, at least 4); seg_max follows from it. */
  queueSize?: number;
  /** Serial number for GET_ID (at most 20 bytes of ASCII); defaults to the backend's id. */
  serial?: string;
}

/** One request that passed validation and waits for its backend operation. */
interface Pending {
  chain: DescriptorChain;
  /** Host bytes held for it (data buffered from or for guest memory). */
  bytes: number;
}

export class VirtioBlk implements VirtioDevice {
  readonly deviceType = VirtioDeviceType.Block;
  readonly features: bigint;
  readonly queueMaxSizes: readonly number[];
  readonly configSize = CONFIG_SIZE;
  /** Requests the guest sent that failed validation or the backend (for a log). */
  errors = 0;
  private readonly configBytes: DataView;
  private readonly serial: Uint8Array;
  private readonly segMax: number;
  private mem: GuestMemory | undefined;
  private queue: SplitQueue | undefined;
  private interrupt: VirtioInterrupt | undefined;
  private negotiated = 0n;
  /** Bumped by reset and by a fatal error, so completions of an older activation are dropped. */
  private epoch = 0;
  private inflight = 0;
  private inflightBytes = 0;
  /** A used element was added since the driver was last notified. */
  private usedPending = false;

  constructor(private readonly backend: BlockBackend, opts: VirtioBlkOptions = {}) {
    const queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(queueSize) || queueSize < 4 || queueSize > 32768 || (queueSize & (queueSize - 1)) !== 0) {
      throw new RangeError(`wasmpc: virtio-blk: queue size ${queueSize} must be a power of two in 4..32768`);
    }
    if (backend.sectorSize % SECTOR !== 0 || backend.size % SECTOR !== 0) {
      throw new RangeError(`wasmpc: virtio-blk: ${backend.id}: sector size ${backend.sectorSize} and size ${backend.size} must be multiples of 512`);
    }
    this.queueMaxSizes = [queueSize];
    // Header and status take a descriptor each (Linux's layout); the chain must fit the queue (§2.7.5.3.1).
    this.segMax = queueSize - 2;
    const ro = backend.readOnly;
    let f = VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_TOPOLOGY;
    if (ro) f |= VIRTIO_BLK_F_RO;
    else f |= VIRTIO_BLK_F_WRITE_ZEROES | (backend.canDiscard ? VIRTIO_BLK_F_DISCARD : 0n);
    this.features = f;
    this.serial = new TextEncoder().encode(opts.serial ?? backend.id).subarray(0, VIRTIO_BLK_ID_BYTES);

    const c = new DataView(new ArrayBuffer(CONFIG_SIZE));
    const sectors = backend.size / SECTOR;
    c.setUint32(BlkConfig.Capacity, sectors % TWO_32, true);
    c.setUint32(BlkConfig.Capacity + 4, Math.floor(sectors / TWO_32), true);
    c.setUint32(BlkConfig.SizeMax, SIZE_MAX, true);
    c.setUint32(BlkConfig.SegMax, this.segMax, true);
    c.setUint32(BlkConfig.BlkSize, backend.sectorSize, true);
    c.setUint8(BlkConfig.PhysicalBlockExp, PHYSICAL_BLOCK_EXP);
    c.setUint8(BlkConfig.AlignmentOffset, 0);
    c.setUint16(BlkConfig.MinIoSize, MIN_IO_BLOCKS, true);
    c.setUint32(BlkConfig.OptIoSize, 0, true);
    c.setUint32(BlkConfig.MaxDiscardSectors, MAX_DISCARD_SECTORS, true);
    c.setUint32(BlkConfig.MaxDiscardSeg, MAX_DISCARD_SEGMENTS, true);
    c.setUint32(BlkConfig.DiscardSectorAlignment, MIN_IO_BLOCKS, true);
    c.setUint32(BlkConfig.MaxWriteZeroesSectors, MAX_DISCARD_SECTORS, true);
    c.setUint32(BlkConfig.MaxWriteZeroesSeg, MAX_DISCARD_SEGMENTS, true);
    c.setUint8(BlkConfig.WriteZeroesMayUnmap, 0);
    this.configBytes = c;
  }

  /** Requests handed to the backend and not yet completed. */
  get requestsInFlight(): number { return this.inflight; }

  readConfig(offset: number, size: AccessSize): number {
    if (offset < 0 || offset + size > CONFIG_SIZE) return 0;
    const c = this.configBytes;
    return size === 1 ? c.getUint8(offset) : size === 2 ? c.getUint16(offset, true) : c.getUint32(offset, true);
  }

  /** Every field is read-only without VIRTIO_BLK_F_CONFIG_WCE, which is not offered. */
  writeConfig(_offset: number, _size: AccessSize, _value: number): void {}

  activate(a: VirtioActivation): void {
    this.mem = a.mem;
    this.queue = a.queues[0];
    this.interrupt = a.interrupt;
    this.negotiated = a.features;
    // Buffers may already be waiting if the driver notified early; §3.1.1 says it does not, but nothing is lost.
    this.process();
  }

  notify(index: number): void {
    if (index === 0) this.process();
  }

  reset(): void {
    this.epoch++;
    this.mem = undefined;
    this.queue = undefined;
    this.interrupt = undefined;
    this.negotiated = 0n;
    this.inflight = 0;
    this.inflightBytes = 0;
    this.usedPending = false;
  }

  /** Take every available chain, start or fail each, then notify once for what completed synchronously. */
  private process(): void {
    const q = this.queue;
    if (!q) return;
    for (;;) {
      const r = q.pop();
      if (r === undefined) break;
      if (r instanceof QueueError) return this.fatal(r.message);
      if (r instanceof ChainError) {
        if (!this.failChain(q, r)) return;
        continue;
      }
      const started = this.start(q, r);
      if (started === 'defer') {
        q.unpop();
        break;
      }
      if (this.queue !== q) return;
    }
    this.signal(q);
  }

  /** Fail a malformed chain through its status byte, or stop the device when it has none (§2.1.2). */
  private failChain(q: SplitQueue, e: ChainError): boolean {
    this.errors++;
    const t = e.tail;
    if (!t || !t.writable || t.len < STATUS_BYTES) {
      this.fatal(`chain at head ${e.head} is malformed (${e.fault}) and has no writable status byte`);
      return false;
    }
    const mem = this.mem!;
    mem.write(t.addr + t.len - 1, Uint8Array.of(BlkStatus.IoErr));
    q.pushUsed(e.head, STATUS_BYTES);
    this.usedPending = true;
    return true;
  }

  /**
   * Validate one request and hand it to the backend. 'defer' when the host has too much buffered already: the
   * chain goes back to the ring until a completion makes room.
   */
  private start(q: SplitQueue, chain: DescriptorChain): 'started' | 'done' | 'defer' {
    const mem = this.mem!;
    // §5.2.6: the status byte is the last byte the device may write.
    if (chain.writableLength < STATUS_BYTES) {
      this.errors++;
      this.fatal(`request at head ${chain.head} has no writable status byte`);
      return 'done';
    }
    const header = chain.read(mem, 0, REQ_HEADER);
    if (header instanceof DmaError) return this.finish(q, chain, BlkStatus.IoErr, 0);
    const h = new DataView(header.buffer);
    const type = h.getUint32(REQ_TYPE, true);
    const sector = h.getUint32(REQ_SECTOR + 4, true) * TWO_32 + h.getUint32(REQ_SECTOR, true);
    const ro = this.backend.readOnly;
    const dataIn = chain.writableLength - STATUS_BYTES;
    const dataOut = chain.readableLength - REQ_HEADER;

    switch (type) {
      case BlkType.In: {
        // A read carries no data to the device: readable bytes past the header mean a mis-built chain.
        if (dataOut !== 0 || !this.rangeOk(sector, dataIn)) return this.finish(q, chain, BlkStatus.IoErr, 0);
        if (this.inflightBytes + dataIn > MAX_INFLIGHT_BYTES && this.inflight > 0) return 'defer';
        const buf = new Uint8Array(dataIn);
        return this.run(q, chain, dataIn, () => this.backend.read(sector * SECTOR, buf), () => {
          const e = chain.write(mem, 0, buf);
          return e ? { status: BlkStatus.IoErr, written: 0 } : { status: BlkStatus.Ok, written: dataIn };
        });
      }
      case BlkType.Out: {
        // §5.2.6.2: with VIRTIO_BLK_F_RO offered, a write fails with IOERR and writes nothing.
        if (ro || dataIn !== 0 || !this.rangeOk(sector, dataOut)) return this.finish(q, chain, BlkStatus.IoErr, 0);
        if (this.inflightBytes + dataOut > MAX_INFLIGHT_BYTES && this.inflight > 0) return 'defer';
        const data = chain.read(mem, REQ_HEADER, dataOut);
        if (data instanceof DmaError) return this.finish(q, chain, BlkStatus.IoErr, 0);
        return this.run(q, chain, dataOut, () => this.backend.write(sector * SECTOR, data));
      }
      case BlkType.Flush:
        if (!(this.negotiated & VIRTIO_BLK_F_FLUSH)) return this.finish(q, chain, BlkStatus.Unsupp, 0);
        return this.run(q, chain, 0, () => this.backend.flush());
      case BlkType.GetId: {
        // §5.2.6: the ID string is NUL-padded to 20 bytes; write as much as the driver gave room for.
        const id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
        id.set(this.serial);
        const n = Math.min(VIRTIO_BLK_ID_BYTES, dataIn);
        const e = chain.write(mem, 0, id.subarray(0, n));
        return this.finish(q, chain, e ? BlkStatus.IoErr : BlkStatus.Ok, e ? 0 : n);
      }
      case BlkType.Discard:
      case BlkType.WriteZeroes:
        return this.startRanges(q, chain, type, dataOut);
      default:
        return this.finish(q, chain, BlkStatus.Unsupp, 0);
    }
  }

  /** DISCARD / WRITE_ZEROES: a list of segments in the readable data (§5.2.6, §5.2.6.2). */
  private startRanges(q: SplitQueue, chain: DescriptorChain, type: BlkType.Discard | BlkType.WriteZeroes, length: number): 'done' | 'started' {
    const discard = type === BlkType.Discard;
    const feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
    if (!(this.negotiated & feature)) {
      return this.finish(q, chain, this.backend.readOnly ? BlkStatus.IoErr : BlkStatus.Unsupp, 0);
    }
    const count = length / SEGMENT_SIZE;
    if (!Number.isInteger(count) || count < 1 || count > MAX_DISCARD_SEGMENTS) return this.finish(q, chain, BlkStatus.IoErr, 0);
    const raw = chain.read(this.mem!, REQ_HEADER, length);
    if (raw instanceof DmaError) return this.finish(q, chain, BlkStatus.IoErr, 0);
    const v = new DataView(raw.buffer);
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i < count; i++) {
      const at = i * SEGMENT_SIZE;
      const sector = v.getUint32(at + SEG_SECTOR + 4, true) * TWO_32 + v.getUint32(at + SEG_SECTOR, true);
      const sectors = v.getUint32(at + SEG_NUM_SECTORS, true);
      const flags = v.getUint32(at + SEG_FLAGS, true);
      // §5.2.6.2: unknown flags, and unmap on a discard, are UNSUPP.
      if ((flags & ~SEG_FLAG_UNMAP) !== 0 || (discard && (flags & SEG_FLAG_UNMAP))) return this.finish(q, chain, BlkStatus.Unsupp, 0);
      if (sectors > MAX_DISCARD_SECTORS || !this.rangeOk(sector, sectors * SECTOR)) return this.finish(q, chain, BlkStatus.IoErr, 0);
      ranges.push([sector * SECTOR, sectors * SECTOR]);
    }
    const b = this.backend;
    return this.run(q, chain, 0, async () => {
      for (const [offset, bytes] of ranges) await (discard ? b.discard(offset, bytes) : b.writeZeroes(offset, bytes));
    });
  }

  /** A transfer of `bytes` at 512-byte `sector`: whole sectors, inside the disk, within seg_max * size_max. */
  private rangeOk(sector: number, bytes: number): boolean {
    return bytes % SECTOR === 0 && bytes <= this.segMax * SIZE_MAX && sector * SECTOR + bytes <= this.backend.size;
  }

  /**
   * Run a backend operation; on success `done` moves data into guest memory and says what to report. The
   * completion is ignored if the device was reset (or failed) meanwhile.
   */
  private run(
    q: SplitQueue, chain: DescriptorChain, bytes: number, op: () => Promise<void>,
    done: () => { status: BlkStatus; written: number } = () => ({ status: BlkStatus.Ok, written: 0 }),
  ): 'started' {
    const epoch = this.epoch;
    this.inflight++;
    this.inflightBytes += bytes;
    const pending: Pending = { chain, bytes };
    let promise: Promise<void>;
    try {
      promise = op();
    } catch (e) {
      promise = Promise.reject(e);
    }
    promise.then(
      () => this.completed(epoch, q, pending, done()),
      () => this.completed(epoch, q, pending, { status: BlkStatus.IoErr, written: 0 }),
    );
    return 'started';
  }

  private completed(epoch: number, q: SplitQueue, p: Pending, r: { status: BlkStatus; written: number }): void {
    if (epoch !== this.epoch) return;
    this.inflight--;
    this.inflightBytes -= p.bytes;
    this.finish(q, p.chain, r.status, r.written);
    // Requests deferred for want of buffer space can go now; then one notification for all of it.
    this.process();
  }

  /** Write the status byte after `written` data bytes and return the chain (§5.2.6, §2.7.8). */
  private finish(q: SplitQueue, chain: DescriptorChain, status: BlkStatus, written: number): 'done' {
    const mem = this.mem;
    if (!mem) return 'done';
    if (status !== BlkStatus.Ok) this.errors++;
    const e = chain.write(mem, chain.writableLength - STATUS_BYTES, Uint8Array.of(status));
    if (e) {
      this.fatal(`request at head ${chain.head}: status byte: ${e.message}`);
      return 'done';
    }
    // §2.7.8.2: len is the number of bytes written into the buffer, status byte included.
    q.pushUsed(chain.head, written + STATUS_BYTES);
    this.usedPending = true;
    return 'done';
  }

  /** §2.7.7: one used-buffer notification for everything completed since the last, unless suppressed. */
  private signal(q: SplitQueue): void {
    if (!this.usedPending || this.queue !== q) return;
    this.usedPending = false;
    if (q.needsNotification()) this.interrupt?.queue(0);
  }

  /** The device cannot go on: stop serving the queue and ask the transport for DEVICE_NEEDS_RESET. */
  private fatal(reason: string): void {
    const interrupt = this.interrupt;
    this.epoch++;
    this.queue = undefined;
    this.usedPending = false;
    interrupt?.needsReset(`virtio-blk: ${reason}`);
  }
}
