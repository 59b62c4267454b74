// The user-mode network driven by hand-built frames, as a guest on 10.0.2.0/24 would send them, with real Node
// sockets on 127.0.0.1 behind it: ARP, DHCP, ping to the gateway, UDP and DNS forwarding, TCP to a host server
// with frames lost on the way, port forwards into the guest, and restrict=on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { NodeNetHost } from '../../src/node/net-host';
import { UserNet, type UserNetOptions } from '../../src/net/user';
import {
  ETHERTYPE_IPV4, IpProto, TCP_ACK, TCP_RST, TCP_SYN, checksum, ethFrame, ethType, ip4, ipv4Frame, L4_AT, parseIpv4,
  parseTcp, parseUdp, tcpFrame, udpFrame, type Ipv4, type Tcp, type TcpOut,
} from '../../src/net/wire';
import { GATEWAY_IP, GATEWAY_MAC, GUEST_IP, GUEST_MAC, GuestTcp, TestGuest } from './guest';

const DNS_IP = ip4(10, 0, 2, 3);

/** A Node host whose "resolver" is a test server on the loopback. */
class TestHost extends NodeNetHost {
  dns: { host: string; port: number } | undefined;
  override dnsServer() { return this.dns; }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));

/** The IPv4 datagrams the guest received, parsed. */
function datagrams(g: TestGuest): Ipv4[] {
  return g.inbox.filter((f) => ethType(f) === ETHERTYPE_IPV4).map((f) => parseIpv4(f)).filter((p): p is Ipv4 => typeof p !== 'string');
}

describe('user-mode network', () => {
  let host: TestHost;
  let net: UserNet;
  let g: TestGuest;
  const servers: Server[] = [];

  async function make(opts: Partial<UserNetOptions> = {}): Promise<void> {
    net = new UserNet({ host, guestMac: GUEST_MAC, ...opts });
    await net.start();
    g = new TestGuest(net);
  }

  beforeEach(async () => {
    host = new TestHost();
    await make();
  });

  /** A host server on the loopback that sends `payload` to each connection and closes; its port. */
  async function serve(payload: Uint8Array): Promise<number> {
    const server = createServer((s) => { s.on('error', () => {}); s.end(payload); });
    servers.push(server);
    return listen(server);
  }

  afterEach(async () => {
    await net.close();
    for (const s of servers.splice(0)) s.close();
  });

  it('computes the Internet checksum of RFC 1071 §3', () => {
    expect(checksum(hex('0001 f203 f4f5 f6f7'), 0, 8)).toBe(0x220d);
    // An odd length is padded with a zero byte: 0x0001 + 0xf203 + 0xf4f5 + 0xf600 folds to 0xdcfb.
    expect(checksum(hex('0001 f203 f4f5 f6'), 0, 7)).toBe(0x2304);
  });

  it('answers ARP for the gateway and the DNS address with its own MAC (RFC 826)', async () => {
    const req = hex(`ffffffffffff 525400123456 0806  0001 0800 06 04 0001  525400123456 0a00020f  000000000000 0a000202`);
    net.send(req);
    net.send(hex(`ffffffffffff 525400123456 0806  0001 0800 06 04 0001  525400123456 0a00020f  000000000000 0a000263`));
    await g.until(() => g.inbox.length >= 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(g.inbox).toHaveLength(1); // nobody is 10.0.2.99
    expect(g.inbox[0]).toEqual(hex(`525400123456 52550a000202 0806  0001 0800 06 04 0002  52550a000202 0a000202  525400123456 0a00020f`));
  });

  describe('DHCP (RFC 2131)', () => {
    function dhcp(type: number, extra = ''): Uint8Array {
      const bootp = new Uint8Array(300);
      bootp.set(hex('01 01 06 00  deadbeef  0000 8000'), 0);
      bootp.set(GUEST_MAC, 28);
      bootp.set(hex(`63825363 35 01 ${type.toString(16).padStart(2, '0')} ${extra} ff`), 236);
      return udpFrame(Uint8Array.of(255, 255, 255, 255, 255, 255), GUEST_MAC, 0, 68, 0xffff_ffff, 67, bootp);
    }
    function options(reply: Uint8Array): Map<number, number[]> {
      const m = new Map<number, number[]>();
      for (let i = 240; i < reply.length && reply[i] !== 255;) {
        if (reply[i] === 0) { i++; continue; }
        m.set(reply[i]!, Array.from(reply.subarray(i + 2, i + 2 + reply[i + 1]!)));
        i += 2 + reply[i + 1]!;
      }
      return m;
    }
    async function exchange(frame: Uint8Array): Promise<{ yiaddr: number[]; xid: number[]; opts: Map<number, number[]> }> {
      const before = g.inbox.length;
      net.send(frame);
      await g.until(() => g.inbox.length > before, 2000, 'a DHCP reply');
      const f = g.inbox[before]!;
      expect(Array.from(f.subarray(0, 6))).toEqual([255, 255, 255, 255, 255, 255]);
      const ip = parseIpv4(f) as Ipv4;
      expect(ip.src).toBe(GATEWAY_IP);
      const u = parseUdp(ip)!;
      expect([u.srcPort, u.dstPort]).toEqual([67, 68]);
      expect(u.data[0]).toBe(2); // BOOTREPLY
      expect(Array.from(u.data.subarray(28, 34))).toEqual(Array.from(GUEST_MAC));
      return { yiaddr: Array.from(u.data.subarray(16, 20)), xid: Array.from(u.data.subarray(4, 8)), opts: options(u.data) };
    }

    it('offers 10.0.2.15/24 with gateway 10.0.2.2 and DNS 10.0.2.3, then acknowledges the request', async () => {
      const offer = await exchange(dhcp(1));
      expect(offer.xid).toEqual([0xde, 0xad, 0xbe, 0xef]);
      expect(offer.yiaddr).toEqual([10, 0, 2, 15]);
      expect(offer.opts.get(53)).toEqual([2]);
      expect(offer.opts.get(54)).toEqual([10, 0, 2, 2]);
      expect(offer.opts.get(1)).toEqual([255, 255, 255, 0]);
      expect(offer.opts.get(3)).toEqual([10, 0, 2, 2]);
      expect(offer.opts.get(6)).toEqual([10, 0, 2, 3]);
      expect(offer.opts.get(51)).toBeDefined();
      const ack = await exchange(dhcp(3, '32 04 0a00020f  36 04 0a000202'));
      expect(ack.opts.get(53)).toEqual([5]);
      expect(ack.yiaddr).toEqual([10, 0, 2, 15]);
    });

    it('refuses a request for another address with a NAK', async () => {
      const nak = await exchange(dhcp(3, '32 04 0a000263'));
      expect(nak.opts.get(53)).toEqual([6]);
      expect(nak.yiaddr).toEqual([0, 0, 0, 0]);
    });
  });

  it('answers a ping to the gateway with the same identifier, sequence and data (RFC 792)', async () => {
    const icmp = hex('08 00 0000 1234 0001 000102030405060708090a0b0c0d0e0f');
    const c = checksum(icmp, 0, icmp.length);
    icmp[2] = c >> 8;
    icmp[3] = c & 0xff;
    const f = ipv4Frame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, GATEWAY_IP, IpProto.Icmp, icmp.length);
    f.set(icmp, L4_AT);
    net.send(f);
    const far = ipv4Frame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, ip4(192, 0, 2, 1), IpProto.Icmp, icmp.length);
    far.set(icmp, L4_AT);
    net.send(far);
    await g.until(() => g.inbox.length >= 1);
    const [reply] = datagrams(g);
    expect(reply!.src).toBe(GATEWAY_IP);
    expect(reply!.dst).toBe(GUEST_IP);
    expect(reply!.payload[0]).toBe(0);
    expect(Array.from(reply!.payload.subarray(4))).toEqual(Array.from(icmp.subarray(4)));
    expect(checksum(reply!.payload, 0, reply!.payload.length)).toBe(0);
    expect(Array.from(g.inbox[0]!.subarray(0, 6))).toEqual(Array.from(GUEST_MAC));
  });

  it('drops IPv4 fragments, bad header checksums and non-IPv4 frames without answering', async () => {
    const udp = udpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, 5000, GATEWAY_IP, 9, new Uint8Array(8));
    const frag = udp.slice();
    frag[14 + 6] = 0x20; // More Fragments
    frag[14 + 10] = frag[14 + 11] = 0;
    const c = checksum(frag, 14, 34);
    frag[14 + 10] = c >> 8;
    frag[14 + 11] = c & 0xff;
    net.send(frag);
    const bad = udp.slice();
    bad[14 + 10] ^= 0xff;
    net.send(bad);
    net.send(ethFrame(GATEWAY_MAC, GUEST_MAC, 0x86dd, 40));
    net.send(new Uint8Array(5));
    expect(net.stats.fragments).toBe(1);
    expect(net.stats.dropped).toBe(4);
  });

  it('forwards UDP to the host loopback through 10.0.2.2 and brings the answer back', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    const port = await new Promise<number>((r) => echo.bind(0, '127.0.0.1', () => r(echo.address().port)));
    try {
      net.send(udpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, 40000, GATEWAY_IP, port, new TextEncoder().encode('hi')));
      await g.until(() => datagrams(g).length > 0, 3000, 'the UDP echo');
      const ip = datagrams(g)[0]!;
      const u = parseUdp(ip)!;
      expect([ip.src, u.srcPort, ip.dst, u.dstPort]).toEqual([GATEWAY_IP, port, GUEST_IP, 40000]);
      expect(new TextDecoder().decode(u.data)).toBe('echo:hi');
    } finally {
      echo.close();
    }
  });

  it('forwards DNS queries to 10.0.2.3 to the host resolver and answers from 10.0.2.3:53', async () => {
    const resolver = createSocket('udp4');
    resolver.on('message', (m, r) => resolver.send(Buffer.concat([m.subarray(0, 2), Buffer.from('answer')]), r.port, r.address));
    const port = await new Promise<number>((r) => resolver.bind(0, '127.0.0.1', () => r(resolver.address().port)));
    host.dns = { host: '127.0.0.1', port };
    try {
      net.send(udpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, 41000, DNS_IP, 53, hex('abcd 0100 0001 0000 0000 0000')));
      await g.until(() => datagrams(g).length > 0, 3000, 'the DNS answer');
      const ip = datagrams(g)[0]!;
      const u = parseUdp(ip)!;
      expect([ip.src, u.srcPort, u.dstPort]).toEqual([DNS_IP, 53, 41000]);
      expect(Array.from(u.data.subarray(0, 2))).toEqual([0xab, 0xcd]);
    } finally {
      resolver.close();
    }
  });

  describe('TCP', () => {
    it('carries 6 MiB from a host server to the guest exactly, with 3% of frames lost each way', async () => {
      const payload = randomBytes(6 << 20);
      const port = await serve(payload);
      g.lossToGuest = 0.03;
      g.lossFromGuest = 0.03;
      const c = new GuestTcp(g, 33000, GATEWAY_IP, port);
      c.connect();
      await g.until(() => c.finReceived, 60_000, 'the whole transfer and the FIN');
      expect(g.lost).toBeGreaterThan(100);
      expect(c.receivedLength).toBe(payload.length);
      expect(createHash('sha256').update(c.received()).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
      c.end();
      await g.until(() => c.allAcked, 5000, 'our FIN acknowledged');
    }, 90_000);

    it('sends segments of up to a 64 KiB datagram, tagged with the MSS, to a NIC that takes large segments', async () => {
      net.setLargeReceive(true);
      const payload = randomBytes(2 << 20);
      const port = await serve(payload);
      const c = new GuestTcp(g, 33001, GATEWAY_IP, port);
      c.connect();
      await g.until(() => c.finReceived, 30_000, 'the whole transfer and the FIN');
      expect(createHash('sha256').update(c.received()).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
      // Ethernet, IPv4 and TCP headers are 54 bytes; an IPv4 datagram is at most 65,535 bytes (RFC 791).
      const data = g.inbox.map((f) => f.length - 54);
      const large = data.filter((n) => n > 1460);
      expect(large.length).toBeGreaterThan(0);
      expect(Math.max(...data)).toBeLessThanOrEqual(65535 - 40);
      g.inbox.forEach((f, i) => {
        const o = g.offloads[i];
        expect(o?.csumValid, `frame ${i}`).toBe(true);
        expect(o?.tcpMss, `frame ${i}`).toBe(f.length - 54 > 1460 ? 1460 : undefined);
      });
      c.end();
      await g.until(() => c.allAcked, 5000, 'our FIN acknowledged');
    }, 60_000);

    it('scales the guest\'s window by its window scale option, and answers the option with shift 0 (RFC 7323 §2)', async () => {
      const payload = randomBytes(300 << 10);
      const port = await serve(payload);
      const send = (s: Omit<TcpOut, 'srcPort' | 'dstPort'>) =>
        net.send(tcpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, GATEWAY_IP, { srcPort: 33010, dstPort: port, ...s }));
      const segments = () => datagrams(g).filter((ip) => ip.proto === IpProto.Tcp).map((ip) => parseTcp(ip)).filter((t): t is Tcp => t !== undefined);
      const dataSent = () => segments().reduce((n, t) => n + t.data.length, 0);
      send({ seq: 100, ack: 0, flags: TCP_SYN, window: 1000, mss: 1460, wscale: 4 });
      await g.until(() => segments().some((t) => (t.flags & TCP_SYN) !== 0), 5000, 'SYN-ACK');
      const synAck = segments().find((t) => (t.flags & TCP_SYN) !== 0)!;
      expect(synAck.wscale).toBe(0);
      // Window field 0x1000 in units of 2^4: 65,536 bytes, one more than an unscaled window can say.
      send({ seq: 101, ack: (synAck.seq + 1) >>> 0, flags: TCP_ACK, window: 0x1000 });
      await g.until(() => dataSent() >= 65536, 5000, 'a scaled window of data');
      await new Promise((r) => setTimeout(r, 100));
      expect(dataSent()).toBe(65536);
    });

    it('carries data from the guest to a host server, half-closes, and takes the server\'s answer after it', async () => {
      const upload = randomBytes(512 << 10);
      const got: Buffer[] = [];
      const server = createServer({ allowHalfOpen: true }, (s) => {
        s.on('data', (d) => got.push(d));
        s.on('end', () => s.end(`got ${Buffer.concat(got).length}`));
      });
      servers.push(server);
      const port = await listen(server);
      g.lossFromGuest = 0.02;
      const c = new GuestTcp(g, 33001, GATEWAY_IP, port);
      c.connect();
      c.write(upload);
      c.end();
      await g.until(() => c.finReceived, 30_000, 'the server\'s answer and FIN');
      expect(Buffer.concat(got).equals(upload)).toBe(true);
      expect(new TextDecoder().decode(c.received())).toBe(`got ${upload.length}`);
    }, 60_000);

    it('waits on a zero window, probing it, and sends everything once the guest opens it', async () => {
      const payload = randomBytes(200 << 10);
      const port = await serve(payload);
      const c = new GuestTcp(g, 33006, GATEWAY_IP, port);
      c.window = 0;
      c.connect();
      await g.until(() => c.state === 'established', 5000, 'established');
      // RFC 9293 §3.8.6.1: the sender keeps probing the closed window rather than giving up.
      await g.until(() => c.segments.some((s) => s.data.length > 0), 5000, 'a window probe');
      expect(c.receivedLength).toBe(0);
      c.openWindow();
      await g.until(() => c.finReceived, 20_000, 'the transfer after the window opened');
      expect(Buffer.from(c.received()).equals(payload)).toBe(true);
    });

    it('refuses a connection to a closed port with RST', async () => {
      const port = await freePort();
      const c = new GuestTcp(g, 33002, GATEWAY_IP, port);
      c.connect();
      await g.until(() => c.rstReceived, 5000, 'RST');
      expect(c.segments.at(-1)!.flags & (TCP_RST | TCP_ACK)).toBe(TCP_RST | TCP_ACK);
    });

    it('passes a host reset on to the guest', async () => {
      let sock: Socket | undefined;
      const server = createServer((s) => { sock = s; s.write('x'); });
      servers.push(server);
      const port = await listen(server);
      const c = new GuestTcp(g, 33003, GATEWAY_IP, port);
      c.connect();
      await g.until(() => c.receivedLength === 1, 5000, 'the first byte');
      sock!.resetAndDestroy();
      await g.until(() => c.rstReceived, 5000, 'RST');
    });

    it('passes a guest reset on to the host', async () => {
      let closed: boolean | undefined;
      const server = createServer((s) => { s.on('error', () => {}); s.on('close', (err) => { closed = err; }); });
      servers.push(server);
      const port = await listen(server);
      const c = new GuestTcp(g, 33004, GATEWAY_IP, port);
      c.connect();
      await g.until(() => c.state === 'established', 5000, 'established');
      await new Promise((r) => setTimeout(r, 20));
      c.reset();
      await g.until(() => closed !== undefined, 5000, 'the host socket closed');
      expect(closed).toBe(true);
    });

    it('answers a segment for no connection with RST', async () => {
      net.send(tcpSegment(33005, 80, 1000, 5000, TCP_ACK));
      await g.until(() => g.inbox.length > 0);
      const ip = datagrams(g)[0]!;
      expect(ip.payload[13]! & TCP_RST).toBe(TCP_RST);
    });
  });

  describe('port forwards', () => {
    it('listens on the host port and connects into the guest, both directions and both FINs', async () => {
      await net.close();
      const hostPort = await freePort();
      await make({ hostfwd: [{ hostPort, guestPort: 7777 }] });
      let conn: GuestTcp | undefined;
      g.onSyn = (syn, src) => {
        expect(syn.dstPort).toBe(7777);
        expect(src).toBe(GATEWAY_IP);
        conn = new GuestTcp(g, 7777, src, syn.srcPort);
        conn.accept(syn);
      };
      const s = connect(hostPort, '127.0.0.1');
      const got: Buffer[] = [];
      let ended = false;
      s.on('data', (d) => got.push(d));
      s.on('end', () => { ended = true; s.end(); });
      await new Promise((r) => s.once('connect', r));
      s.write('hello from the host');
      await g.until(() => conn !== undefined && conn.receivedLength === 19, 5000, 'the host\'s bytes in the guest');
      expect(new TextDecoder().decode(conn!.received())).toBe('hello from the host');
      conn!.write(new TextEncoder().encode('hello from the guest'));
      conn!.end();
      await g.until(() => ended, 5000, 'the guest\'s FIN at the host');
      expect(Buffer.concat(got).toString()).toBe('hello from the guest');
      await g.until(() => conn!.finReceived, 5000, 'the host\'s FIN in the guest');
    });

    it('fails to start when the host port is taken, naming it', async () => {
      const server = createServer();
      servers.push(server);
      const hostPort = await listen(server);
      const other = new UserNet({ host, hostfwd: [{ hostPort, guestPort: 22 }] });
      await expect(other.start()).rejects.toThrow(new RegExp(`hostfwd=tcp:127.0.0.1:${hostPort}-:22: cannot listen .*EADDRINUSE`));
      await other.close();
    });
  });

  describe('restrict=on', () => {
    it('refuses TCP and drops UDP and DNS out of the guest, but still serves ping and port forwards', async () => {
      await net.close();
      const hostPort = await freePort();
      await make({ restrict: true, hostfwd: [{ hostPort, guestPort: 7778 }] });
      let reached = false;
      const server = createServer(() => { reached = true; });
      servers.push(server);
      const port = await listen(server);
      const c = new GuestTcp(g, 33010, GATEWAY_IP, port);
      c.connect();
      await g.until(() => c.rstReceived, 5000, 'RST');
      net.send(udpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, 40001, GATEWAY_IP, port, new Uint8Array(4)));
      net.send(udpFrame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, 40002, DNS_IP, 53, new Uint8Array(12)));
      expect(net.stats.restricted).toBe(3);
      expect(reached).toBe(false);
      let syn = false;
      g.onSyn = (seg) => { syn = seg.dstPort === 7778; };
      const s = connect(hostPort, '127.0.0.1');
      s.on('error', () => {});
      await g.until(() => syn, 5000, 'the forwarded SYN');
      s.destroy();
    });
  });
});

function tcpSegment(srcPort: number, dstPort: number, seq: number, ack: number, flags: number): Uint8Array {
  const f = ipv4Frame(GATEWAY_MAC, GUEST_MAC, GUEST_IP, GATEWAY_IP, IpProto.Tcp, 20);
  const v = new DataView(f.buffer, L4_AT);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint32(4, seq);
  v.setUint32(8, ack);
  v.setUint8(12, 5 << 4);
  v.setUint8(13, flags);
  v.setUint16(14, 1000);
  const pseudo = new Uint8Array(12 + 20);
  const p = new DataView(pseudo.buffer);
  p.setUint32(0, GUEST_IP);
  p.setUint32(4, GATEWAY_IP);
  p.setUint16(8, IpProto.Tcp);
  p.setUint16(10, 20);
  pseudo.set(f.subarray(L4_AT), 12);
  v.setUint16(16, checksum(pseudo, 0, pseudo.length));
  return f;
}


