// A stand-in guest for the user-mode network tests: it takes the stack's frames (optionally losing some, with a
// seeded generator), and runs small TCP endpoints of its own, the way a guest kernel would: cumulative ACKs,
// out-of-order segments held until the gap fills, go-back-N retransmission of what it sends.
import type { UserNet } from '../../src/net/user';
import type { RxOffload } from '../../src/net/backend';
import {
  TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, ethType, ETHERTYPE_IPV4, ip4, parseIpv4, parseTcp, tcpFrame, IpProto, type Ip4, type Tcp,
} from '../../src/net/wire';

export const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
export const GATEWAY_MAC = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);
export const GUEST_IP = ip4(10, 0, 2, 15);
export const GATEWAY_IP = ip4(10, 0, 2, 2);

/** xorshift32: the same losses on every run. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

export class TestGuest {
  /** Every frame that arrived (and was not lost), in order. */
  readonly inbox: Uint8Array[] = [];
  /** What the stack said about each frame of the inbox (NetBackend's RxOffload). */
  readonly offloads: (RxOffload | undefined)[] = [];
  lossToGuest = 0;
  lossFromGuest = 0;
  lost = 0;
  private readonly random = rng(12345);
  private readonly queue: Uint8Array[] = [];
  private scheduled = false;
  readonly tcp = new Map<number, GuestTcp>();
  /** Called for a SYN to a port nobody holds (a port forward's connection). */
  onSyn: ((seg: Tcp, src: Ip4) => void) | undefined;

  constructor(readonly net: UserNet) {
    // Frames are handled on a later turn of the event loop, as a guest handles them after the interrupt, so a
    // long transfer does not recurse through the stack.
    net.onReceive((f, offload) => {
      if (this.lossToGuest > 0 && this.random() < this.lossToGuest) {
        this.lost++;
        return;
      }
      this.queue.push(f);
      this.offloads.push(offload);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.pump());
      }
    });
  }

  send(frame: Uint8Array): void {
    if (this.lossFromGuest > 0 && this.random() < this.lossFromGuest) {
      this.lost++;
      return;
    }
    this.net.send(frame);
  }

  /** Resolves once `pred` holds, polling; rejects after `ms`. */
  async until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private pump(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0);
    for (const f of batch) {
      this.inbox.push(f);
      if (ethType(f) !== ETHERTYPE_IPV4) continue;
      const ip = parseIpv4(f);
      if (typeof ip === 'string' || ip.proto !== IpProto.Tcp || ip.dst !== GUEST_IP) continue;
      const seg = parseTcp(ip);
      if (!seg) throw new Error('the stack sent a TCP segment with a bad checksum');
      const conn = this.tcp.get(seg.dstPort);
      if (conn) conn.segment(seg);
      else if ((seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) this.onSyn?.(seg, ip.src);
    }
  }
}

const MSS = 1460;
const WINDOW = 65535;
const RTO_MS = 60;

/** One guest-side TCP endpoint. */
export class GuestTcp {
  state: 'syn-sent' | 'syn-received' | 'established' | 'closed' = 'closed';
  rcvNxt = 0;
  private readonly iss = 7_000_000;
  private sndUna = this.iss;
  private sndNxt = this.iss;
  private peerWindow = 0;
  /** Sequence numbers of FINs seen, taken once the data before them is in. */
  private readonly finSeqs: number[] = [];
  private outData = new Uint8Array(0);
  private finQueued = false;
  private finSent = false;
  private readonly ooo = new Map<number, Uint8Array>();
  private readonly chunks: Uint8Array[] = [];
  private timer: NodeJS.Timeout | undefined;
  receivedLength = 0;
  /** The window this endpoint advertises; at 0 it takes no data (a full receive buffer). */
  window = WINDOW;
  finReceived = false;
  rstReceived = false;
  /** Every segment the stack sent this endpoint. */
  readonly segments: Tcp[] = [];

  constructor(private readonly g: TestGuest, readonly port: number, readonly remote: Ip4, readonly remotePort: number) {
    g.tcp.set(port, this);
  }

  /** Active open toward remote:remotePort. */
  connect(): void {
    this.state = 'syn-sent';
    this.sndNxt = this.iss + 1;
    this.emit({ seq: this.iss, ack: 0, flags: TCP_SYN, mss: MSS });
  }

  /** Passive open: answer a SYN already received. */
  accept(syn: Tcp): void {
    this.state = 'syn-received';
    this.rcvNxt = (syn.seq + 1) >>> 0;
    this.peerWindow = syn.window;
    this.sndNxt = this.iss + 1;
    this.emit({ seq: this.iss, ack: this.rcvNxt, flags: TCP_SYN | TCP_ACK, mss: MSS });
  }

  write(data: Uint8Array): void {
    const all = new Uint8Array(this.outData.length + data.length);
    all.set(this.outData);
    all.set(data, this.outData.length);
    this.outData = all;
    this.transmit();
  }

  /** FIN once everything written is sent. */
  end(): void {
    this.finQueued = true;
    this.transmit();
  }

  reset(): void {
    this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_RST | TCP_ACK });
    this.state = 'closed';
    this.stopTimer();
  }

  received(): Uint8Array {
    const all = new Uint8Array(this.receivedLength);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }

  get allAcked(): boolean { return this.sndUna === this.sndNxt; }

  segment(seg: Tcp): void {
    this.segments.push(seg);
    if (seg.flags & TCP_RST) {
      this.rstReceived = true;
      this.state = 'closed';
      this.stopTimer();
      return;
    }
    if (this.state === 'syn-sent') {
      if ((seg.flags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK) || seg.ack !== this.iss + 1) return;
      this.state = 'established';
      this.rcvNxt = (seg.seq + 1) >>> 0;
      this.sndUna = seg.ack;
      this.peerWindow = seg.window;
      this.ack();
      this.transmit();
      return;
    }
    if (this.state === 'syn-received') {
      if (!(seg.flags & TCP_ACK) || seg.ack !== this.iss + 1) return;
      this.state = 'established';
    }
    if (seg.flags & TCP_SYN) {
      this.ack(); // our SYN-ACK or ACK was lost
      return;
    }
    if (seg.flags & TCP_ACK) {
      if (((seg.ack - this.sndUna) | 0) > 0 && ((seg.ack - this.sndNxt) | 0) <= 0) {
        this.sndUna = seg.ack;
        this.stopTimer();
      }
      this.peerWindow = seg.window;
    }
    this.receive(seg);
    this.transmit();
  }

  private receive(seg: Tcp): void {
    if (seg.data.length === 0 && !(seg.flags & TCP_FIN)) return;
    if (this.window === 0) {
      this.ack(); // a probe into a closed window: dropped, and answered with the same ACK
      return;
    }
    if (seg.data.length > 0) this.ooo.set(seg.seq, seg.data.slice());
    if (seg.flags & TCP_FIN) this.finSeqs.push((seg.seq + seg.data.length) >>> 0);
    // Take whatever is now in order.
    for (let progress = true; progress;) {
      progress = false;
      for (const [seq, data] of this.ooo) {
        const skip = (this.rcvNxt - seq) | 0;
        if (skip >= data.length) {
          this.ooo.delete(seq);
          progress = true;
        } else if (skip >= 0) {
          this.ooo.delete(seq);
          const fresh = data.subarray(skip);
          this.chunks.push(fresh);
          this.receivedLength += fresh.length;
          this.rcvNxt = (this.rcvNxt + fresh.length) >>> 0;
          progress = true;
        }
      }
    }
    if (!this.finReceived && this.finSeqs.includes(this.rcvNxt)) {
      this.finReceived = true;
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    }
    this.ack();
  }

  private transmit(): void {
    if (this.state !== 'established') return;
    for (;;) {
      const sent = (this.sndNxt - this.sndUna) >>> 0;
      const offset = (this.sndNxt - this.iss - 1) >>> 0;
      const unsent = this.outData.length - offset;
      if (unsent > 0) {
        const room = this.peerWindow - sent;
        if (room <= 0) break;
        const n = Math.min(unsent, room, MSS);
        this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_ACK, data: this.outData.subarray(offset, offset + n) });
        this.sndNxt = (this.sndNxt + n) >>> 0;
        continue;
      }
      if (this.finQueued && !this.finSent && unsent === 0) {
        this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_FIN | TCP_ACK });
        this.sndNxt = (this.sndNxt + 1) >>> 0;
        this.finSent = true;
      }
      break;
    }
    if (this.sndNxt !== this.sndUna && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        // Go back to the first unacknowledged byte.
        this.sndNxt = this.sndUna;
        if (this.finSent && ((this.sndUna - this.iss - 1) >>> 0) <= this.outData.length) this.finSent = false;
        this.transmit();
      }, RTO_MS);
    }
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Open a closed window and say so (a window update). */
  openWindow(): void {
    this.window = WINDOW;
    this.ack();
  }

  private ack(): void {
    this.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_ACK });
  }

  private emit(s: { seq: number; ack: number; flags: number; mss?: number; data?: Uint8Array }): void {
    this.g.send(tcpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, this.remote, {
      srcPort: this.port, dstPort: this.remotePort, window: this.window, ...s,
    }));
  }
}
