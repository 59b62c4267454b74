// The `socket` network backend: Ethernet frames over one TCP connection on the loopback, each behind a 4-byte
// big-endian length, as QEMU's `-netdev socket,listen=/connect=` frames them. Two wasmpc processes (or wasmpc
// and QEMU) then share one Ethernet segment. The listening side takes one peer at a time; the connecting side
// retries until a listener answers, so the two can start in either order. While no peer is connected the cable
// is unplugged: frames are dropped.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { NetBackend } from '../net/backend';

const LENGTH_PREFIX = 4;
/** The largest frame accepted from a peer; a larger length means the stream is not this protocol. */
const MAX_FRAME = 65535 + 18;
const MIN_FRAME = 14;
/** Bytes queued toward a slow peer beyond which frames are dropped, as a switch drops on a full port. */
const MAX_QUEUED = 1 << 20;
const RETRY_MS = 1000;

export interface SocketBackendOptions {
  mode: 'listen' | 'connect';
  host: string;
  port: number;
  /** Notes for a person (a peer connected, went away, sent garbage). */
  log?: (message: string) => void;
}

export class SocketNetBackend implements NetBackend {
  private peer: Socket | undefined;
  private server: Server | undefined;
  private deliver: (frame: Uint8Array) => void = () => {};
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Frames dropped because no peer was connected or it was not reading. */
  dropped = 0;

  private constructor(private readonly opts: SocketBackendOptions) {}

  /** Listen (resolves once listening) or start connecting (resolves at once; connects in the background). */
  static async open(opts: SocketBackendOptions): Promise<SocketNetBackend> {
    const b = new SocketNetBackend(opts);
    if (opts.mode === 'listen') await b.listen();
    else b.connect();
    return b;
  }

  /** Whether a peer is connected. */
  get connected(): boolean { return this.peer !== undefined; }

  onReceive(cb: (frame: Uint8Array) => void): void {
    this.deliver = cb;
  }

  send(frame: Uint8Array): void {
    const p = this.peer;
    if (!p || p.writableLength > MAX_QUEUED) {
      this.dropped++;
      return;
    }
    const out = Buffer.allocUnsafe(LENGTH_PREFIX + frame.length);
    out.writeUInt32BE(frame.length, 0);
    out.set(frame, LENGTH_PREFIX);
    p.write(out);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.peer?.destroy();
    this.peer = undefined;
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(): Promise<void> {
    const { host, port } = this.opts;
    return new Promise((resolve, reject) => {
      const server = createServer((s) => {
        if (this.peer || this.closed) {
          this.opts.log?.(`socket ${host}:${port}: refused a second peer (one at a time)`);
          s.destroy();
          return;
        }
        this.attach(s);
      });
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${port} (${e.code ?? e.message})`)));
      server.listen(port, host, () => {
        server.unref();
        this.server = server;
        resolve();
      });
    });
  }

  private connect(): void {
    if (this.closed) return;
    const { host, port } = this.opts;
    const s = connect({ host, port });
    let up = false;
    s.once('connect', () => {
      up = true;
      this.attach(s);
    });
    s.once('error', () => {});
    s.once('close', () => {
      if (!up && !this.closed) {
        this.retry = setTimeout(() => this.connect(), RETRY_MS);
        this.retry.unref();
      }
    });
  }

  /** Read length-prefixed frames from the peer until it goes away. */
  private attach(s: Socket): void {
    this.peer = s;
    s.setNoDelay(true);
    this.opts.log?.(`socket ${this.opts.host}:${this.opts.port}: peer connected`);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= LENGTH_PREFIX) {
        const len = buf.readUInt32BE(0);
        if (len < MIN_FRAME || len > MAX_FRAME) {
          this.opts.log?.(`socket ${this.opts.host}:${this.opts.port}: peer sent a ${len}-byte frame; disconnecting it`);
          s.destroy();
          return;
        }
        if (buf.length < LENGTH_PREFIX + len) break;
        const frame = new Uint8Array(buf.subarray(LENGTH_PREFIX, LENGTH_PREFIX + len));
        buf = buf.subarray(LENGTH_PREFIX + len);
        if (!this.closed) this.deliver(frame);
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (this.peer === s) this.peer = undefined;
      if (this.closed) return;
      this.opts.log?.(`socket ${this.opts.host}:${this.opts.port}: peer went away`);
      // The connecting side dials again; the listening side waits for the next peer.
      if (this.opts.mode === 'connect') this.connect();
    });
  }
}
