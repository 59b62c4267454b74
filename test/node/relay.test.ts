// `wasmpc relay` without a browser: a WebSocket client written here (raw RFC 6455 frames over a TCP socket, as
// Node 20 has no WebSocket client) sends an ARP request and gets the user-mode gateway's reply; each connection
// has its own network, and one that breaks the protocol is closed while the others go on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { relayMain, startRelay, type Relay } from '../../src/node/relay';
import { MAX_FRAME } from '../../src/net/backend';
import { USER_GATEWAY, USER_GATEWAY_MAC, USER_GUEST } from '../../src/net/user';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ETHERTYPE_ARP, arpFrame, ethType, parseArp } from '../../src/net/wire';

const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;

interface WsMessage { op: number; payload: Buffer }

/** A WebSocket client: masked frames out, whole messages in, and a promise of the close. */
class TestClient {
  readonly messages: WsMessage[] = [];
  readonly closed: Promise<void>;
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      for (;;) {
        const b = this.buffered;
        if (b.length < 2) break;
        let len = b[1]! & 0x7f;
        let at = 2;
        if (len === 126) { if (b.length < 4) break; len = b.readUInt16BE(2); at = 4; }
        if (b.length < at + len) break;
        this.messages.push({ op: b[0]! & 0x0f, payload: b.subarray(at, at + len) });
        this.buffered = b.subarray(at + len);
        this.waiting?.();
      }
    });
    socket.on('error', () => {});
  }

  static async open(url: string): Promise<TestClient> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    const key = randomBytes(16).toString('base64');
    socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const head = await new Promise<string>((resolve) => {
      let text = '';
      const onData = (d: Buffer) => {
        text += d.toString('latin1');
        if (!text.includes('\r\n\r\n')) return;
        socket.removeListener('data', onData);
        resolve(text);
      };
      socket.on('data', onData);
    });
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    return new TestClient(socket);
  }

  send(op: number, payload: Uint8Array): void {
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | op, 0x80 | len]) : Buffer.from([0x80 | op, 0x80 | 126, len >> 8, len & 0xff]);
    const mask = randomBytes(4);
    const body = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  /** The next message whose op is `op`. */
  async next(op: number): Promise<WsMessage> {
    for (;;) {
      const i = this.messages.findIndex((m) => m.op === op);
      if (i >= 0) return this.messages.splice(i, 1)[0]!;
      await new Promise<void>((resolve) => { this.waiting = resolve; });
    }
  }

  end(): void { this.socket.destroy(); }
}

const arpForGateway = () => arpFrame(ARP_OP_REQUEST, GUEST_MAC, USER_GUEST, new Uint8Array(6), USER_GATEWAY);

describe('wasmpc relay', () => {
  let relay: Relay;
  const clients: TestClient[] = [];
  const client = async () => {
    const c = await TestClient.open(relay.url);
    clients.push(c);
    return c;
  };

  beforeEach(async () => { relay = await startRelay(0); });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end();
    await relay.close();
  });

  it('answers an ARP request for the gateway with its MAC, in one binary message', async () => {
    const c = await client();
    c.send(OP_BINARY, arpForGateway());
    const reply = (await c.next(OP_BINARY)).payload;
    expect(ethType(reply)).toBe(ETHERTYPE_ARP);
    const arp = parseArp(reply)!;
    expect(arp.op).toBe(ARP_OP_REPLY);
    expect(arp.senderIp).toBe(USER_GATEWAY);
    expect([...arp.senderMac]).toEqual([...USER_GATEWAY_MAC]);
    expect([...reply.subarray(0, 6)]).toEqual([...GUEST_MAC]);
  });

  it('closes a connection that sends an oversized message, and only that one', async () => {
    const bad = await client();
    const good = await client();
    expect(relay.connections()).toBe(2);
    bad.send(OP_BINARY, new Uint8Array(MAX_FRAME + 1));
    const close = await bad.next(OP_CLOSE);
    expect(close.payload.readUInt16BE(0)).toBe(1009);
    await bad.closed;
    good.send(OP_BINARY, arpForGateway());
    expect(parseArp((await good.next(OP_BINARY)).payload)?.op).toBe(ARP_OP_REPLY);
    expect(relay.connections()).toBe(1);
  });

  it('closes a connection that sends text or a runt frame', async () => {
    const text = await client();
    text.send(OP_TEXT, new TextEncoder().encode('hello'));
    expect((await text.next(OP_CLOSE)).payload.readUInt16BE(0)).toBe(1003);
    const runt = await client();
    runt.send(OP_BINARY, new Uint8Array(5));
    expect((await runt.next(OP_CLOSE)).payload.readUInt16BE(0)).toBe(1002);
  });

  it('answers a plain HTTP request with 426 Upgrade Required', async () => {
    const { hostname, port } = new URL(relay.url);
    const status = await new Promise<number | undefined>((resolve) => {
      get({ host: hostname, port: Number(port), path: '/' }, (res) => { res.resume(); resolve(res.statusCode); });
    });
    expect(status).toBe(426);
  });

  it('refuses to listen beyond the loopback address', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => { err.push(s); return true; }) as typeof process.stderr.write;
    try {
      expect(await relayMain(['--listen', '0.0.0.0:8081'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toContain('--listen 0.0.0.0:8081: must be on 127.0.0.1, the loopback address');
  });
});
