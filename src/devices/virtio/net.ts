// virtio-net (virtio 1.2 §5.1): a receive queue and a transmit queue carrying Ethernet frames, each behind the
// 12-byte struct virtio_net_hdr, to and from a NetBackend (src/net/backend.ts). Offered: the MAC address in the
// configuration space, link status, mergeable receive buffers, and two receive offloads the backend may use:
// checksums marked as validated (GUEST_CSUM) and large TCP segments (GUEST_TSO4), which the user-mode stack sends
// so that the guest handles a 64 KiB window as one segment instead of 45. No transmit offload: every frame the
// guest sends is complete, and every frame it receives carries full checksums anyway.
//
// Frames for the guest wait in a bounded host queue while the driver has no receive buffers and are dropped past
// it, as a NIC drops on a full ring. Every chain is read from memory the guest controls: a malformed chain is
// returned unused (len 0) and counted, and a corrupt ring puts the device into DEVICE_NEEDS_RESET (§2.1.2).
// Nothing here throws on guest input.
import type { AccessSize } from '../device';
import type { NetBackend, RxOffload } from '../../net/backend';
import type { GuestMemory } from '../../machine/dma';
import { ChainError, DescriptorChain, QueueError, type SplitQueue } from './queue';
import { VirtioDeviceType, type VirtioActivation, type VirtioDevice, type VirtioInterrupt } from './device';

// Feature bits (§5.1.3).
/** The driver accepts frames whose checksums the device marks as already validated (DATA_VALID). */
export const VIRTIO_NET_F_GUEST_CSUM = 1n << 1n;
/** The driver accepts TCP/IPv4 segments larger than the MTU (GSO TCPV4); needs GUEST_CSUM (§5.1.3.1). */
export const VIRTIO_NET_F_GUEST_TSO4 = 1n << 7n;
/** The device has a MAC address in its configuration space. */
export const VIRTIO_NET_F_MAC = 1n << 5n;
/** §5.1.6.3: the driver may post buffers smaller than a frame; the device merges several for one frame. */
export const VIRTIO_NET_F_MRG_RXBUF = 1n << 15n;
/** The configuration's status field reports the link. */
export const VIRTIO_NET_F_STATUS = 1n << 16n;

/** struct virtio_net_config (§5.1.4): the fields this device fills. */
export const enum NetConfig {
  Mac = 0,
  Status = 6,
  MaxVirtqueuePairs = 8,
  Mtu = 10,
}
const CONFIG_SIZE = 12;
/** §5.1.4: status bit 0. */
export const VIRTIO_NET_S_LINK_UP = 0b01;

/** Queue indices (§5.1.2): receiveq1, transmitq1; no control queue. */
export const enum NetQueue {
  Rx = 0,
  Tx = 1,
}

// struct virtio_net_hdr (§5.1.6): u8 flags, u8 gso_type, le16 hdr_len, le16 gso_size, le16 csum_start,
// le16 csum_offset, le16 num_buffers. §5.1.6.1: with VERSION_1 the header always has num_buffers (12 bytes).
export const NET_HDR_SIZE = 12;
const HDR_FLAGS = 0;
const HDR_GSO_TYPE = 1;
const HDR_HDR_LEN = 2;
const HDR_GSO_SIZE = 4;
const HDR_NUM_BUFFERS = 10;
/** §5.1.6: flags bit 1, the checksums of the frame have been validated. */
const VIRTIO_NET_HDR_F_DATA_VALID = 2;
/** §5.1.6: gso_type of a TCP/IPv4 segment to be taken as segments of gso_size. */
const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** §5.1.6: gso_type of a frame that is not segmented. */
const VIRTIO_NET_HDR_GSO_NONE = 0;

/** An Ethernet header: the shortest frame worth sending. */
const MIN_FRAME = 14;
/** Largest frame either way (a 64 KiB IP datagram with its headers); larger is a malformed request. */
export const MAX_NET_FRAME = 65535 + 18;
const DEFAULT_QUEUE_SIZE = 256;
/** Frames held for the guest while it has no receive buffers, by count and by bytes. */
const DEFAULT_MAX_PENDING_FRAMES = 512;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export interface VirtioNetOptions {
  /** Six bytes; the default is QEMU's 52:54:00:12:34:56. */
  mac?: Uint8Array;
  queueSize?: number;
  /** Frames held while the guest has no receive buffers. */
  maxPendingFrames?: number;
}

/** What the device counted, for a log and for tests. */
export interface NetStats {
  txFrames: number;
  rxFrames: number;
  /** Transmit chains refused: malformed, too short or too long, or with device-writable buffers. */
  txErrors: number;
  /** Receive chains returned unused: malformed, or with device-readable buffers. */
  rxErrors: number;
  /** Frames for the guest dropped: device not live, host queue full, or no buffer large enough. */
  rxDropped: number;
}

type Placed = 'placed' | 'wait' | 'dropped' | 'fatal';

export class VirtioNet implements VirtioDevice {
  readonly deviceType = VirtioDeviceType.Net;
  readonly features = VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS | VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_GUEST_CSUM
    | VIRTIO_NET_F_GUEST_TSO4;
  readonly queueMaxSizes: readonly number[];
  readonly configSize = CONFIG_SIZE;
  readonly stats: NetStats = { txFrames: 0, rxFrames: 0, txErrors: 0, rxErrors: 0, rxDropped: 0 };
  readonly mac: Uint8Array;
  private readonly maxPending: number;
  private linkUp = true;
  private mem: GuestMemory | undefined;
  private rx: SplitQueue | undefined;
  private tx: SplitQueue | undefined;
  private interrupt: VirtioInterrupt | undefined;
  private mergeable = false;
  private guestCsum = false;
  private guestTso4 = false;
  private pending: { frame: Uint8Array; offload: RxOffload | undefined }[] = [];
  private pendingBytes = 0;
  private rxUsed = false;
  private txUsed = false;

  constructor(private readonly backend: NetBackend, opts: VirtioNetOptions = {}) {
    const queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(queueSize) || queueSize < 2 || queueSize > 32768 || (queueSize & (queueSize - 1)) !== 0) {
      throw new RangeError(`wasmpc: virtio-net: queue size ${queueSize} must be a power of two in 2..32768`);
    }
    const mac = opts.mac ?? Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
    if (mac.length !== 6) throw new RangeError('wasmpc: virtio-net: a MAC address has six bytes');
    this.mac = Uint8Array.from(mac);
    this.queueMaxSizes = [queueSize, queueSize];
    this.maxPending = opts.maxPendingFrames ?? DEFAULT_MAX_PENDING_FRAMES;
    backend.onReceive((frame, offload) => this.receive(frame, offload));
  }

  /** Frames waiting for receive buffers. */
  get framesPending(): number { return this.pending.length; }

  /** Plug or unplug the cable: the status field changes and a live driver gets a configuration interrupt. */
  setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    if (!up) this.dropPending();
    this.interrupt?.config();
  }

  readConfig(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.configByte(offset + i) << (8 * i);
    return v >>> 0;
  }

  /** §5.1.4: with VERSION_1 every field is read-only to the driver (mac changes need the control queue). */
  writeConfig(_offset: number, _size: AccessSize, _value: number): void {}

  activate(a: VirtioActivation): void {
    this.mem = a.mem;
    this.rx = a.queues[NetQueue.Rx];
    this.tx = a.queues[NetQueue.Tx];
    this.interrupt = a.interrupt;
    this.mergeable = (a.features & VIRTIO_NET_F_MRG_RXBUF) !== 0n;
    this.guestCsum = (a.features & VIRTIO_NET_F_GUEST_CSUM) !== 0n;
    // Large segments only into mergeable buffers: without MRG_RXBUF a frame must fit one posted buffer, and the
    // driver's may be page-sized.
    this.guestTso4 = this.guestCsum && this.mergeable && (a.features & VIRTIO_NET_F_GUEST_TSO4) !== 0n;
    this.backend.setLargeReceive?.(this.guestTso4);
    this.transmit();
    this.deliver();
  }

  notify(index: number): void {
    if (index === NetQueue.Rx) this.deliver();
    else if (index === NetQueue.Tx) this.transmit();
  }

  reset(): void {
    this.mem = undefined;
    this.rx = undefined;
    this.tx = undefined;
    this.interrupt = undefined;
    this.mergeable = false;
    this.guestCsum = this.guestTso4 = false;
    this.backend.setLargeReceive?.(false);
    this.rxUsed = this.txUsed = false;
    this.dropPending();
  }

  /** A frame from the backend for the guest. */
  receive(frame: Uint8Array, offload?: RxOffload): void {
    // A NIC that is down, or not yet set up by its driver, receives nothing.
    if (!this.rx || !this.linkUp || frame.length < MIN_FRAME || frame.length > MAX_NET_FRAME) {
      this.stats.rxDropped++;
      return;
    }
    if (this.pending.length >= this.maxPending || this.pendingBytes + frame.length > MAX_PENDING_BYTES) {
      this.stats.rxDropped++;
      return;
    }
    this.pending.push({ frame, offload });
    this.pendingBytes += frame.length;
    this.deliver();
  }

  private configByte(offset: number): number {
    if (offset >= NetConfig.Mac && offset < NetConfig.Mac + 6) return this.mac[offset - NetConfig.Mac]!;
    switch (offset) {
      case NetConfig.Status: return this.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
      case NetConfig.MaxVirtqueuePairs: return 1;
      case NetConfig.Mtu: return 1500 & 0xff;
      case NetConfig.Mtu + 1: return 1500 >> 8;
      default: return 0;
    }
  }

  private dropPending(): void {
    this.stats.rxDropped += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  // ---- transmit (§5.1.6.2) ----

  /** Send every frame the driver made available on the transmit queue. */
  private transmit(): void {
    const q = this.tx;
    const mem = this.mem;
    if (!q || !mem) return;
    for (;;) {
      const r = q.pop();
      if (r === undefined) break;
      if (r instanceof QueueError) return this.fatal(`transmit queue: ${r.message}`);
      if (r instanceof ChainError) {
        this.stats.txErrors++;
        this.returnUnused(q, r.head, NetQueue.Tx);
        continue;
      }
      const frame = this.readFrame(mem, r);
      // §2.7.8.2: a transmit buffer is only read, so its used length is 0.
      this.returnUnused(q, r.head, NetQueue.Tx);
      if (!frame) {
        this.stats.txErrors++;
        continue;
      }
      this.stats.txFrames++;
      if (this.linkUp) this.backend.send(frame);
      // The backend may have answered synchronously and a reset may have come with it.
      if (this.tx !== q) return;
    }
    this.signal(NetQueue.Tx);
  }

  /** The frame behind the header of a transmit chain, or undefined when the chain cannot be one. */
  private readFrame(mem: GuestMemory, chain: DescriptorChain): Uint8Array | undefined {
    // §5.1.6.2: the driver sends header and frame in device-readable buffers only.
    const n = chain.readableLength;
    if (chain.writableLength !== 0 || n < NET_HDR_SIZE + MIN_FRAME || n > NET_HDR_SIZE + MAX_NET_FRAME) return undefined;
    const data = chain.read(mem, 0, n);
    if (!(data instanceof Uint8Array)) return undefined;
    // §5.1.6.2.1: without HOST_TSO*/HOST_UFO negotiated the driver must not ask for segmentation; NEEDS_CSUM
    // needs VIRTIO_NET_F_CSUM, which is not offered, so the checksums are already complete.
    if (data[HDR_GSO_TYPE] !== VIRTIO_NET_HDR_GSO_NONE) return undefined;
    return data.subarray(NET_HDR_SIZE);
  }

  // ---- receive (§5.1.6.3, §5.1.6.4) ----

  /** Move waiting frames into the driver's receive buffers, oldest first, until either runs out. */
  private deliver(): void {
    const q = this.rx;
    if (!q) return;
    let taken = 0;
    while (taken < this.pending.length) {
      const { frame, offload } = this.pending[taken]!;
      const r = this.place(q, frame, offload);
      if (r === 'fatal') return;
      if (r === 'wait') break;
      taken++;
      this.pendingBytes -= frame.length;
      if (r === 'placed') this.stats.rxFrames++;
      else this.stats.rxDropped++;
    }
    if (taken > 0) this.pending.splice(0, taken);
    this.signal(NetQueue.Rx);
  }

  /**
   * Put one frame, behind its header, into as many receive chains as it needs (one without MRG_RXBUF).
   * 'wait' leaves the ring as it was: the driver has not posted enough buffers yet.
   */
  private place(q: SplitQueue, frame: Uint8Array, offload: RxOffload | undefined): Placed {
    const mem = this.mem!;
    const total = NET_HDR_SIZE + frame.length;
    const chains: DescriptorChain[] = [];
    let room = 0;
    while (room < total && (this.mergeable || chains.length === 0)) {
      const r = q.pop();
      if (r === undefined) {
        for (let i = 0; i < chains.length; i++) q.unpop();
        return 'wait';
      }
      if (r instanceof QueueError) {
        this.fatal(`receive queue: ${r.message}`);
        return 'fatal';
      }
      // §5.1.6.3: receive buffers are device-writable only, and the first holds at least the header.
      const bad = r instanceof ChainError || r.readableLength !== 0 || (chains.length === 0 && r.writableLength < NET_HDR_SIZE);
      if (bad) {
        this.stats.rxErrors++;
        // Chains already taken for this frame go back empty with it: the driver drops used buffers shorter than
        // a header, so no partial frame reaches it, and the used ring stays in the order it was filled.
        for (const c of chains) this.returnUnused(q, c.head, NetQueue.Rx);
        this.returnUnused(q, r.head, NetQueue.Rx);
        if (chains.length > 0) return 'dropped';
        continue;
      }
      chains.push(r);
      room += r.writableLength;
    }
    if (room < total) {
      // §5.1.6.3.1: without MRG_RXBUF the driver must post buffers for a whole frame; this one is dropped and the
      // buffer stays posted for the next.
      q.unpop();
      return 'dropped';
    }
    const data = new Uint8Array(total);
    // §5.1.6.4: flags 0 (checksums are complete) or DATA_VALID, GSO_NONE or TCPV4; num_buffers is the count of
    // chains used (1 without MRG_RXBUF, §5.1.6.4.1).
    this.offloadHeader(data, frame, offload);
    data[HDR_NUM_BUFFERS] = chains.length & 0xff;
    data[HDR_NUM_BUFFERS + 1] = chains.length >> 8;
    data.set(frame, NET_HDR_SIZE);
    let at = 0;
    for (const c of chains) {
      const n = Math.min(c.writableLength, total - at);
      if (c.write(mem, 0, data.subarray(at, at + n))) {
        this.fatal(`receive chain at head ${c.head} left RAM`);
        return 'fatal';
      }
      q.pushUsed(c.head, n);
      at += n;
    }
    this.rxUsed = true;
    return 'placed';
  }

  /** DATA_VALID where the backend vouches for the checksums; GSO TCPV4 for a segment larger than the MTU. */
  private offloadHeader(hdr: Uint8Array, frame: Uint8Array, offload: RxOffload | undefined): void {
    if (!offload?.csumValid || !this.guestCsum) return;
    hdr[HDR_FLAGS] = VIRTIO_NET_HDR_F_DATA_VALID;
    const mss = offload.tcpMss;
    // Ethernet (14) + IPv4 (IHL) + TCP (data offset): hdr_len, the bytes each segment repeats (§5.1.6.4).
    if (mss === undefined || !this.guestTso4 || frame.length < 14 + 20 + 20) return;
    const ipLen = (frame[14]! & 0x0f) * 4;
    if (14 + ipLen + 13 > frame.length) return;
    const headers = 14 + ipLen + ((frame[14 + ipLen + 12]! >> 4) * 4);
    if (frame.length - headers <= mss) return;
    hdr[HDR_GSO_TYPE] = VIRTIO_NET_HDR_GSO_TCPV4;
    hdr[HDR_HDR_LEN] = headers & 0xff;
    hdr[HDR_HDR_LEN + 1] = headers >> 8;
    hdr[HDR_GSO_SIZE] = mss & 0xff;
    hdr[HDR_GSO_SIZE + 1] = mss >> 8;
  }

  // ---- completion ----

  private returnUnused(q: SplitQueue, head: number, which: NetQueue): void {
    q.pushUsed(head, 0);
    if (which === NetQueue.Rx) this.rxUsed = true;
    else this.txUsed = true;
  }

  /** §2.7.7: one used-buffer notification for what was returned, unless the driver suppressed it. */
  private signal(which: NetQueue): void {
    const q = which === NetQueue.Rx ? this.rx : this.tx;
    const used = which === NetQueue.Rx ? this.rxUsed : this.txUsed;
    if (!q || !used) return;
    if (which === NetQueue.Rx) this.rxUsed = false;
    else this.txUsed = false;
    if (q.needsNotification()) this.interrupt?.queue(which);
  }

  /** A ring the device cannot use: stop both queues and ask the transport for DEVICE_NEEDS_RESET (§2.1.2). */
  private fatal(reason: string): void {
    const interrupt = this.interrupt;
    this.rx = undefined;
    this.tx = undefined;
    this.rxUsed = this.txUsed = false;
    this.dropPending();
    interrupt?.needsReset(`virtio-net: ${reason}`);
  }
}
