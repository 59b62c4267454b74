// One TCP connection of the user-mode network (RFC 9293): the guest's end is a real TCP peer, the other end is
// a host TcpStream, and this is the TCP endpoint the guest talks to. A connection the guest opens is answered
// with SYN-ACK only once the host connection is up (RST if it fails, as slirp does); a port forward opens
// toward the guest with a SYN of its own.
//
// Host-to-guest data is held from SND.UNA until the guest acknowledges it, sent within the guest's window and
// our MSS (or in segments of many MSS where the guest's NIC takes large segments: TcpLink.maxSegment), and
// retransmitted go-back-N when the retransmission timer expires (RFC 6298 timer, Karn's rule), or one segment at a time on three duplicate ACKs and on each partial ACK after them (RFC 5681 §3.2, RFC 6582).
// Guest-to-host data is taken in order only; an out-of-order segment is dropped and answered with a duplicate
// ACK, and the window we advertise shrinks as the host socket backs up. The guest's window may be scaled (RFC 7323
// §2: a window scale option both ways on the SYNs; ours is shift 0, so what we advertise stays within 64 KiB);
// no SACK or urgent data.
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Tcp, type TcpOut } from './wire';
import type { AcceptedStream, NetHost, TcpStream, TcpStreamEvents, Timer } from './host';

export const enum TcpState {
  /** Guest SYN received; waiting for the host connection. */
  Connecting,
  /** SYN sent to the guest (a port forward); waiting for its SYN-ACK. */
  SynSent,
  /** SYN-ACK sent to the guest; waiting for its ACK. */
  SynReceived,
  /** Data flows; FINs either way are tracked separately (the half-closed states). */
  Established,
  /** Both FINs acknowledged, or reset; lingering only to answer retransmitted FINs. */
  Closed,
}

/** What a connection needs from the stack around it. */
export interface TcpLink {
  readonly host: NetHost;
  /**
   * Send a segment to the guest; the stack fills in ports and addresses. `gsoMss`: the segment carries more than
   * one MSS of data, to be taken as segments of that size (only when maxSegment allowed it).
   */
  emit(seg: Omit<TcpOut, 'srcPort' | 'dstPort'>, gsoMss?: number): void;
  /** The most data one segment to the guest may carry, given the connection's MSS (default: the MSS). */
  maxSegment?(mss: number): number;
  /** The connection is over; the stack forgets it. */
  closed(): void;
}

/** Our MSS: a 1500-byte MTU less 40 bytes of IPv4 and TCP headers. */
export const OUR_MSS = 1460;
/** RFC 9293 §3.7.1: the MSS assumed when a SYN carries none. */
const DEFAULT_MSS = 536;
/** Our receive window: the largest without scaling it (our window scale option says shift 0). */
const RCV_WINDOW = 0xffff;
/** Host-to-guest bytes held before the host socket is paused, and the level at which it resumes. */
const SEND_BUFFER_HIGH = 1 << 20;
const SEND_BUFFER_LOW = 256 << 10;
/** RFC 6298 §2: the initial RTO; a floor and a ceiling (§2.4, §2.5; a 200 ms floor as Linux uses). */
const RTO_INITIAL_MS = 1000;
const RTO_MIN_MS = 200;
const RTO_MAX_MS = 60_000;
/** Retransmissions of one segment before the connection is given up. */
const MAX_RETRIES = 12;
/** RFC 5681 §3.2: the duplicate ACKs that trigger a fast retransmit. */
const DUP_ACK_THRESHOLD = 3;
/** How long a closed connection still answers a retransmitted FIN with an ACK (a short TIME-WAIT). */
const LINGER_MS = 2000;

/** Sequence-space comparisons (RFC 9293 §3.4), modulo 2^32. */
const seqLt = (a: number, b: number) => ((a - b) | 0) < 0;
const seqGt = (a: number, b: number) => ((a - b) | 0) > 0;
const seqAdd = (a: number, n: number) => (a + n) >>> 0;

/** Bytes queued in order, dropped from the front as they are acknowledged. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  length = 0;

  push(d: Uint8Array): void {
    if (d.length === 0) return;
    this.chunks.push(d);
    this.length += d.length;
  }

  drop(n: number): void {
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const avail = c.length - this.head;
      if (n >= avail) {
        n -= avail;
        this.chunks.shift();
        this.head = 0;
      } else {
        this.head += n;
        n = 0;
      }
    }
  }

  /** A copy of `n` bytes starting `offset` bytes in. */
  copy(offset: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let done = 0;
    let skip = offset + this.head;
    for (const c of this.chunks) {
      if (done === n) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const k = Math.min(c.length - skip, n - done);
      out.set(c.subarray(skip, skip + k), done);
      done += k;
      skip = 0;
    }
    return out;
  }
}

export class TcpConn {
  state: TcpState;
  private stream: TcpStream | undefined;
  /** The host stream closed; nothing more can be written to it. */
  private streamGone = false;
  private readonly iss = (Math.random() * 2 ** 32) >>> 0;
  private sndUna: number;
  private sndNxt: number;
  private sndWnd = 0;
  private mss = DEFAULT_MSS;
  private rcvNxt = 0;
  /** Host-to-guest bytes from SND.UNA on: sent and unacknowledged, then unsent. */
  private readonly sendBuf = new ByteQueue();
  private hostEnded = false;
  private finSent = false;
  private guestFin = false;
  private paused = false;
  private timer: Timer | undefined;
  private rto = RTO_INITIAL_MS;
  private retries = 0;
  private dupAcks = 0;
  /** RFC 6582: SND.NXT when fast retransmit started; ACKs below it are partial and resend the next hole. */
  private recover: number | undefined;
  private srtt: number | undefined;
  private rttvar = 0;
  /** The segment being timed (Karn: never a retransmitted one): it is acknowledged by `rttSeq`. */
  private rttSeq: number | undefined;
  private rttStart = 0;
  /** RFC 7323 §2.3: the guest's window fields (but a SYN's) count in units of 2^sndShift bytes. */
  private sndShift = 0;
  /** The guest's SYN carried a window scale option: ours goes in the SYN-ACK (§2.2). */
  private scaling = false;

  private constructor(private readonly link: TcpLink, state: TcpState) {
    this.state = state;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
  }

  /** The guest sent SYN: connect to the host side, and answer once that connection is up. */
  static fromGuestSyn(link: TcpLink, syn: Tcp, host: string, port: number): TcpConn {
    const c = new TcpConn(link, TcpState.Connecting);
    c.rcvNxt = seqAdd(syn.seq, 1);
    c.sndWnd = syn.window;
    c.mss = Math.min(syn.mss ?? DEFAULT_MSS, OUR_MSS);
    c.useScale(syn.wscale);
    c.stream = link.host.connectTcp(host, port, c.events());
    return c;
  }

  /** The host accepted a connection on a port forward: open one to the guest. */
  static fromHost(link: TcpLink, accept: AcceptedStream): TcpConn {
    const c = new TcpConn(link, TcpState.SynSent);
    c.stream = accept(c.events());
    c.sendSyn();
    return c;
  }

  /** A segment from the guest for this connection (RFC 9293 §3.10.7.4, simplified to what one guest needs). */
  segment(seg: Tcp): void {
    if (this.state === TcpState.Closed) {
      // A retransmitted FIN means our last ACK was lost.
      if (seg.flags & TCP_FIN) this.emitAck();
      return;
    }
    if (seg.flags & TCP_RST) {
      if (this.rstAcceptable(seg)) this.finish(true);
      return;
    }
    switch (this.state) {
      case TcpState.Connecting:
        return; // a retransmitted SYN: the answer waits for the host
      case TcpState.SynSent:
        return this.synSentSegment(seg);
      case TcpState.SynReceived:
        if (seg.flags & TCP_SYN) return this.sendSynAck();
        if (!(seg.flags & TCP_ACK)) return;
        if (seg.ack !== seqAdd(this.iss, 1)) return this.resetFor(seg);
        this.established();
        break;
      case TcpState.Established:
        if (seg.flags & TCP_SYN) return this.emitAck();
        break;
    }
    this.processAck(seg);
    if (this.state === TcpState.Established) this.processData(seg);
    this.maybeFinished();
  }

  /** The stack is closing: reset both sides. */
  abort(): void {
    if (this.state === TcpState.Closed) return;
    if (this.state !== TcpState.Connecting) this.link.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_RST | TCP_ACK, window: 0 });
    this.finish(true);
  }

  // ---- handshake ----

  private sendSyn(): void {
    this.sndNxt = seqAdd(this.iss, 1);
    this.link.emit({ seq: this.iss, ack: 0, flags: TCP_SYN, window: RCV_WINDOW, mss: OUR_MSS, wscale: 0 });
    this.armTimer();
  }

  private sendSynAck(): void {
    this.sndNxt = seqAdd(this.iss, 1);
    this.link.emit({
      seq: this.iss, ack: this.rcvNxt, flags: TCP_SYN | TCP_ACK, window: this.rcvWindow(), mss: OUR_MSS,
      ...(this.scaling ? { wscale: 0 } : {}),
    });
    this.armTimer();
  }

  private synSentSegment(seg: Tcp): void {
    if (!(seg.flags & TCP_ACK)) return;
    if (seg.ack !== seqAdd(this.iss, 1)) return this.resetFor(seg);
    if (!(seg.flags & TCP_SYN)) return;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.mss = Math.min(seg.mss ?? DEFAULT_MSS, OUR_MSS);
    this.useScale(seg.wscale);
    this.established();
    this.sndWnd = seg.window;
    this.emitAck();
    this.transmit();
  }

  /** The guest's window scale option (RFC 7323 §2.2-2.3): shifts above 14 are taken as 14. */
  private useScale(wscale: number | undefined): void {
    this.scaling = wscale !== undefined;
    this.sndShift = wscale !== undefined ? Math.min(wscale, 14) : 0;
  }

  private established(): void {
    this.state = TcpState.Established;
    this.sndUna = seqAdd(this.iss, 1);
    this.cancelTimer();
    this.retries = 0;
    this.stream?.resume();
  }

  /** RFC 9293 §3.10.7.4: a RST is taken when its sequence number is in the window (in SYN-SENT: when it acks our SYN). */
  private rstAcceptable(seg: Tcp): boolean {
    if (this.state === TcpState.SynSent) return (seg.flags & TCP_ACK) !== 0 && seg.ack === this.sndNxt;
    if (this.state === TcpState.Connecting) return seg.seq === this.rcvNxt;
    return !seqLt(seg.seq, this.rcvNxt) && seqLt(seg.seq, seqAdd(this.rcvNxt, Math.max(1, this.rcvWindow())));
  }

  /** RFC 9293 §3.10.7.3: an ACK of something never sent, during the handshake, gets <SEQ=SEG.ACK><CTL=RST>. */
  private resetFor(seg: Tcp): void {
    this.link.emit({ seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 });
  }

  // ---- acknowledgments and sending ----

  private processAck(seg: Tcp): void {
    if (!(seg.flags & TCP_ACK)) return;
    const ack = seg.ack;
    const window = seg.window * 2 ** this.sndShift;
    if (seqGt(ack, this.sndNxt)) {
      this.emitAck();
      return;
    }
    if (seqGt(ack, this.sndUna)) {
      const acked = (ack - this.sndUna) >>> 0;
      // The FIN takes one sequence number past the data.
      this.sendBuf.drop(Math.min(acked, this.sendBuf.length));
      this.sndUna = ack;
      this.dupAcks = 0;
      if (this.recover !== undefined) {
        // RFC 6582 §3.2 step 3: a partial ACK means the next segment was lost too; a full one ends recovery.
        if (seqLt(ack, this.recover)) this.retransmitFirst();
        else this.recover = undefined;
      }
      this.retries = 0;
      if (this.rttSeq !== undefined && !seqLt(ack, this.rttSeq)) {
        this.sampleRtt(this.link.host.now() - this.rttStart);
        this.rttSeq = undefined;
      }
      this.cancelTimer();
      if (this.sndNxt !== this.sndUna) this.armTimer();
      if (this.paused && this.sendBuf.length < SEND_BUFFER_LOW) {
        this.paused = false;
        this.stream?.resume();
      }
    } else if (ack === this.sndUna && seg.data.length === 0 && !(seg.flags & TCP_FIN) && this.sndNxt !== this.sndUna && window === this.sndWnd) {
      // RFC 5681 §3.2: the third duplicate ACK retransmits the segment the guest is missing.
      if (++this.dupAcks === DUP_ACK_THRESHOLD && this.recover === undefined) {
        this.recover = this.sndNxt;
        this.retransmitFirst();
      }
    }
    this.sndWnd = window;
    // A guest answering with a zero window is alive, only full: its probes never count toward giving up.
    if (window === 0) this.retries = 0;
    this.transmit();
  }

  /** Send what the guest's window allows: data within the MSS, then our FIN once the host has ended. */
  private transmit(probe = false): void {
    if (this.state !== TcpState.Established) return;
    for (;;) {
      const inflight = (this.sndNxt - this.sndUna) >>> 0;
      const unsent = this.sendBuf.length - inflight;
      if (unsent > 0) {
        const room = Math.max(this.sndWnd, probe ? 1 : 0) - inflight;
        if (room <= 0) break;
        const n = Math.min(unsent, room, this.segmentLimit());
        this.sendData(this.sndNxt, inflight, n);
        if (this.rttSeq === undefined) {
          this.rttSeq = seqAdd(this.sndNxt, n);
          this.rttStart = this.link.host.now();
        }
        this.sndNxt = seqAdd(this.sndNxt, n);
        probe = false;
        continue;
      }
      if (this.hostEnded && !this.finSent && unsent === 0) {
        this.link.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_FIN | TCP_ACK, window: this.rcvWindow() });
        this.sndNxt = seqAdd(this.sndNxt, 1);
        this.finSent = true;
      }
      break;
    }
    // The timer runs while anything is unacknowledged, and while data waits on a zero window (to probe it).
    if (!this.timer && (this.sndNxt !== this.sndUna || this.sendBuf.length > 0)) this.armTimer();
  }

  /** Data per segment: the MSS, or more where the guest's NIC takes large segments (TcpLink.maxSegment). */
  private segmentLimit(): number {
    return Math.max(this.mss, this.link.maxSegment?.(this.mss) ?? this.mss);
  }

  private sendData(seq: number, offset: number, n: number): void {
    const data = this.sendBuf.copy(offset, n);
    this.link.emit({ seq, ack: this.rcvNxt, flags: TCP_ACK | TCP_PSH, window: this.rcvWindow(), data }, n > this.mss ? this.mss : undefined);
  }

  private retransmitFirst(): void {
    const inflight = (this.sndNxt - this.sndUna) >>> 0;
    const n = Math.min(this.sendBuf.length, inflight, this.segmentLimit());
    if (n > 0) this.sendData(this.sndUna, 0, n);
    this.rttSeq = undefined;
  }

  /** RFC 6298 §5: the retransmission timer expired. */
  private timeout(): void {
    this.timer = undefined;
    if (++this.retries > MAX_RETRIES) {
      this.abort();
      return;
    }
    // §5.5: back off; §5.7 is left to the next sample.
    this.rto = Math.min(this.rto * 2, RTO_MAX_MS);
    this.rttSeq = undefined;
    this.recover = undefined;
    switch (this.state) {
      case TcpState.SynSent:
        return this.sendSyn();
      case TcpState.SynReceived:
        return this.sendSynAck();
      case TcpState.Established:
        if (this.sndNxt === this.sndUna) {
          // Nothing in flight: data waits on a zero window, so probe it with one byte (RFC 9293 §3.8.6.1).
          this.transmit(true);
        } else {
          // Go back to the first unacknowledged byte; a FIN already sent goes again after the data.
          this.sndNxt = this.sndUna;
          this.finSent = false;
          this.transmit(this.sndWnd === 0);
        }
        if (!this.timer) this.armTimer();
        return;
      default:
        return;
    }
  }

  /** RFC 6298 §2.2, §2.3 with G = 0: update SRTT and RTTVAR and derive the RTO. */
  private sampleRtt(r: number): void {
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(RTO_MAX_MS, Math.max(RTO_MIN_MS, this.srtt + 4 * this.rttvar));
  }

  private armTimer(): void {
    this.cancelTimer();
    this.timer = this.link.host.setTimer(this.rto, () => this.timeout());
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  // ---- receiving ----

  private processData(seg: Tcp): void {
    let data = seg.data;
    const fin = (seg.flags & TCP_FIN) !== 0;
    if (data.length === 0 && !fin) return;
    const old = (this.rcvNxt - seg.seq) | 0;
    if (old < 0 || this.guestFin) {
      // Out of order (a segment before it was lost), or past the guest's FIN: a duplicate ACK asks for the gap.
      this.emitAck();
      return;
    }
    if (old > 0) {
      if (old >= data.length + (fin ? 1 : 0)) {
        this.emitAck();
        return;
      }
      data = data.subarray(old);
    }
    if (data.length > 0) {
      if (this.streamGone || !this.stream) {
        // The host side is gone: the guest's data has nowhere to go (RFC 9293 §3.6.1, data after close).
        this.link.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_RST | TCP_ACK, window: 0 });
        this.finish(true);
        return;
      }
      this.stream.write(data.slice());
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    }
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.guestFin = true;
      if (!this.streamGone) this.stream?.end();
    }
    this.emitAck();
  }

  private rcvWindow(): number {
    return Math.max(0, RCV_WINDOW - (this.streamGone ? 0 : this.stream?.buffered ?? 0));
  }

  private emitAck(): void {
    this.link.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: TCP_ACK, window: this.rcvWindow() });
  }

  // ---- the host side ----

  private events(): TcpStreamEvents {
    return {
      onConnect: () => {
        if (this.state !== TcpState.Connecting) return;
        this.state = TcpState.SynReceived;
        this.sendSynAck();
      },
      onData: (data) => {
        if (this.state === TcpState.Closed) return;
        this.sendBuf.push(data);
        if (this.sendBuf.length > SEND_BUFFER_HIGH && !this.paused) {
          this.paused = true;
          this.stream?.pause();
        }
        this.transmit();
      },
      onEnd: () => {
        this.hostEnded = true;
        this.transmit();
      },
      onDrain: () => {
        if (this.state === TcpState.Established) this.emitAck();
      },
      onClose: (error) => {
        this.streamGone = true;
        if (this.state === TcpState.Closed) return;
        if (this.state === TcpState.Connecting) {
          // RFC 9293 §3.10.7.1: refuse the guest's SYN with <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
          this.link.emit({ seq: 0, ack: this.rcvNxt, flags: TCP_RST | TCP_ACK, window: 0 });
          this.finish(false);
        } else if (error || this.state !== TcpState.Established) {
          this.abort();
        } else {
          // Closed in order: whatever the host sent is still delivered, then our FIN.
          this.hostEnded = true;
          this.transmit();
          this.maybeFinished();
        }
      },
    };
  }

  /** Both FINs acknowledged: the connection is over. */
  private maybeFinished(): void {
    if (this.state !== TcpState.Established || !this.guestFin || !this.finSent || this.sndUna !== this.sndNxt) return;
    this.cancelTimer();
    this.state = TcpState.Closed;
    this.link.host.setTimer(LINGER_MS, () => this.link.closed());
  }

  private finish(destroyHost: boolean): void {
    this.cancelTimer();
    this.state = TcpState.Closed;
    if (destroyHost && !this.streamGone) this.stream?.destroy();
    this.streamGone = true;
    this.link.closed();
  }
}
