// User-mode networking, as QEMU's slirp provides it and with its addresses: the guest sits alone on
// 10.0.2.0/24 behind a NAT, needs no host privileges, and reaches the world through ordinary host sockets.
//
//   10.0.2.2   the gateway: answers ARP and ping, hands out leases by DHCP, and stands for the host's
//              127.0.0.1 (a guest connection to 10.0.2.2:80 reaches the host's 127.0.0.1:80)
//   10.0.2.3   DNS: queries are forwarded to the host's resolver
//   10.0.2.15  the guest's lease
//
// TCP connections are terminated here (src/net/tcp.ts) and carried on host TCP streams; UDP datagrams go
// through a host UDP socket per guest port. `restrict` forbids every connection out of the guest (port
// forwards into it still work), and `hostfwd` listens on host ports and opens connections to the guest.
import type { NetBackend, RxOffload } from './backend';
import type { Listener, NetHost, UdpSocket } from './host';
import { dhcpReply, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from './dhcp';
import { TcpConn, TcpState, type TcpLink } from './tcp';
import {
  ARP_OP_REPLY, ARP_OP_REQUEST, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_SRC, ICMP_ECHO_REQUEST, IpProto, TCP_ACK, TCP_FIN,
  TCP_RST, TCP_SYN, arpFrame, checksum, ethType, icmpEchoReply, ip4, ip4ToString, parseArp, parseIp4, parseIpv4, parseTcp, parseUdp, tcpFrame,
  udpFrame, type Ip4, type Ipv4, type Tcp,
} from './wire';

export const USER_NET = ip4(10, 0, 2, 0);
export const USER_NETMASK = ip4(255, 255, 255, 0);
export const USER_GATEWAY = ip4(10, 0, 2, 2);
export const USER_DNS = ip4(10, 0, 2, 3);
export const USER_GUEST = ip4(10, 0, 2, 15);
/** slirp's MAC for its own addresses: 52:55 then the gateway's IPv4 address. */
export const USER_GATEWAY_MAC = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);
const HOST_LOOPBACK = '127.0.0.1';
const DNS_PORT = 53;
const LEASE_SECONDS = 86400;
/** UDP mappings idle this long are closed (DNS ones sooner: a query is answered or given up quickly). */
const UDP_IDLE_MS = 60_000;
const DNS_IDLE_MS = 10_000;
const UDP_SWEEP_MS = 5_000;
/** Source ports the gateway uses for connections it opens to the guest (port forwards). */
const FORWARD_PORT_FIRST = 49152;
const FORWARD_PORT_COUNT = 16384;

export interface UserForward {
  hostPort: number;
  /** The guest address to connect to; the DHCP lease when undefined. */
  guestAddr?: string;
  guestPort: number;
}

export interface UserNetOptions {
  host: NetHost;
  /** restrict=on: no TCP, UDP or DNS leaves the guest. */
  restrict?: boolean;
  hostfwd?: readonly UserForward[];
  /** The guest NIC's MAC, for frames sent before the guest sent any (a port forward's SYN). */
  guestMac?: Uint8Array;
}

/** What the stack counted, for tests and a log. */
export interface UserNetStats {
  /** Frames from the guest dropped: malformed, bad checksum, fragments, or for nothing here. */
  dropped: number;
  fragments: number;
  /** Connections or datagrams refused by restrict=on. */
  restricted: number;
}

interface UdpMapping {
  socket: UdpSocket;
  guestPort: number;
  dns: boolean;
  lastUsed: number;
}

/** The largest TCP payload in one segment to a NIC with large receive: a 65,535-byte IPv4 datagram less 40 bytes
 *  of IPv4 and TCP headers (RFC 791 total length), rounded down to whole MSS-sized segments by the caller. */
const MAX_LARGE_SEGMENT = 65535 - 40;

export class UserNet implements NetBackend {
  readonly stats: UserNetStats = { dropped: 0, fragments: 0, restricted: 0 };
  private readonly host: NetHost;
  private readonly restrict: boolean;
  private readonly forwards: readonly UserForward[];
  private guestMac: Uint8Array;
  private deliver: (frame: Uint8Array, offload?: RxOffload) => void = () => {};
  /** The guest's NIC takes TCP segments up to a 64 KiB datagram (NetBackend.setLargeReceive). */
  private largeReceive = false;
  private readonly tcp = new Map<string, TcpConn>();
  private readonly udp = new Map<string, UdpMapping>();
  private readonly listeners: Listener[] = [];
  private sweep: { cancel(): void } | undefined;
  private nextForwardPort = 0;
  private closed = false;

  constructor(opts: UserNetOptions) {
    this.host = opts.host;
    this.restrict = opts.restrict ?? false;
    this.forwards = opts.hostfwd ?? [];
    this.guestMac = opts.guestMac ? Uint8Array.from(opts.guestMac) : BROADCAST_MAC;
  }

  /** Open the port forwards' listeners; rejects naming the first that cannot listen. */
  async start(): Promise<void> {
    for (const f of this.forwards) {
      const guest = f.guestAddr !== undefined ? parseIp4(f.guestAddr) : USER_GUEST;
      if (guest === undefined) throw new Error(`hostfwd: guest address ${f.guestAddr} is not IPv4`);
      try {
        this.listeners.push(await this.host.listenTcp(HOST_LOOPBACK, f.hostPort, (accept) => {
          if (this.closed) return;
          const srcPort = FORWARD_PORT_FIRST + (this.nextForwardPort++ % FORWARD_PORT_COUNT);
          this.addConn(guest, f.guestPort, USER_GATEWAY, srcPort, (link) => TcpConn.fromHost(link, accept));
        }));
      } catch (e) {
        throw new Error(`hostfwd=tcp:${HOST_LOOPBACK}:${f.hostPort}-:${f.guestPort}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  // ---- NetBackend ----

  onReceive(cb: (frame: Uint8Array, offload?: RxOffload) => void): void {
    this.deliver = cb;
  }

  setLargeReceive(on: boolean): void {
    this.largeReceive = on;
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (frame.length < 14) {
      this.stats.dropped++;
      return;
    }
    switch (ethType(frame)) {
      case ETHERTYPE_ARP:
        return this.arp(frame);
      case ETHERTYPE_IPV4:
        return this.ipv4(frame);
      default:
        this.stats.dropped++; // IPv6 and the rest: the user network is IPv4 only
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.tcp.values()]) c.abort();
    this.tcp.clear();
    for (const m of this.udp.values()) m.socket.close();
    this.udp.clear();
    for (const l of this.listeners) l.close();
    this.sweep?.cancel();
  }

  // ---- ARP (RFC 826) ----

  private arp(frame: Uint8Array): void {
    const a = parseArp(frame);
    if (!a) {
      this.stats.dropped++;
      return;
    }
    if (a.senderIp === USER_GUEST || a.senderIp === 0) this.guestMac = a.senderMac;
    if (a.op === ARP_OP_REQUEST && (a.targetIp === USER_GATEWAY || a.targetIp === USER_DNS)) {
      this.toGuest(arpFrame(ARP_OP_REPLY, USER_GATEWAY_MAC, a.targetIp, a.senderMac, a.senderIp));
    }
  }

  // ---- IPv4 (RFC 791) ----

  private ipv4(frame: Uint8Array): void {
    const ip = parseIpv4(frame);
    if (typeof ip === 'string') {
      if (ip === 'fragment') this.stats.fragments++;
      this.stats.dropped++;
      return;
    }
    if (ip.src === USER_GUEST) this.guestMac = frame.slice(ETH_SRC, ETH_SRC + 6);
    switch (ip.proto) {
      case IpProto.Icmp:
        return this.icmp(ip);
      case IpProto.Udp:
        return this.udpIn(ip, frame);
      case IpProto.Tcp:
        return this.tcpIn(ip);
      default:
        this.stats.dropped++;
    }
  }

  /** RFC 792: the gateway and the DNS address answer echo requests; nothing else is reachable by ping. */
  private icmp(ip: Ipv4): void {
    const p = ip.payload;
    if (p.length < 8 || p[0] !== ICMP_ECHO_REQUEST || (ip.dst !== USER_GATEWAY && ip.dst !== USER_DNS)) {
      this.stats.dropped++;
      return;
    }
    if (checksum(p, 0, p.length) === 0) this.toGuest(icmpEchoReply(this.guestMac, USER_GATEWAY_MAC, ip.dst, ip.src, p));
    else this.stats.dropped++;
  }

  // ---- UDP: DHCP, DNS and NAT ----

  private udpIn(ip: Ipv4, frame: Uint8Array): void {
    const u = parseUdp(ip);
    if (!u) {
      this.stats.dropped++;
      return;
    }
    if (u.dstPort === DHCP_SERVER_PORT) {
      // A client without an address learns its MAC from the frame (RFC 2131 §4.1 chaddr matches it).
      this.guestMac = frame.slice(ETH_SRC, ETH_SRC + 6);
      const reply = dhcpReply(u.data, {
        server: USER_GATEWAY, client: USER_GUEST, netmask: USER_NETMASK, router: USER_GATEWAY, dns: USER_DNS, leaseSeconds: LEASE_SECONDS,
      });
      // §4.1: replies to a client without an address are broadcast.
      if (reply) this.toGuest(udpFrame(BROADCAST_MAC, USER_GATEWAY_MAC, USER_GATEWAY, DHCP_SERVER_PORT, 0xffff_ffff, DHCP_CLIENT_PORT, reply));
      return;
    }
    if (ip.src !== USER_GUEST) {
      this.stats.dropped++;
      return;
    }
    if (this.restrict) {
      this.stats.restricted++;
      return;
    }
    let target: { host: string; port: number } | undefined;
    const dns = ip.dst === USER_DNS;
    if (dns) target = u.dstPort === DNS_PORT ? this.host.dnsServer() : undefined;
    else target = this.outside(ip.dst, u.dstPort);
    if (!target) {
      this.stats.dropped++;
      return;
    }
    this.udpMapping(u.srcPort, dns).socket.send(u.data.slice(), target.host, target.port);
  }

  private udpMapping(guestPort: number, dns: boolean): UdpMapping {
    const key = `${dns ? 'dns' : 'udp'}:${guestPort}`;
    let m = this.udp.get(key);
    if (!m) {
      const mapping: UdpMapping = {
        guestPort, dns, lastUsed: 0,
        socket: this.host.openUdp((data, host, port) => this.udpOut(mapping, data, host, port)),
      };
      m = mapping;
      this.udp.set(key, m);
      this.sweep ??= this.host.setTimer(UDP_SWEEP_MS, () => this.sweepUdp());
    }
    m.lastUsed = this.host.now();
    return m;
  }

  /** A datagram from the host side: from 10.0.2.3:53 for a DNS mapping, else from the address as the guest sees it. */
  private udpOut(m: UdpMapping, data: Uint8Array, host: string, port: number): void {
    if (this.closed) return;
    let src: Ip4 | undefined;
    let srcPort = port;
    if (m.dns) {
      src = USER_DNS;
      srcPort = DNS_PORT;
    } else {
      src = host === HOST_LOOPBACK ? USER_GATEWAY : parseIp4(host);
    }
    if (src === undefined || data.length > 65507) return;
    m.lastUsed = this.host.now();
    this.toGuest(udpFrame(this.guestMac, USER_GATEWAY_MAC, src, srcPort, USER_GUEST, m.guestPort, data));
  }

  private sweepUdp(): void {
    this.sweep = undefined;
    const now = this.host.now();
    for (const [key, m] of this.udp) {
      if (now - m.lastUsed > (m.dns ? DNS_IDLE_MS : UDP_IDLE_MS)) {
        m.socket.close();
        this.udp.delete(key);
      }
    }
    if (this.udp.size > 0 && !this.closed) this.sweep = this.host.setTimer(UDP_SWEEP_MS, () => this.sweepUdp());
  }

  /** Where a guest packet to dst:port goes on the host: the gateway is the host's loopback; other addresses of
   *  the user network and non-unicast addresses lead nowhere. */
  private outside(dst: Ip4, port: number): { host: string; port: number } | undefined {
    if (dst === USER_GATEWAY) return { host: HOST_LOOPBACK, port };
    if (((dst & USER_NETMASK) >>> 0) === USER_NET) return undefined;
    const first = dst >>> 24;
    if (first === 0 || first === 127 || first >= 224) return undefined;
    return { host: ip4ToString(dst), port };
  }

  // ---- TCP ----

  private tcpIn(ip: Ipv4): void {
    const seg = parseTcp(ip);
    if (!seg) {
      this.stats.dropped++;
      return;
    }
    const conn = this.tcp.get(tcpKey(ip.src, seg.srcPort, ip.dst, seg.dstPort));
    // A new SYN on the ports of a connection that is over starts a new one (the guest reused its port).
    if (conn && !(conn.state === TcpState.Closed && (seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN)) return conn.segment(seg);
    if ((seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) !== TCP_SYN || ip.src !== USER_GUEST) {
      // RFC 9293 §3.10.7.1: no connection: a RST is never answered, anything else gets one.
      if (!(seg.flags & TCP_RST)) this.reset(ip, seg);
      return;
    }
    const target = this.restrict ? undefined : this.outside(ip.dst, seg.dstPort);
    if (!target) {
      if (this.restrict) this.stats.restricted++;
      this.reset(ip, seg);
      return;
    }
    this.addConn(ip.src, seg.srcPort, ip.dst, seg.dstPort, (link) => TcpConn.fromGuestSyn(link, seg, target.host, target.port));
  }

  /** RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> for a segment with ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
  private reset(ip: Ipv4, seg: Tcp): void {
    const len = seg.data.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
    const out = seg.flags & TCP_ACK
      ? { seq: seg.ack, ack: 0, flags: TCP_RST }
      : { seq: 0, ack: (seg.seq + len) >>> 0, flags: TCP_RST | TCP_ACK };
    this.toGuest(tcpFrame(this.guestMac, USER_GATEWAY_MAC, ip.dst, ip.src, { srcPort: seg.dstPort, dstPort: seg.srcPort, window: 0, ...out }));
  }

  /** Make a connection between guest:guestPort and remote:remotePort (the address the guest sees) and keep it
   *  until it reports itself closed. */
  private addConn(guest: Ip4, guestPort: number, remote: Ip4, remotePort: number, make: (link: TcpLink) => TcpConn): void {
    const key = tcpKey(guest, guestPort, remote, remotePort);
    this.tcp.get(key)?.abort();
    let conn: TcpConn | undefined;
    const link: TcpLink = {
      host: this.host,
      emit: (s, gsoMss) => {
        if (this.closed && !(s.flags & TCP_RST)) return;
        // Frames this stack builds carry correct checksums; a segment larger than the MTU says its MSS.
        const offload: RxOffload = gsoMss !== undefined ? { csumValid: true, tcpMss: gsoMss } : { csumValid: true };
        this.toGuest(tcpFrame(this.guestMac, USER_GATEWAY_MAC, remote, guest, { ...s, srcPort: remotePort, dstPort: guestPort }), offload);
      },
      maxSegment: (mss) => (this.largeReceive ? Math.floor(MAX_LARGE_SEGMENT / mss) * mss : mss),
      closed: () => {
        if (conn !== undefined && this.tcp.get(key) === conn) this.tcp.delete(key);
      },
    };
    conn = make(link);
    if (conn.state !== TcpState.Closed) this.tcp.set(key, conn);
  }

  /** Connections open or lingering (for tests). */
  get tcpConnections(): number { return this.tcp.size; }

  private toGuest(frame: Uint8Array, offload?: RxOffload): void {
    this.deliver(frame, offload);
  }
}

function tcpKey(a: Ip4, aPort: number, b: Ip4, bPort: number): string {
  return `${a}:${aPort}>${b}:${bPort}`;
}
