// Two virtio-net devices, each over its own guest RAM, joined by the socket backend (one listening, one
// connecting) as two wasmpc processes would be: a frame one guest transmits lands, whole, in the other guest's
// receive buffer, and the answer comes back the same way.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { GuestMemory } from '../../src/machine/dma';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { QueueError, SplitQueue } from '../../src/devices/virtio/queue';
import { VirtioNet } from '../../src/devices/virtio/net';
import { SocketNetBackend } from '../../src/node/net-socket';

const RAM = 1 << 20;
const QSIZE = 8;
const RINGS = [{ desc: 0x10000, avail: 0x11000, used: 0x12000 }, { desc: 0x20000, avail: 0x21000, used: 0x22000 }];
const RX_BUF = 0x40000, TX_BUF = 0x60000;
const HDR = 12;
const F_WRITE = 2;
const F_VERSION_1 = 1n << 32n, F_MRG_RXBUF = 1n << 15n;

/** One guest: RAM, the two rings, and the device activated over them. */
class Guest {
  readonly h = new CpuHarness(loadCoreModule(), RAM);
  readonly mem = new GuestMemory(this.h.core);
  readonly ram = new DataView(this.h.core.ram.buffer, this.h.core.ram.byteOffset, RAM);
  readonly rxIrqs: number[] = [];
  private readonly avail = [0, 0];
  readonly net: VirtioNet;

  constructor(backend: SocketNetBackend) {
    this.net = new VirtioNet(backend);
    const queues = RINGS.map((r) => {
      const q = SplitQueue.create(this.mem, { size: QSIZE, ...r }, { indirect: false, eventIdx: false });
      if (q instanceof QueueError) throw new Error(q.message);
      return q;
    });
    this.net.activate({
      mem: this.mem, queues, features: F_VERSION_1 | F_MRG_RXBUF,
      interrupt: { queue: (i) => { if (i === 0) this.rxIrqs.push(i); }, config: () => {}, needsReset: (why) => { throw new Error(why); } },
    });
  }

  private offer(q: number, i: number, addr: number, len: number, flags: number): void {
    const r = RINGS[q]!;
    this.ram.setUint32(r.desc + 16 * i, addr, true);
    this.ram.setUint32(r.desc + 16 * i + 8, len, true);
    this.ram.setUint16(r.desc + 16 * i + 12, flags, true);
    this.ram.setUint16(r.avail + 4 + 2 * (this.avail[q]! % QSIZE), i, true);
    this.avail[q] = this.avail[q]! + 1;
    this.ram.setUint16(r.avail + 2, this.avail[q]!, true);
    this.net.notify(q);
  }

  postRx(): void { this.offer(0, 0, RX_BUF, 2048, F_WRITE); }

  transmit(frame: Uint8Array): void {
    this.h.writeMem(TX_BUF, [...new Uint8Array(HDR), ...frame]);
    this.offer(1, this.avail[1]! % QSIZE, TX_BUF, HDR + frame.length, 0);
  }

  /** The frame in the receive buffer, once the used ring says one arrived. */
  received(): Uint8Array | undefined {
    const used = this.ram.getUint16(RINGS[0]!.used + 2, true);
    if (used === 0) return undefined;
    const len = this.ram.getUint32(RINGS[0]!.used + 8, true);
    return this.h.readMem(RX_BUF + HDR, len - HDR);
  }
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('virtio-net over the socket backend', () => {
  const backends: SocketNetBackend[] = [];
  afterEach(async () => { await Promise.all(backends.splice(0).map((b) => b.close())); });

  it('carries a frame from one guest into the other and the answer back', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const a = await SocketNetBackend.open({ mode: 'listen', host: '127.0.0.1', port });
    const b = await SocketNetBackend.open({ mode: 'connect', host: '127.0.0.1', port });
    backends.push(a, b);
    await until(() => a.connected && b.connected);
    const ga = new Guest(a);
    const gb = new Guest(b);
    ga.postRx();
    gb.postRx();
    // A broadcast ARP request from A, and B's unicast reply.
    const request = Uint8Array.from({ length: 60 }, (_, i) => (i < 6 ? 0xff : i));
    ga.transmit(request);
    await until(() => gb.received() !== undefined);
    expect(gb.received()).toEqual(request);
    expect(gb.rxIrqs).toHaveLength(1);
    const reply = Uint8Array.from({ length: 1514 }, (_, i) => (i * 13) & 0xff);
    gb.transmit(reply);
    await until(() => ga.received() !== undefined);
    expect(ga.received()).toEqual(reply);
  });
});
