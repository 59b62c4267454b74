// `wasmpc relay`: the page's network. A WebSocket server (RFC 6455, binary messages only) on the loopback
// address; each connection gets its own user-mode NAT (src/net/user.ts, what `-s N,virtio-net,user` uses) and
// carries one Ethernet frame per binary message, both ways. A connection that breaks the protocol (a text or
// fragmented message, an unmasked frame, a frame outside MIN_FRAME..MAX_FRAME) is closed; the others go on.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { LOOPBACK } from '../machine/config';
import { MAX_FRAME, MIN_FRAME } from '../net/backend';
import { UserNet } from '../net/user';
import { NodeNetHost } from './net-host';

const USAGE = `usage: wasmpc relay [--listen ${LOOPBACK}:PORT]

Carry the browser page's virtio-net NIC (?net=ws://${LOOPBACK}:PORT) to a user-mode network: each WebSocket
connection gets its own NAT, as \`wasmpc run -s N,virtio-net,user\` does (DHCP gives 10.0.2.15; 10.0.2.2 reaches
this host's ${LOOPBACK}). Listens on the loopback address only, since nothing authenticates a page. PORT
defaults to 8081.
`;
const DEFAULT_PORT = 8081;

/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key for Sec-WebSocket-Accept. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// RFC 6455 §5.2: byte 0 is FIN, RSV1-3 and the opcode; byte 1 is MASK and a 7-bit length (126: a 16-bit
// length follows, 127: a 64-bit one), then the 4-byte masking key when MASK is set, then the payload.
//   byte 0: F R R R o o o o     byte 1: M l l l l l l l
const WS_FIN = 0b1000_0000;
const WS_RSV = 0b0111_0000;
const WS_OPCODE = 0b0000_1111;
const WS_MASK = 0b1000_0000;
const WS_LEN7 = 0b0111_1111;
const WS_LEN16 = 126;
const WS_LEN64 = 127;
const enum WsOp { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xa }
/** RFC 6455 §7.4.1 status codes. */
const enum WsClose { Normal = 1000, ProtocolError = 1002, Unsupported = 1003, TooBig = 1009 }
/** The largest control frame payload (§5.5). */
const MAX_CONTROL = 125;

export interface Relay {
  /** ws://127.0.0.1:PORT */
  url: string;
  /** Connections open now. */
  connections(): number;
  close(): Promise<void>;
}

export interface RelayOptions {
  log?: (message: string) => void;
}

/** Listen on 127.0.0.1:`port` (0 picks a free port). */
export function startRelay(port: number, opts: RelayOptions = {}): Promise<Relay> {
  const log = opts.log ?? (() => {});
  const open = new Set<RelayConnection>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('wasmpc relay: connect with a WebSocket (the page\'s ?net=ws://...)\n');
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
    // Bytes that came with the request are the first frames.
    if (head.length > 0) socket.unshift(head);
    const conn = new RelayConnection(socket, log, () => open.delete(conn));
    open.add(conn);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.removeListener('error', reject);
      const address = server.address();
      const actual = typeof address === 'object' && address !== null ? address.port : port;
      resolve({
        url: `ws://${LOOPBACK}:${actual}`,
        connections: () => open.size,
        close: async () => {
          await Promise.all([...open].map((c) => c.close(WsClose.Normal)));
          await new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}

/** One page's NIC: a WebSocket and the user-mode network behind it. */
class RelayConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private closed = false;
  private readonly net: UserNet;
  private readonly started: Promise<void>;

  constructor(private readonly socket: Duplex, private readonly log: (message: string) => void, private readonly done: () => void) {
    this.net = new UserNet({ host: new NodeNetHost() });
    this.net.onReceive((frame) => this.sendFrame(WsOp.Binary, frame));
    this.started = this.net.start().catch((e: unknown) => {
      log(`wasmpc relay: the user network did not start: ${e instanceof Error ? e.message : String(e)}`);
      void this.close(WsClose.Unsupported);
    });
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('error', () => void this.close(WsClose.Normal));
    socket.on('close', () => void this.close(WsClose.Normal));
  }

  async close(code: WsClose): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    // RFC 6455 §7.1.1: the server closes the TCP connection first, without waiting for the client's Close.
    if (this.socket.writable) this.socket.end(wsFrame(WsOp.Close, payload), () => this.socket.destroy());
    else this.socket.destroy();
    this.done();
    await this.started;
    await this.net.close();
  }

  private fail(code: WsClose, why: string): void {
    this.log(`wasmpc relay: closing a connection: ${why}`);
    void this.close(code);
  }

  private receive(data: Buffer): void {
    this.buffered = this.buffered.length === 0 ? data : Buffer.concat([this.buffered, data]);
    while (!this.closed) {
      const b = this.buffered;
      if (b.length < 2) return;
      const b0 = b[0]!;
      const b1 = b[1]!;
      const op = b0 & WS_OPCODE;
      if ((b0 & WS_RSV) !== 0) return this.fail(WsClose.ProtocolError, 'a frame with RSV bits set');
      // §5.3: a client masks every frame it sends.
      if ((b1 & WS_MASK) === 0) return this.fail(WsClose.ProtocolError, 'an unmasked frame');
      if ((b0 & WS_FIN) === 0 || op === WsOp.Continuation) return this.fail(WsClose.Unsupported, 'a fragmented message');
      let len = b1 & WS_LEN7;
      let at = 2;
      if (len === WS_LEN16) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === WS_LEN64) {
        if (b.length < 10) return;
        // Anything past 32 bits is far beyond MAX_FRAME.
        len = b.readUInt32BE(2) !== 0 ? Number.MAX_SAFE_INTEGER : b.readUInt32BE(6);
        at = 10;
      }
      if (len > MAX_FRAME) return this.fail(WsClose.TooBig, `a ${len}-byte message (frames are at most ${MAX_FRAME} bytes)`);
      if (b.length < at + 4 + len) return;
      const mask = b.subarray(at, at + 4);
      const payload = new Uint8Array(len);
      for (let i = 0; i < len; i++) payload[i] = b[at + 4 + i]! ^ mask[i & 3]!;
      this.buffered = b.subarray(at + 4 + len);
      switch (op) {
        case WsOp.Binary:
          if (len < MIN_FRAME) return this.fail(WsClose.ProtocolError, `a ${len}-byte frame (an Ethernet header is ${MIN_FRAME})`);
          this.net.send(payload);
          break;
        case WsOp.Ping:
          if (len > MAX_CONTROL) return this.fail(WsClose.ProtocolError, 'an oversized ping');
          this.sendFrame(WsOp.Pong, payload);
          break;
        case WsOp.Pong:
          break;
        case WsOp.Close:
          void this.close(WsClose.Normal);
          return;
        default:
          return this.fail(WsClose.Unsupported, `a message of opcode ${op} (only binary frames are carried)`);
      }
    }
  }

  private sendFrame(op: WsOp, payload: Uint8Array): void {
    if (this.closed || !this.socket.writable) return;
    this.socket.write(wsFrame(op, payload));
  }
}

/** An unmasked frame (servers do not mask, §5.1) with its payload. */
function wsFrame(op: WsOp, payload: Uint8Array): Buffer {
  const len = payload.length;
  const head = len < WS_LEN16 ? 2 : len <= 0xffff ? 4 : 10;
  const out = Buffer.alloc(head + len);
  out[0] = WS_FIN | op;
  if (head === 2) {
    out[1] = len;
  } else if (head === 4) {
    out[1] = WS_LEN16;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = WS_LEN64;
    out.writeUInt32BE(len, 6);
  }
  out.set(payload, head);
  return out;
}

export async function relayMain(argv: string[]): Promise<number> {
  let port = DEFAULT_PORT;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') { process.stdout.write(USAGE); return 0; }
    if (a === '--listen' && i + 1 < argv.length) {
      const v = argv[++i]!;
      const m = /^([^:]+):(\d+)$/.exec(v);
      if (!m) {
        process.stderr.write(`wasmpc relay: --listen ${v}: must be ${LOOPBACK}:PORT\n`);
        return 2;
      }
      if (m[1] !== LOOPBACK && m[1] !== 'localhost') {
        process.stderr.write(`wasmpc relay: --listen ${v}: must be on ${LOOPBACK}, the loopback address: nothing authenticates a page, and the relay opens connections from this host\n`);
        return 2;
      }
      port = Number(m[2]);
      if (port > 65535) {
        process.stderr.write(`wasmpc relay: --listen ${v}: the port must be 0-65535\n`);
        return 2;
      }
      continue;
    }
    process.stderr.write(`wasmpc relay: unknown argument '${a}'\n${USAGE}`);
    return 2;
  }
  let relay: Relay;
  try {
    relay = await startRelay(port, { log: (m) => process.stderr.write(`${m}\n`) });
  } catch (e) {
    process.stderr.write(`wasmpc relay: cannot listen on ${LOOPBACK}:${port} (${(e as NodeJS.ErrnoException).code ?? String(e)})\n`);
    return 2;
  }
  process.stdout.write(`wasmpc: relaying ${relay.url} to a user-mode network; open the page with ?net=${relay.url} (Ctrl-C stops)\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await relay.close();
  return 0;
}
