// What the user-mode network needs from the host it runs on: TCP and UDP sockets, listeners for port forwards,
// the resolver to forward DNS to, and timers. Node implements it with node:net and node:dgram
// (src/node/net-host.ts); a browser would implement it over a relay. The stack itself never touches a socket.

/** Events of one host TCP connection, delivered to the stack. */
export interface TcpStreamEvents {
  /** An outgoing connection was established. */
  onConnect(): void;
  onData(data: Uint8Array): void;
  /** The host peer half-closed its side (sent FIN). */
  onEnd(): void;
  /** The host's send buffer drained below its mark (after write() returned false). */
  onDrain(): void;
  /** The connection is gone; `error` when it failed or was reset rather than closed in order. */
  onClose(error: boolean): void;
}

export interface TcpStream {
  /** Queue bytes to the host peer; false when the host buffer is over its mark (wait for onDrain). */
  write(data: Uint8Array): boolean;
  /** Bytes queued toward the host peer and not yet handed to the OS. */
  readonly buffered: number;
  /** Half-close: FIN to the host peer after what was written. */
  end(): void;
  /** Abort: RST to the host peer where the platform can, and no more events but onClose. */
  destroy(): void;
  /** Stop and restart onData (back-pressure toward the host peer). */
  pause(): void;
  resume(): void;
}

export interface UdpSocket {
  send(data: Uint8Array, host: string, port: number): void;
  close(): void;
}

export interface Listener {
  close(): void;
}

/** An accepted connection, paused until the stack attaches to it. */
export type AcceptedStream = (events: TcpStreamEvents) => TcpStream;

export interface Timer {
  cancel(): void;
}

export interface NetHost {
  /** Connect to host:port (an IPv4 address). Events start with onConnect or onClose(true). */
  connectTcp(host: string, port: number, events: TcpStreamEvents): TcpStream;
  /** Listen on host:port; resolves once listening, rejects with a message naming the cause (EADDRINUSE). */
  listenTcp(host: string, port: number, onAccept: (accept: AcceptedStream) => void): Promise<Listener>;
  /** A UDP socket on an ephemeral port; datagrams from anyone arrive at `onMessage`. */
  openUdp(onMessage: (data: Uint8Array, host: string, port: number) => void): UdpSocket;
  /** The resolver DNS queries go to, or undefined when the host has none. */
  dnsServer(): { host: string; port: number } | undefined;
  setTimer(ms: number, cb: () => void): Timer;
  /** Milliseconds on a monotonic clock. */
  now(): number;
}
