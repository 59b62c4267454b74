// The user-mode network's host side in Node (src/net/host.ts): TCP through node:net, UDP through node:dgram,
// DNS to the first IPv4 nameserver of /etc/resolv.conf, timers that do not keep the process alive.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import type { AcceptedStream, Listener, NetHost, TcpStream, TcpStreamEvents, Timer, UdpSocket } from '../net/host';

/** Where Node's resolver configuration lives on Linux; the guest's DNS is forwarded to its first IPv4 entry. */
const RESOLV_CONF = '/etc/resolv.conf';
const DNS_PORT = 53;

export class NodeNetHost implements NetHost {
  private resolver: { host: string; port: number } | undefined | null = null;

  constructor(private readonly resolvConf = RESOLV_CONF) {}

  connectTcp(host: string, port: number, events: TcpStreamEvents): TcpStream {
    const s = connect({ host, port, allowHalfOpen: true });
    s.once('connect', () => events.onConnect());
    return wrap(s, events);
  }

  listenTcp(host: string, port: number, onAccept: (accept: AcceptedStream) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
        onAccept((events) => wrap(s, events));
      });
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${port} (${e.code ?? e.message})`)));
      server.listen(port, host, () => {
        server.unref();
        resolve({ close: () => server.close() });
      });
    });
  }

  openUdp(onMessage: (data: Uint8Array, host: string, port: number) => void): UdpSocket {
    const s = createSocket('udp4');
    let open = true;
    s.on('message', (msg, rinfo) => onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo.address, rinfo.port));
    s.on('error', () => {}); // an ICMP error for one datagram must not end the mapping, let alone the process
    s.bind(0, () => s.unref());
    return {
      send: (data, host, port) => { if (open) s.send(data, port, host, () => {}); },
      close: () => { if (open) { open = false; s.close(); } },
    };
  }

  dnsServer(): { host: string; port: number } | undefined {
    if (this.resolver === null) this.resolver = readResolver(this.resolvConf);
    return this.resolver;
  }

  setTimer(ms: number, cb: () => void): Timer {
    const t = setTimeout(cb, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }

  now(): number {
    return performance.now();
  }
}

/** A node:net socket as a TcpStream, its events forwarded to `events`. */
function wrap(s: Socket, events: TcpStreamEvents): TcpStream {
  s.setNoDelay(true);
  s.on('data', (b: Buffer) => events.onData(new Uint8Array(b.buffer, b.byteOffset, b.length)));
  s.on('end', () => events.onEnd());
  s.on('drain', () => events.onDrain());
  s.on('error', () => {}); // 'close' with hadError follows
  s.on('close', (hadError) => events.onClose(hadError));
  return {
    write: (data) => (s.destroyed ? false : s.write(data)),
    get buffered() { return s.writableLength; },
    end: () => { if (!s.destroyed) s.end(); },
    // Node 16.17+: a RST to the peer rather than a FIN.
    destroy: () => {
      if (s.destroyed) return;
      try {
        s.resetAndDestroy();
      } catch {
        s.destroy();
      }
    },
    pause: () => { s.pause(); },
    resume: () => { s.resume(); },
  };
}

function readResolver(path: string): { host: string; port: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/.exec(line);
    if (m) return { host: m[1]!, port: DNS_PORT };
  }
  return undefined;
}
