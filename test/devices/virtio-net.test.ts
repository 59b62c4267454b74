// virtio-net (virtio 1.2 §5.1) over real split virtqueues in guest RAM: the test lays out descriptor tables and
// rings as Linux's virtio_net does (a header plus frame on transmit, page-sized mergeable buffers on receive),
// activates the device as the transport would, and checks what reaches the backend and the guest. The hostile
// cases feed loops, huge lengths, addresses outside RAM and wrongly-directed buffers; the device must keep
// running and serve the next well-formed request.
import { beforeEach, describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/machine/dma';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { QueueError, SplitQueue } from '../../src/devices/virtio/queue';
import { VirtioNet } from '../../src/devices/virtio/net';
import { VirtioPci } from '../../src/devices/virtio/pci';
import type { NetBackend, RxOffload } from '../../src/net/backend';

// Spec values written out rather than imported from the model.
const F_GUEST_CSUM = 1, F_GUEST_TSO4 = 7, F_MAC = 5, F_MRG_RXBUF = 15, F_STATUS = 16, F_VERSION_1 = 32;
// §5.1.6: header flags and gso_type values.
const HDR_F_DATA_VALID = 2, GSO_TCPV4 = 1;
const S_LINK_UP = 1;
const HDR = 12;
const F_NEXT = 1, F_WRITE = 2;
const RX = 0, TX = 1;

const RAM = 2 << 20;
const QSIZE = 16;
// Each queue: descriptor table, available ring, used ring, then buffers.
const RINGS = [{ desc: 0x10000, avail: 0x11000, used: 0x12000 }, { desc: 0x20000, avail: 0x21000, used: 0x22000 }];
const RX_BUF = 0x40000, TX_BUF = 0x80000;

const bit = (n: number) => 1n << BigInt(n);

class FakeBackend implements NetBackend {
  sent: Uint8Array[] = [];
  large: boolean[] = [];
  deliver: (f: Uint8Array, offload?: RxOffload) => void = () => {};
  send(frame: Uint8Array): void { this.sent.push(frame.slice()); }
  onReceive(cb: (f: Uint8Array, offload?: RxOffload) => void): void { this.deliver = cb; }
  setLargeReceive(on: boolean): void { this.large.push(on); }
  async close(): Promise<void> {}
}

function frame(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 31 + seed) & 0xff;
  return f;
}

describe('virtio-net', () => {
  const h = new CpuHarness(loadCoreModule(), RAM);
  const mem = new GuestMemory(h.core);
  const ram = new DataView(h.core.ram.buffer, h.core.ram.byteOffset, RAM);
  let backend: FakeBackend;
  let net: VirtioNet;
  let irqs: number[];
  let configIrqs: number;
  let resets: string[];
  const availIdx = [0, 0];
  const nextDesc = [0, 0];

  /** Put a chain of buffers in queue `q`'s table and make it available; returns the head. */
  function offer(q: number, parts: Array<{ addr: number; len: number; write?: boolean }>, opts: { loopTo?: number } = {}): number {
    const r = RINGS[q]!;
    const slots = parts.map((_, i) => (nextDesc[q]! + i) % QSIZE);
    parts.forEach((p, i) => {
      const at = r.desc + 16 * slots[i]!;
      const last = i + 1 === parts.length;
      ram.setUint32(at, p.addr % 2 ** 32, true);
      ram.setUint32(at + 4, Math.floor(p.addr / 2 ** 32), true);
      ram.setUint32(at + 8, p.len >>> 0, true);
      const next = last ? opts.loopTo : slots[i + 1];
      ram.setUint16(at + 12, (p.write ? F_WRITE : 0) | (next !== undefined ? F_NEXT : 0), true);
      ram.setUint16(at + 14, next ?? 0, true);
    });
    nextDesc[q] = nextDesc[q]! + parts.length;
    const head = slots[0]!;
    ram.setUint16(r.avail + 4 + 2 * (availIdx[q]! % QSIZE), head, true);
    availIdx[q] = (availIdx[q]! + 1) & 0xffff;
    ram.setUint16(r.avail + 2, availIdx[q]!, true);
    return head;
  }
  const usedIdx = (q: number) => ram.getUint16(RINGS[q]!.used + 2, true);
  const used = (q: number, i: number) => [ram.getUint32(RINGS[q]!.used + 4 + 8 * i, true), ram.getUint32(RINGS[q]!.used + 8 + 8 * i, true)];

  function activate(features = bit(F_VERSION_1) | bit(F_MAC) | bit(F_STATUS) | bit(F_MRG_RXBUF)): void {
    const queues = RINGS.map((r) => {
      const q = SplitQueue.create(mem, { size: QSIZE, ...r }, { indirect: false, eventIdx: false });
      if (q instanceof QueueError) throw new Error(q.message);
      return q;
    });
    net.activate({
      mem, queues, features,
      interrupt: { queue: (i) => irqs.push(i), config: () => configIrqs++, needsReset: (why) => resets.push(why) },
    });
  }

  /** A transmit request as Linux builds it: the header and the frame, here split over two buffers. */
  function transmit(f: Uint8Array, k: number, hdr = new Uint8Array(HDR)): number {
    const at = TX_BUF + 0x1000 * k;
    h.writeMem(at, Array.from(hdr));
    h.writeMem(at + 0x100, Array.from(f));
    return offer(TX, [{ addr: at, len: HDR }, { addr: at + 0x100, len: f.length }]);
  }

  function postRx(count: number, size: number, first = 0): number[] {
    const heads: number[] = [];
    for (let i = 0; i < count; i++) heads.push(offer(RX, [{ addr: RX_BUF + 0x1000 * (first + i), len: size, write: true }]));
    return heads;
  }

  beforeEach(() => {
    h.core.ram.fill(0, 0, 0x100000);
    availIdx.fill(0);
    nextDesc.fill(0);
    backend = new FakeBackend();
    net = new VirtioNet(backend, { mac: Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef), maxPendingFrames: 8 });
    irqs = [];
    configIrqs = 0;
    resets = [];
  });

  describe('identity and configuration (§5.1.1 - §5.1.4)', () => {
    it('is a network device (device ID 1, PCI 0x1041, class 02) offering MAC, STATUS, MRG_RXBUF and receive offloads', () => {
      const pci = new VirtioPci({ device: net, mem, wake: () => {} });
      expect(pci.config.read(0x00, 2)).toBe(0x1af4);
      expect(pci.config.read(0x02, 2)).toBe(0x1041);
      expect(pci.config.read(0x08, 4) >>> 8).toBe(0x02_00_00);
      for (const b of [F_MAC, F_STATUS, F_MRG_RXBUF, F_GUEST_CSUM, F_GUEST_TSO4]) expect(net.features & bit(b)).toBe(bit(b));
      expect(net.queueMaxSizes).toEqual([256, 256]);
    });

    it('holds the MAC and the link status in its configuration space', () => {
      expect([0, 1, 2, 3, 4, 5].map((i) => net.readConfig(i, 1))).toEqual([0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]);
      expect(net.readConfig(0, 4)).toBe(0xab005452);
      expect(net.readConfig(6, 2)).toBe(S_LINK_UP);
      net.writeConfig(0, 4, 0);
      expect(net.readConfig(0, 1)).toBe(0x52);
    });

    it('reports a link change with a configuration interrupt and drops frames while down', () => {
      activate();
      net.setLink(false);
      expect(net.readConfig(6, 2)).toBe(0);
      expect(configIrqs).toBe(1);
      postRx(1, 2048);
      net.notify(RX);
      backend.deliver(frame(60, 1));
      expect(usedIdx(RX)).toBe(0);
      expect(net.stats.rxDropped).toBe(1);
      net.setLink(true);
      expect(net.readConfig(6, 2)).toBe(S_LINK_UP);
      expect(configIrqs).toBe(2);
    });
  });

  describe('transmit (§5.1.6.2)', () => {
    it('sends the frame behind the header to the backend and returns the chain with length 0', () => {
      activate();
      const f = frame(1514, 7);
      const head = transmit(f, 0);
      net.notify(TX);
      expect(backend.sent).toHaveLength(1);
      expect(backend.sent[0]).toEqual(f);
      expect(usedIdx(TX)).toBe(1);
      expect(used(TX, 0)).toEqual([head, 0]);
      expect(irqs).toEqual([TX]);
    });

    it('sends several frames in ring order with one interrupt', () => {
      activate();
      for (let k = 0; k < 3; k++) transmit(frame(60 + k, k), k);
      net.notify(TX);
      expect(backend.sent.map((f) => f.length)).toEqual([60, 61, 62]);
      expect(irqs).toEqual([TX]);
    });

    it('refuses a chain that loops, returns it, and sends the next good frame', () => {
      activate();
      h.writeMem(TX_BUF, new Array(HDR + 60).fill(0));
      offer(TX, [{ addr: TX_BUF, len: HDR }, { addr: TX_BUF + HDR, len: 60 }], { loopTo: 0 });
      transmit(frame(60, 3), 1);
      net.notify(TX);
      expect(net.stats.txErrors).toBe(1);
      expect(backend.sent).toEqual([frame(60, 3)]);
      expect(usedIdx(TX)).toBe(2);
      expect(resets).toEqual([]);
    });

    it('refuses huge lengths, addresses outside RAM, writable buffers, short frames and GSO', () => {
      activate();
      offer(TX, [{ addr: TX_BUF, len: 0xffff_ffff }]);
      offer(TX, [{ addr: RAM - 8, len: 64 }]);
      offer(TX, [{ addr: 2 ** 40, len: 100 }]);
      offer(TX, [{ addr: TX_BUF, len: HDR + 60 }, { addr: TX_BUF + 0x800, len: 16, write: true }]);
      offer(TX, [{ addr: TX_BUF, len: HDR + 10 }]);
      offer(TX, [{ addr: TX_BUF, len: HDR + 70000 }]);
      const gso = new Uint8Array(HDR);
      gso[1] = 1; // VIRTIO_NET_HDR_GSO_TCPV4, not negotiated
      transmit(frame(60, 0), 8, gso);
      transmit(frame(64, 9), 9);
      net.notify(TX);
      expect(net.stats.txErrors).toBe(7);
      expect(backend.sent).toEqual([frame(64, 9)]);
      expect(usedIdx(TX)).toBe(8);
      expect(resets).toEqual([]);
    });

    it('asks for a reset when the available index runs past the ring, and stops serving', () => {
      activate();
      ram.setUint16(RINGS[TX]!.avail + 2, QSIZE + 5, true);
      expect(() => net.notify(TX)).not.toThrow();
      expect(resets).toHaveLength(1);
      expect(resets[0]).toMatch(/transmit queue/);
      transmit(frame(60, 0), 0);
      net.notify(TX);
      expect(backend.sent).toHaveLength(0);
    });
  });

  describe('receive (§5.1.6.3, §5.1.6.4)', () => {
    it('merges buffers for a frame larger than one and reports num_buffers', () => {
      activate();
      const heads = postRx(3, 1024);
      net.notify(RX);
      const f = frame(2000, 5);
      backend.deliver(f);
      expect(usedIdx(RX)).toBe(2);
      expect(used(RX, 0)).toEqual([heads[0], 1024]);
      expect(used(RX, 1)).toEqual([heads[1], HDR + 2000 - 1024]);
      const got = new Uint8Array([...h.readMem(RX_BUF, 1024), ...h.readMem(RX_BUF + 0x1000, HDR + 2000 - 1024)]);
      expect(got[10] | (got[11]! << 8)).toBe(2); // num_buffers
      expect(got.subarray(0, 10)).toEqual(new Uint8Array(10)); // no flags, GSO_NONE
      expect(got.subarray(HDR)).toEqual(f);
      expect(irqs).toEqual([RX]);
      expect(net.stats.rxFrames).toBe(1);
    });

    it('marks checksums valid and a large TCP segment as GSO TCPV4 when the driver took GUEST_CSUM and GUEST_TSO4', () => {
      activate(bit(F_VERSION_1) | bit(F_MAC) | bit(F_MRG_RXBUF) | bit(F_GUEST_CSUM) | bit(F_GUEST_TSO4));
      expect(backend.large).toEqual([true]);
      postRx(16, 4096);
      net.notify(RX);
      // Ethernet + IPv4 (IHL 5) + TCP (data offset 8: 12 bytes of options) + 10,000 bytes of data.
      const f = frame(14 + 20 + 32 + 10_000, 9);
      f[14] = 0x45;
      f[14 + 20 + 12] = 0x80;
      backend.deliver(f, { csumValid: true, tcpMss: 1448 });
      const hdr = h.readMem(RX_BUF, HDR);
      expect([hdr[0], hdr[1]]).toEqual([HDR_F_DATA_VALID, GSO_TCPV4]);
      expect(hdr[2]! | (hdr[3]! << 8)).toBe(14 + 20 + 32); // hdr_len
      expect(hdr[4]! | (hdr[5]! << 8)).toBe(1448); // gso_size
      expect(hdr[10]! | (hdr[11]! << 8)).toBe(3); // num_buffers: 12 + 10,066 bytes in 4 KiB buffers
      // A frame within one MSS is not GSO; one without the backend's word keeps flags 0.
      backend.deliver(frame(100, 1), { csumValid: true, tcpMss: 1448 });
      backend.deliver(frame(100, 2));
      expect(Array.from(h.readMem(RX_BUF + 0x3000, 2))).toEqual([HDR_F_DATA_VALID, 0]);
      expect(Array.from(h.readMem(RX_BUF + 0x4000, 2))).toEqual([0, 0]);
      net.reset();
      expect(backend.large).toEqual([true, false]);
    });

    it('sends no large segments to a driver without mergeable buffers', () => {
      activate(bit(F_VERSION_1) | bit(F_MAC) | bit(F_GUEST_CSUM) | bit(F_GUEST_TSO4));
      expect(backend.large).toEqual([false]);
    });

    it('passes no offload to a driver that did not take GUEST_CSUM', () => {
      activate(bit(F_VERSION_1) | bit(F_MAC) | bit(F_MRG_RXBUF) | bit(F_GUEST_TSO4));
      expect(backend.large).toEqual([false]);
      postRx(1, 4096);
      net.notify(RX);
      backend.deliver(frame(100, 1), { csumValid: true, tcpMss: 40 });
      expect(Array.from(h.readMem(RX_BUF, 10))).toEqual(new Array(10).fill(0));
    });

    it('holds frames while the guest has no buffers and delivers them in order when it posts some', () => {
      activate();
      backend.deliver(frame(100, 1));
      backend.deliver(frame(200, 2));
      expect(net.framesPending).toBe(2);
      expect(usedIdx(RX)).toBe(0);
      postRx(1, 2048);
      net.notify(RX);
      expect(usedIdx(RX)).toBe(1);
      expect(net.framesPending).toBe(1);
      postRx(1, 2048, 1);
      net.notify(RX);
      expect(usedIdx(RX)).toBe(2);
      expect(h.readMem(RX_BUF + HDR, 100)).toEqual(frame(100, 1));
      expect(h.readMem(RX_BUF + 0x1000 + HDR, 200)).toEqual(frame(200, 2));
    });

    it('bounds the frames it holds and counts what it drops', () => {
      activate();
      for (let i = 0; i < 12; i++) backend.deliver(frame(60, i));
      expect(net.framesPending).toBe(8);
      expect(net.stats.rxDropped).toBe(4);
    });

    it('does not take part of a frame when the buffers posted are not enough for all of it', () => {
      activate();
      postRx(1, 1024);
      net.notify(RX);
      backend.deliver(frame(1500, 4));
      expect(usedIdx(RX)).toBe(0);
      postRx(1, 1024, 1);
      net.notify(RX);
      expect(usedIdx(RX)).toBe(2);
      expect(h.readMem(RX_BUF + HDR, 1024 - HDR)).toEqual(frame(1500, 4).subarray(0, 1024 - HDR));
    });

    it('without MRG_RXBUF puts one frame in one buffer, with num_buffers 1, and drops frames too large for it', () => {
      activate(bit(F_VERSION_1) | bit(F_MAC));
      postRx(1, 600);
      net.notify(RX);
      backend.deliver(frame(1000, 1));
      expect(usedIdx(RX)).toBe(0);
      expect(net.stats.rxDropped).toBe(1);
      backend.deliver(frame(500, 2));
      expect(usedIdx(RX)).toBe(1);
      expect(ram.getUint16(RX_BUF + 10, true)).toBe(1);
      expect(h.readMem(RX_BUF + HDR, 500)).toEqual(frame(500, 2));
    });

    it('returns receive chains that are readable, outside RAM or looping unused, then uses the next good one', () => {
      activate();
      const bad1 = offer(RX, [{ addr: RX_BUF, len: 2048 }]);
      const bad2 = offer(RX, [{ addr: RAM - 100, len: 2048, write: true }]);
      const bad3 = offer(RX, [{ addr: RX_BUF, len: 100, write: true }], { loopTo: nextDesc[RX]! });
      const bad4 = offer(RX, [{ addr: RX_BUF, len: 4, write: true }]);
      const good = offer(RX, [{ addr: RX_BUF + 0x4000, len: 2048, write: true }]);
      net.notify(RX);
      backend.deliver(frame(300, 6));
      expect(net.stats.rxErrors).toBe(4);
      expect([0, 1, 2, 3].map((i) => used(RX, i))).toEqual([[bad1, 0], [bad2, 0], [bad3, 0], [bad4, 0]]);
      expect(used(RX, 4)).toEqual([good, HDR + 300]);
      expect(h.readMem(RX_BUF + 0x4000 + HDR, 300)).toEqual(frame(300, 6));
      expect(resets).toEqual([]);
    });

    it('drops frames before the driver is ready and forgets held frames on reset', () => {
      backend.deliver(frame(60, 0));
      expect(net.stats.rxDropped).toBe(1);
      activate();
      backend.deliver(frame(60, 1));
      expect(net.framesPending).toBe(1);
      net.reset();
      expect(net.framesPending).toBe(0);
      backend.deliver(frame(60, 2));
      expect(net.stats.rxDropped).toBe(3);
    });

    it('serves a frame the backend answers while the device is still transmitting', () => {
      activate();
      postRx(1, 2048);
      net.notify(RX);
      backend.send = (f) => backend.deliver(f.slice().reverse());
      transmit(frame(80, 3), 0);
      net.notify(TX);
      expect(usedIdx(RX)).toBe(1);
      expect(h.readMem(RX_BUF + HDR, 80)).toEqual(frame(80, 3).reverse());
      expect(irqs.sort()).toEqual([RX, TX]);
    });
  });
});
