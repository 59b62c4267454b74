// The split virtqueue (virtio 1.2 §2.7), device side: the descriptor table, the available ring the driver fills
// and the used ring the device fills, all in guest memory. Every index and address in them is written by the
// guest and is checked before use; a malformed chain comes back as a ChainError (the request can still be
// failed) and a malformed ring as a QueueError (the device needs a reset). Nothing here throws on guest input.
import { DmaError, type GuestMemory } from '../../machine/dma';

/** virtio 1.2 §2.7: the largest Queue Size of a split virtqueue. */
export const MAX_QUEUE_SIZE = 32768;

// Descriptor (virtio 1.2 §2.7.5), 16 bytes, little-endian:
//   0        8        12       14       16
//   [ addr  ][ len   ][ flags ][ next  ]
//    le64     le32     le16     le16
const DESC_SIZE = 16;
const DESC_ADDR = 0;
const DESC_LEN = 8;
const DESC_FLAGS = 12;
const DESC_NEXT = 14;
/** The chain continues in `next`. */
export const VIRTQ_DESC_F_NEXT = 0b001;
/** The buffer is device-writable (otherwise device-readable). */
export const VIRTQ_DESC_F_WRITE = 0b010;
/** The buffer holds a table of descriptors (§2.7.5.3). */
export const VIRTQ_DESC_F_INDIRECT = 0b100;

// Available ring (§2.7.6): le16 flags, le16 idx, le16 ring[size], le16 used_event (with EVENT_IDX).
const AVAIL_FLAGS = 0;
const AVAIL_IDX = 2;
const AVAIL_RING = 4;
/** §2.7.7: the driver asks for no used-buffer notifications (ignored when EVENT_IDX is negotiated). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 0b1;

// Used ring (§2.7.8): le16 flags, le16 idx, {le32 id, le32 len} ring[size], le16 avail_event (with EVENT_IDX).
const USED_IDX = 2;
const USED_RING = 4;
const USED_ELEM_SIZE = 8;

/** §2.7, table "Virtqueue Part, Alignment, Size". */
const DESC_ALIGN = 16;
const AVAIL_ALIGN = 2;
const USED_ALIGN = 4;

const TWO_32 = 2 ** 32;

/** Where the driver put a queue, as the transport collected it (guest-physical addresses). */
export interface QueueConfig {
  size: number;
  desc: number;
  avail: number;
  used: number;
}

export interface QueueFeatures {
  /** VIRTIO_F_RING_INDIRECT_DESC was negotiated. */
  indirect: boolean;
  /** VIRTIO_F_RING_EVENT_IDX was negotiated. */
  eventIdx: boolean;
}

/** One buffer of a chain: guest-physical, already checked to lie in RAM. */
export interface Descriptor {
  addr: number;
  len: number;
  writable: boolean;
}

/** What is wrong with a chain the driver made available. */
export type ChainFault =
  /** A `next` index outside the table. */
  | 'index'
  /** More descriptors than the queue size: a loop, or a chain the driver must not build (§2.7.5.3.1). */
  | 'too-long'
  /** A buffer or indirect table outside guest RAM. */
  | 'range'
  /** A device-readable buffer after a device-writable one (§2.7.4.2). */
  | 'order'
  /** INDIRECT without the feature, inside an indirect table, with NEXT, or of a length not a multiple of 16. */
  | 'indirect';

/** The ring itself is unusable: the device must stop and ask for a reset (§2.1.2). */
export class QueueError {
  constructor(readonly fault: 'ring-range' | 'ring-align' | 'size' | 'avail-overrun' | 'head-index', readonly detail: string) {}
  get message(): string { return `virtqueue ${this.fault}: ${this.detail}`; }
}

/**
 * A chain that cannot be served. `tail` is the buffer that ends the chain when the walk reached the end and that
 * buffer lies in RAM: where a request's status byte would be. A loop or a bad index has no tail.
 */
export class ChainError {
  constructor(readonly head: number, readonly fault: ChainFault, readonly tail?: Descriptor) {}
}

/**
 * A well-formed chain: its device-readable buffers (in order) then its device-writable ones. Requests treat
 * each side as one byte stream, since §2.7.4 lets the driver split a message across buffers as it likes.
 */
export class DescriptorChain {
  readonly readable: Descriptor[] = [];
  readonly writable: Descriptor[] = [];
  readableLength = 0;
  writableLength = 0;

  constructor(readonly head: number, descriptors: readonly Descriptor[]) {
    for (const d of descriptors) {
      if (d.writable) {
        this.writable.push(d);
        this.writableLength += d.len;
      } else {
        this.readable.push(d);
        this.readableLength += d.len;
      }
    }
  }

  /** Copy `length` bytes at `offset` of the readable stream out of guest memory. */
  read(mem: GuestMemory, offset: number, length: number): Uint8Array | DmaError {
    if (offset < 0 || length < 0 || offset + length > this.readableLength) return new DmaError(offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    for (const d of this.readable) {
      if (done === length) break;
      if (offset >= d.len) {
        offset -= d.len;
        continue;
      }
      const n = Math.min(d.len - offset, length - done);
      const v = mem.view(d.addr + offset, n);
      if (v instanceof DmaError) return v;
      out.set(v, done);
      done += n;
      offset = 0;
    }
    return out;
  }

  /** Copy `data` into the writable stream at `offset`. */
  write(mem: GuestMemory, offset: number, data: Uint8Array): DmaError | undefined {
    if (offset < 0 || offset + data.length > this.writableLength) return new DmaError(offset, data.length);
    let done = 0;
    for (const d of this.writable) {
      if (done === data.length) break;
      if (offset >= d.len) {
        offset -= d.len;
        continue;
      }
      const n = Math.min(d.len - offset, data.length - done);
      const e = mem.write(d.addr + offset, data.subarray(done, done + n));
      if (e) return e;
      done += n;
      offset = 0;
    }
    return undefined;
  }
}

export type PopResult = DescriptorChain | ChainError | QueueError | undefined;

export class SplitQueue {
  /** Next available-ring slot the device will read (free-running 16-bit, §2.7.6). */
  private nextAvail = 0;
  /** The used index the device publishes next (free-running 16-bit, §2.7.8). */
  private usedIdx = 0;
  /** Used index at the last notification decision, for EVENT_IDX (§2.7.7.2); invalid until the first. */
  private signalledUsed = 0;
  private signalledValid = false;
  private readonly desc: DataView;
  private readonly avail: DataView;
  private readonly used: DataView;

  private constructor(
    private readonly mem: GuestMemory,
    readonly size: number,
    private readonly usedAddr: number,
    private readonly features: QueueFeatures,
    views: { desc: Uint8Array; avail: Uint8Array; used: Uint8Array },
  ) {
    this.desc = dataView(views.desc);
    this.avail = dataView(views.avail);
    this.used = dataView(views.used);
  }

  /** The queue over the rings at `cfg`, or why the driver's placement cannot be used. */
  static create(mem: GuestMemory, cfg: QueueConfig, features: QueueFeatures): SplitQueue | QueueError {
    const { size, desc, avail, used } = cfg;
    // §2.7: Queue Size is a power of 2 no larger than 32768.
    if (!Number.isInteger(size) || size < 1 || size > MAX_QUEUE_SIZE || (size & (size - 1)) !== 0) {
      return new QueueError('size', `queue size ${size} is not a power of two in 1..${MAX_QUEUE_SIZE}`);
    }
    if (desc % DESC_ALIGN !== 0 || avail % AVAIL_ALIGN !== 0 || used % USED_ALIGN !== 0) {
      return new QueueError('ring-align', `rings at 0x${desc.toString(16)}/0x${avail.toString(16)}/0x${used.toString(16)} are misaligned (§2.7: 16/2/4)`);
    }
    const event = 2; // used_event / avail_event trail the rings whether or not EVENT_IDX is negotiated
    const views = {
      desc: mem.view(desc, DESC_SIZE * size),
      avail: mem.view(avail, AVAIL_RING + 2 * size + event),
      used: mem.view(used, USED_RING + USED_ELEM_SIZE * size + event),
    };
    for (const [name, v] of Object.entries(views)) {
      if (v instanceof DmaError) return new QueueError('ring-range', `${name} ring: ${v.message}`);
    }
    return new SplitQueue(mem, size, used, features, views as { desc: Uint8Array; avail: Uint8Array; used: Uint8Array });
  }

  /** The driver made buffers available that the device has not taken yet. */
  get hasAvailable(): boolean {
    return this.avail.getUint16(AVAIL_IDX, true) !== this.nextAvail;
  }

  /**
   * Take the next available chain: undefined when the ring is empty, a ChainError for a chain that must be
   * failed (its head is valid and must still be returned through the used ring), a QueueError when the ring
   * itself is corrupt.
   */
  pop(): PopResult {
    const availIdx = this.avail.getUint16(AVAIL_IDX, true);
    const pending = (availIdx - this.nextAvail) & 0xffff;
    if (pending === 0) return undefined;
    // §2.7.13.3: idx only moves forward by the number of heads added, never past the ring's size.
    if (pending > this.size) {
      return new QueueError('avail-overrun', `available index moved from ${this.nextAvail} to ${availIdx} in a ${this.size}-entry ring`);
    }
    const head = this.avail.getUint16(AVAIL_RING + 2 * (this.nextAvail % this.size), true);
    this.nextAvail = (this.nextAvail + 1) & 0xffff;
    this.publishAvailEvent();
    if (head >= this.size) return new QueueError('head-index', `head ${head} is outside the ${this.size}-entry table`);
    return this.walk(head);
  }

  /** Give back the chain pop() just returned, to be popped again later (the device had no room for it). */
  unpop(): void {
    this.nextAvail = (this.nextAvail - 1) & 0xffff;
    this.publishAvailEvent();
  }

  /** §2.7.8: return chain `head` with `len` bytes written into its device-writable buffers. */
  pushUsed(head: number, len: number): void {
    const at = USED_RING + USED_ELEM_SIZE * (this.usedIdx % this.size);
    this.used.setUint32(at, head, true);
    this.used.setUint32(at + 4, len >>> 0, true);
    // §2.7.8.2: the element is written before idx moves (single-threaded here, but the order is kept).
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.used.setUint16(USED_IDX, this.usedIdx, true);
    this.mem.markDirty(this.usedAddr + at, USED_ELEM_SIZE);
    this.mem.markDirty(this.usedAddr + USED_IDX, 2);
  }

  /**
   * Whether the driver wants a used-buffer notification now (§2.7.7.2). Without EVENT_IDX: unless it set
   * VIRTQ_AVAIL_F_NO_INTERRUPT. With EVENT_IDX: when used_event lies among the entries added since the last
   * decision (vring_need_event).
   */
  needsNotification(): boolean {
    if (!this.features.eventIdx) {
      return (this.avail.getUint16(AVAIL_FLAGS, true) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    }
    const usedEvent = this.avail.getUint16(AVAIL_RING + 2 * this.size, true);
    const old = this.signalledUsed;
    const now = this.usedIdx;
    const valid = this.signalledValid;
    this.signalledUsed = now;
    this.signalledValid = true;
    if (!valid) return true;
    return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
  }

  /** §2.7.10: with EVENT_IDX the device asks to be notified once the driver adds entry nextAvail. */
  private publishAvailEvent(): void {
    if (!this.features.eventIdx) return;
    const at = USED_RING + USED_ELEM_SIZE * this.size;
    this.used.setUint16(at, this.nextAvail, true);
    this.mem.markDirty(this.usedAddr + at, 2);
  }

  /** Follow a chain from `head`, checking every index, flag combination and buffer (§2.7.5, §2.7.5.3). */
  private walk(head: number): DescriptorChain | ChainError {
    const out: Descriptor[] = [];
    let table = this.desc;
    let entries = this.size;
    let index = head;
    let inIndirect = false;
    let seenWritable = false;
    let fault: ChainFault | undefined;
    // §2.7.5.3.1: the driver MUST NOT create a descriptor chain longer than the Queue Size. Buffers are counted
    // (an indirect table's too, but not the one descriptor pointing at it, so Linux's seg_max + 2 fits); the
    // count also ends any loop, and at most one indirect switch happens.
    for (;;) {
      if (out.length >= this.size) return new ChainError(head, 'too-long');
      const base = index * DESC_SIZE;
      const lo = table.getUint32(base + DESC_ADDR, true);
      const hi = table.getUint32(base + DESC_ADDR + 4, true);
      const len = table.getUint32(base + DESC_LEN, true);
      const flags = table.getUint16(base + DESC_FLAGS, true);
      const next = table.getUint16(base + DESC_NEXT, true);
      const addr = hi * TWO_32 + lo;
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        // §2.7.5.3.1: only with the feature, never nested, never with NEXT; the table is whole descriptors.
        if (!this.features.indirect || inIndirect || (flags & VIRTQ_DESC_F_NEXT) || len === 0 || len % DESC_SIZE !== 0) {
          return new ChainError(head, 'indirect');
        }
        const v = this.mem.view(addr, len);
        if (v instanceof DmaError) return new ChainError(head, 'range');
        table = dataView(v);
        entries = len / DESC_SIZE;
        index = 0;
        inIndirect = true;
        continue;
      }
      const writable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      const d: Descriptor = { addr, len, writable };
      const inRam = this.mem.inRam(addr, len);
      if (!inRam) fault ??= 'range';
      // §2.7.4.2: the driver places device-writable buffers after device-readable ones.
      if (!writable && seenWritable) fault ??= 'order';
      seenWritable ||= writable;
      out.push(d);
      if (!(flags & VIRTQ_DESC_F_NEXT)) {
        if (fault) return new ChainError(head, fault, inRam ? d : undefined);
        break;
      }
      if (next >= entries) return new ChainError(head, 'index');
      index = next;
    }
    return new DescriptorChain(head, out);
  }
}

function dataView(v: Uint8Array): DataView {
  return new DataView(v.buffer, v.byteOffset, v.byteLength);
}
