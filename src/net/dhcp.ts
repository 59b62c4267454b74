// The user-mode network's DHCP server (RFC 2131, options from RFC 2132): one lease, always the same address,
// for the one guest on the segment. DISCOVER gets an OFFER, a REQUEST for our address (or for none) gets an
// ACK, a REQUEST for another gets a NAK, INFORM gets an ACK with the parameters only.
import { type Ip4 } from './wire';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

// The BOOTP message (RFC 2131 §2, figure 1): fixed fields, then the magic cookie and options.
const OP = 0;
const HTYPE = 1;
const HLEN = 2;
const XID = 4;
const FLAGS = 10;
const CIADDR = 12;
const YIADDR = 16;
const SIADDR = 20;
const CHADDR = 28;
const COOKIE = 236;
const OPTIONS = 240;
const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const MAGIC_COOKIE = 0x63825363;
/** Replies are padded to the 300-byte BOOTP minimum (RFC 1542 §2.1), which some clients expect. */
const MIN_REPLY = 300;

/** RFC 2132 option codes. */
const enum Opt {
  Pad = 0,
  SubnetMask = 1,
  Router = 3,
  DnsServer = 6,
  RequestedIp = 50,
  LeaseTime = 51,
  MessageType = 53,
  ServerId = 54,
  End = 255,
}

/** RFC 2132 §9.6: DHCP message types. */
export const enum DhcpType {
  Discover = 1,
  Offer = 2,
  Request = 3,
  Decline = 4,
  Ack = 5,
  Nak = 6,
  Release = 7,
  Inform = 8,
}

export interface DhcpConfig {
  server: Ip4;
  client: Ip4;
  netmask: Ip4;
  router: Ip4;
  dns: Ip4;
  leaseSeconds: number;
}

/** The reply to a client's message (a UDP payload to send from port 67 to 68), or undefined for none. */
export function dhcpReply(msg: Uint8Array, cfg: DhcpConfig): Uint8Array | undefined {
  if (msg.length < OPTIONS) return undefined;
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (v.getUint8(OP) !== BOOTREQUEST || v.getUint32(COOKIE) !== MAGIC_COOKIE) return undefined;
  const opts = readOptions(msg);
  const type = opts.get(Opt.MessageType)?.[0];
  const serverId = ipOption(opts.get(Opt.ServerId));
  switch (type) {
    case DhcpType.Discover:
      return reply(msg, cfg, DhcpType.Offer, cfg.client);
    case DhcpType.Request: {
      // §4.3.2: a REQUEST naming another server means the client chose that one.
      if (serverId !== undefined && serverId !== cfg.server) return undefined;
      const wanted = ipOption(opts.get(Opt.RequestedIp)) ?? (v.getUint32(CIADDR) || undefined);
      if (wanted !== undefined && wanted !== cfg.client) return reply(msg, cfg, DhcpType.Nak, 0);
      return reply(msg, cfg, DhcpType.Ack, cfg.client);
    }
    case DhcpType.Inform:
      // §4.3.5: parameters only, no lease and no yiaddr.
      return reply(msg, cfg, DhcpType.Ack, 0);
    default:
      return undefined; // DECLINE and RELEASE need no answer from a server with one address
  }
}

/** Options as code → value; RFC 3396 concatenation of repeated codes is honoured, overload is not. */
function readOptions(msg: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let i = OPTIONS;
  while (i < msg.length) {
    const code = msg[i]!;
    if (code === Opt.End) break;
    if (code === Opt.Pad) {
      i++;
      continue;
    }
    if (i + 1 >= msg.length) break;
    const len = msg[i + 1]!;
    if (i + 2 + len > msg.length) break;
    const value = msg.subarray(i + 2, i + 2 + len);
    const prev = out.get(code);
    out.set(code, prev ? Uint8Array.from([...prev, ...value]) : value);
    i += 2 + len;
  }
  return out;
}

function ipOption(v: Uint8Array | undefined): Ip4 | undefined {
  if (!v || v.length !== 4) return undefined;
  return ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
}

function reply(req: Uint8Array, cfg: DhcpConfig, type: DhcpType, yiaddr: Ip4): Uint8Array {
  const out = new Uint8Array(MIN_REPLY + 64);
  const v = new DataView(out.buffer);
  const r = new DataView(req.buffer, req.byteOffset, req.byteLength);
  v.setUint8(OP, BOOTREPLY);
  v.setUint8(HTYPE, r.getUint8(HTYPE));
  v.setUint8(HLEN, r.getUint8(HLEN));
  v.setUint32(XID, r.getUint32(XID));
  v.setUint16(FLAGS, r.getUint16(FLAGS));
  if (type === DhcpType.Inform || type === DhcpType.Ack) v.setUint32(CIADDR, r.getUint32(CIADDR));
  v.setUint32(YIADDR, yiaddr);
  v.setUint32(SIADDR, 0);
  out.set(req.subarray(CHADDR, CHADDR + 16), CHADDR);
  v.setUint32(COOKIE, MAGIC_COOKIE);
  let at = OPTIONS;
  const put = (code: number, bytes: number[]) => {
    out[at++] = code;
    out[at++] = bytes.length;
    for (const b of bytes) out[at++] = b;
  };
  const ip = (a: Ip4) => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff];
  put(Opt.MessageType, [type]);
  put(Opt.ServerId, ip(cfg.server));
  if (type !== DhcpType.Nak) {
    // A lease is granted only with an address (§4.3.5: INFORM gets none).
    if (yiaddr !== 0) put(Opt.LeaseTime, ip(cfg.leaseSeconds >>> 0));
    put(Opt.SubnetMask, ip(cfg.netmask));
    put(Opt.Router, ip(cfg.router));
    put(Opt.DnsServer, ip(cfg.dns));
  }
  out[at++] = Opt.End;
  return out.subarray(0, Math.max(MIN_REPLY, at));
}
