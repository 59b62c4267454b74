// Wire formats the user-mode network reads and writes: Ethernet II, ARP, IPv4, ICMP, UDP and TCP headers, and
// the Internet checksum. Parsers check every length against the bytes present and return undefined for what
// they cannot use; nothing here throws on a frame's contents.

/** An IPv4 address as an unsigned 32-bit number (10.0.2.15 = 0x0a00020f). */
export type Ip4 = number;

// Ethernet II (IEEE 802.3 clause 3.2): destination, source, EtherType.
export const ETH_HEADER = 14;
export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

// ARP for IPv4 over Ethernet (RFC 826): htype, ptype, hlen, plen, oper, sha, spa, tha, tpa.
export const ARP_SIZE = 28;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
const ARP_HTYPE_ETHERNET = 1;

// IPv4 header (RFC 791 §3.1).
export const IPV4_HEADER = 20;
const IP_VERSION_IHL = 0;
const IP_TOTAL_LENGTH = 2;
const IP_ID = 4;
const IP_FLAGS_FRAGMENT = 6;
const IP_TTL = 8;
const IP_PROTOCOL = 9;
const IP_CHECKSUM = 10;
const IP_SRC = 12;
const IP_DST = 16;
/** RFC 791: More Fragments, and the 13-bit fragment offset. */
const IP_MF = 0x2000;
const IP_OFFSET_MASK = 0x1fff;
const IP_DF = 0x4000;
const DEFAULT_TTL = 64;

export const enum IpProto {
  Icmp = 1,
  Tcp = 6,
  Udp = 17,
}

// ICMP (RFC 792): type, code, checksum, then identifier and sequence for echo.
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_HEADER = 8;

// UDP (RFC 768): source port, destination port, length, checksum.
export const UDP_HEADER = 8;

// TCP (RFC 9293 §3.1): ports, sequence, acknowledgment, data offset and flags, window, checksum, urgent.
export const TCP_HEADER = 20;
export const TCP_FIN = 0b00_0001;
export const TCP_SYN = 0b00_0010;
export const TCP_RST = 0b00_0100;
export const TCP_PSH = 0b00_1000;
export const TCP_ACK = 0b01_0000;
/** RFC 9293 §3.2: option kinds. */
const TCPOPT_END = 0;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOPT_WSCALE = 3;

export function ip4(a: number, b: number, c: number, d: number): Ip4 {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function ip4ToString(a: Ip4): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** A dotted quad, or undefined. */
export function parseIp4(s: string): Ip4 | undefined {
  const p = s.split('.');
  if (p.length !== 4 || !p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) return undefined;
  return ip4(Number(p[0]), Number(p[1]), Number(p[2]), Number(p[3]));
}

export function macToString(m: Uint8Array): string {
  return Array.from(m, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(s: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s)) return undefined;
  return Uint8Array.from(s.split(':'), (b) => parseInt(b, 16));
}

export function sameMac(a: Uint8Array, aAt: number, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[aAt + i] !== b[i]) return false;
  return true;
}

/** The one's-complement sum of 16-bit big-endian words (RFC 1071), not yet complemented. */
export function onesSum(data: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < end) sum += data[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071: the Internet checksum of data[start, end). */
export function checksum(data: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesSum(data, start, end, initial) & 0xffff;
}

/** RFC 768 / RFC 9293 §3.1: the sum of the pseudo-header (source, destination, zero, protocol, length). */
export function pseudoHeaderSum(src: Ip4, dst: Ip4, proto: number, length: number): number {
  let s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + length;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

// ---- Ethernet ----

/** A frame of `payload` bytes after a header to `dst` from `src` with `type`; the payload is filled by the caller. */
export function ethFrame(dst: Uint8Array, src: Uint8Array, type: number, payload: number): Uint8Array {
  const f = new Uint8Array(ETH_HEADER + payload);
  f.set(dst, ETH_DST);
  f.set(src, ETH_SRC);
  f[ETH_TYPE] = type >> 8;
  f[ETH_TYPE + 1] = type & 0xff;
  return f;
}

export function ethType(f: Uint8Array): number {
  return (f[ETH_TYPE]! << 8) | f[ETH_TYPE + 1]!;
}

// ---- ARP ----

export interface Arp {
  op: number;
  senderMac: Uint8Array;
  senderIp: Ip4;
  targetIp: Ip4;
}

export function parseArp(f: Uint8Array): Arp | undefined {
  if (f.length < ETH_HEADER + ARP_SIZE) return undefined;
  const v = view(f, ETH_HEADER);
  if (v.getUint16(0) !== ARP_HTYPE_ETHERNET || v.getUint16(2) !== ETHERTYPE_IPV4 || v.getUint8(4) !== 6 || v.getUint8(5) !== 4) {
    return undefined;
  }
  return { op: v.getUint16(6), senderMac: f.slice(ETH_HEADER + 8, ETH_HEADER + 14), senderIp: v.getUint32(14), targetIp: v.getUint32(24) };
}

export function arpFrame(op: number, srcMac: Uint8Array, srcIp: Ip4, dstMac: Uint8Array, dstIp: Ip4): Uint8Array {
  const f = ethFrame(op === ARP_OP_REQUEST ? BROADCAST_MAC : dstMac, srcMac, ETHERTYPE_ARP, ARP_SIZE);
  const v = view(f, ETH_HEADER);
  v.setUint16(0, ARP_HTYPE_ETHERNET);
  v.setUint16(2, ETHERTYPE_IPV4);
  v.setUint8(4, 6);
  v.setUint8(5, 4);
  v.setUint16(6, op);
  f.set(srcMac, ETH_HEADER + 8);
  v.setUint32(14, srcIp);
  if (op === ARP_OP_REPLY) f.set(dstMac, ETH_HEADER + 18);
  v.setUint32(24, dstIp);
  return f;
}

// ---- IPv4 ----

export interface Ipv4 {
  src: Ip4;
  dst: Ip4;
  proto: number;
  ttl: number;
  /** The datagram's payload (a view into the frame). */
  payload: Uint8Array;
}

/** Why a frame's IPv4 datagram is not taken. */
export type Ipv4Reject = 'short' | 'version' | 'checksum' | 'fragment';

/** The IPv4 datagram in `f`, checked (RFC 791, RFC 1122 §3.2.1); fragments are refused, not reassembled. */
export function parseIpv4(f: Uint8Array): Ipv4 | Ipv4Reject {
  if (f.length < ETH_HEADER + IPV4_HEADER) return 'short';
  const v = view(f, ETH_HEADER);
  const vihl = v.getUint8(IP_VERSION_IHL);
  const ihl = (vihl & 0xf) * 4;
  if (vihl >> 4 !== 4 || ihl < IPV4_HEADER) return 'version';
  const total = v.getUint16(IP_TOTAL_LENGTH);
  // Ethernet pads short frames, so the datagram may end before the frame does, never after.
  if (total < ihl || ETH_HEADER + total > f.length) return 'short';
  if (checksum(f, ETH_HEADER, ETH_HEADER + ihl) !== 0) return 'checksum';
  const frag = v.getUint16(IP_FLAGS_FRAGMENT);
  if (frag & (IP_MF | IP_OFFSET_MASK)) return 'fragment';
  return {
    src: v.getUint32(IP_SRC), dst: v.getUint32(IP_DST), proto: v.getUint8(IP_PROTOCOL), ttl: v.getUint8(IP_TTL),
    payload: f.subarray(ETH_HEADER + ihl, ETH_HEADER + total),
  };
}

/** A frame carrying an IPv4 datagram of `l4` bytes; the caller writes the payload at ETH_HEADER + IPV4_HEADER. */
export function ipv4Frame(dstMac: Uint8Array, srcMac: Uint8Array, src: Ip4, dst: Ip4, proto: number, l4: number): Uint8Array {
  const f = ethFrame(dstMac, srcMac, ETHERTYPE_IPV4, IPV4_HEADER + l4);
  const v = view(f, ETH_HEADER);
  v.setUint8(IP_VERSION_IHL, 0x45);
  v.setUint16(IP_TOTAL_LENGTH, IPV4_HEADER + l4);
  // RFC 6864 §4.1: an atomic datagram (DF set, never fragmented) may carry any Identification; 0 here.
  v.setUint16(IP_ID, 0);
  v.setUint16(IP_FLAGS_FRAGMENT, IP_DF);
  v.setUint8(IP_TTL, DEFAULT_TTL);
  v.setUint8(IP_PROTOCOL, proto);
  v.setUint32(IP_SRC, src);
  v.setUint32(IP_DST, dst);
  v.setUint16(IP_CHECKSUM, checksum(f, ETH_HEADER, ETH_HEADER + IPV4_HEADER));
  return f;
}

/** Where a frame built by ipv4Frame() carries its payload. */
export const L4_AT = ETH_HEADER + IPV4_HEADER;

// ---- UDP ----

export interface Udp {
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

/** RFC 768: the datagram, with its checksum checked when the sender computed one (non-zero). */
export function parseUdp(ip: Ipv4): Udp | undefined {
  const p = ip.payload;
  if (p.length < UDP_HEADER) return undefined;
  const v = view(p, 0);
  const len = v.getUint16(4);
  if (len < UDP_HEADER || len > p.length) return undefined;
  if (v.getUint16(6) !== 0 && checksum(p, 0, len, pseudoHeaderSum(ip.src, ip.dst, IpProto.Udp, len)) !== 0) return undefined;
  return { srcPort: v.getUint16(0), dstPort: v.getUint16(2), data: p.subarray(UDP_HEADER, len) };
}

export function udpFrame(dstMac: Uint8Array, srcMac: Uint8Array, src: Ip4, srcPort: number, dst: Ip4, dstPort: number, data: Uint8Array): Uint8Array {
  const len = UDP_HEADER + data.length;
  const f = ipv4Frame(dstMac, srcMac, src, dst, IpProto.Udp, len);
  const v = view(f, L4_AT);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, len);
  f.set(data, L4_AT + UDP_HEADER);
  // RFC 768: a computed checksum of zero is sent as all ones.
  v.setUint16(6, checksum(f, L4_AT, L4_AT + len, pseudoHeaderSum(src, dst, IpProto.Udp, len)) || 0xffff);
  return f;
}

// ---- TCP ----

export interface Tcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The MSS option of a SYN, if present. */
  mss: number | undefined;
  /** The window scale option's shift count (RFC 7323 §2.2), on a SYN. */
  wscale?: number;
  data: Uint8Array;
}

/** RFC 9293 §3.1: the segment, with its checksum and data offset checked. */
export function parseTcp(ip: Ipv4): Tcp | undefined {
  const p = ip.payload;
  if (p.length < TCP_HEADER) return undefined;
  if (checksum(p, 0, p.length, pseudoHeaderSum(ip.src, ip.dst, IpProto.Tcp, p.length)) !== 0) return undefined;
  const v = view(p, 0);
  const off = (v.getUint8(12) >> 4) * 4;
  if (off < TCP_HEADER || off > p.length) return undefined;
  const flags = v.getUint8(13) & 0x3f;
  let mss: number | undefined;
  let wscale: number | undefined;
  for (let i = TCP_HEADER; i < off;) {
    const kind = p[i]!;
    if (kind === TCPOPT_END) break;
    if (kind === TCPOPT_NOP) { i++; continue; }
    const len = i + 1 < off ? p[i + 1]! : 0;
    if (len < 2 || i + len > off) break;
    if (kind === TCPOPT_MSS && len === 4) mss = (p[i + 2]! << 8) | p[i + 3]!;
    if (kind === TCPOPT_WSCALE && len === 3) wscale = p[i + 2]!;
    i += len;
  }
  return {
    srcPort: v.getUint16(0), dstPort: v.getUint16(2), seq: v.getUint32(4), ack: v.getUint32(8), flags,
    window: v.getUint16(14), mss, ...(wscale !== undefined ? { wscale } : {}), data: p.subarray(off),
  };
}

export interface TcpOut {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Sent as an MSS option (on a SYN). */
  mss?: number;
  /** Sent as a window scale option, after a NOP (on a SYN; RFC 7323 §2.2). */
  wscale?: number;
  data?: Uint8Array;
}

export function tcpFrame(dstMac: Uint8Array, srcMac: Uint8Array, src: Ip4, dst: Ip4, s: TcpOut): Uint8Array {
  const opts = (s.mss !== undefined ? 4 : 0) + (s.wscale !== undefined ? 4 : 0);
  const data = s.data ?? new Uint8Array(0);
  const len = TCP_HEADER + opts + data.length;
  const f = ipv4Frame(dstMac, srcMac, src, dst, IpProto.Tcp, len);
  const v = view(f, L4_AT);
  v.setUint16(0, s.srcPort);
  v.setUint16(2, s.dstPort);
  v.setUint32(4, s.seq >>> 0);
  v.setUint32(8, s.ack >>> 0);
  v.setUint8(12, ((TCP_HEADER + opts) / 4) << 4);
  v.setUint8(13, s.flags);
  v.setUint16(14, Math.max(0, Math.min(0xffff, s.window)));
  let o = TCP_HEADER;
  if (s.mss !== undefined) {
    v.setUint8(o, TCPOPT_MSS);
    v.setUint8(o + 1, 4);
    v.setUint16(o + 2, s.mss);
    o += 4;
  }
  if (s.wscale !== undefined) {
    v.setUint8(o, TCPOPT_NOP);
    v.setUint8(o + 1, TCPOPT_WSCALE);
    v.setUint8(o + 2, 3);
    v.setUint8(o + 3, s.wscale);
  }
  f.set(data, L4_AT + TCP_HEADER + opts);
  v.setUint16(16, checksum(f, L4_AT, L4_AT + len, pseudoHeaderSum(src, dst, IpProto.Tcp, len)));
  return f;
}

// ---- ICMP ----

/** RFC 792: an echo request's identifier, sequence and data come back unchanged in the reply. */
export function icmpEchoReply(dstMac: Uint8Array, srcMac: Uint8Array, src: Ip4, dst: Ip4, request: Uint8Array): Uint8Array {
  const f = ipv4Frame(dstMac, srcMac, src, dst, IpProto.Icmp, request.length);
  f.set(request, L4_AT);
  f[L4_AT] = ICMP_ECHO_REPLY;
  f[L4_AT + 1] = 0;
  f[L4_AT + 2] = f[L4_AT + 3] = 0;
  const c = checksum(f, L4_AT, f.length);
  f[L4_AT + 2] = c >> 8;
  f[L4_AT + 3] = c & 0xff;
  return f;
}

function view(a: Uint8Array, at: number): DataView {
  return new DataView(a.buffer, a.byteOffset + at, a.byteLength - at);
}
