// What a UART's line is connected to on a Node host: the terminal (StdioConsole), a log file (FileConsole), a
// loopback TCP port (TcpConsole), or nothing (NullConsole).
//
// Output: the guest writes one byte at a time (the UART's tx callback); bytes collect in a buffer that is
// flushed once per event-loop turn, so a guest printing a boot log costs one write per turn, not per byte.
// Input goes through the shared InputQueue (src/pc/serial-console.ts), which paces it to the UART.
import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { LOOPBACK, SERIAL_PORTS, serialToString, type SerialBackend, type SerialPortName } from '../machine/config';
import { InputQueue, OutputBuffer, type ConsoleSink, type SerialConsole } from '../pc/serial-console';

export type { ConsoleSink } from '../pc/serial-console';

export interface ConsoleBackend extends SerialConsole {
  /** Flush output and release the file, socket or terminal mode. */
  close(): Promise<void>;
}

/** The parts of process.stdin a console uses (a fake in tests). */
export interface ConsoleInput {
  readonly isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The part of process.stdout a console uses. */
export interface ConsoleOutput {
  write(bytes: Uint8Array): unknown;
}

export interface StdioOptions {
  input?: ConsoleInput;
  output?: ConsoleOutput;
  /** Ctrl-A X on a terminal: the user asks to quit. */
  onQuit: () => void;
  /** Where the terminal mode is restored if the process exits without close() (default: process). */
  exitHook?: Pick<NodeJS.Process, 'on' | 'removeListener'>;
}

const CTRL_A = 0x01;
const ESCAPE_HELP = '\r\nC-a x    quit wasmpc\r\nC-a C-a  send C-a to the guest\r\nC-a h    this help\r\n';

/**
 * The terminal. On a TTY, stdin goes raw (the guest sees Ctrl-C, arrows, tabs) and Ctrl-A starts an escape as
 * in QEMU: X quits, Ctrl-A sends a Ctrl-A, H prints help, anything else is dropped. The mode is restored on
 * close() and on process exit, crashes included. When stdin is not a TTY its bytes pass through unchanged.
 */
export class StdioConsole implements ConsoleBackend {
  private readonly input: ConsoleInput;
  private readonly out: ConsoleOutput;
  private readonly output: OutputBuffer;
  private readonly queue: InputQueue;
  private readonly tty: boolean;
  private readonly exitHook: NonNullable<StdioOptions['exitHook']>;
  private escape = false;
  private closed = false;
  private readonly onData = (chunk: Buffer | string) => this.receive(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  private readonly restoreMode = () => this.input.setRawMode?.(false);

  constructor(private readonly opts: StdioOptions) {
    this.input = opts.input ?? process.stdin;
    const out = opts.output ?? process.stdout;
    this.out = out;
    this.output = new OutputBuffer((bytes) => out.write(bytes), setImmediate);
    this.queue = new InputQueue(() => this.input.pause(), () => this.input.resume());
    this.exitHook = opts.exitHook ?? process;
    this.tty = this.input.isTTY === true && this.input.setRawMode !== undefined;
    if (this.tty) {
      this.input.setRawMode!(true);
      this.exitHook.on('exit', this.restoreMode);
    }
    this.input.on('data', this.onData);
    this.input.resume();
  }

  attach(sink: ConsoleSink, wake: () => void): void { this.queue.attach(sink, wake); }
  write(byte: number): void { this.output.write(byte); }
  pump(): void { this.queue.pump(); }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.output.flush();
    this.queue.close();
    this.input.removeListener('data', this.onData);
    this.input.pause();
    if (this.tty) {
      this.restoreMode();
      this.exitHook.removeListener('exit', this.restoreMode);
    }
  }

  private receive(chunk: Uint8Array): void {
    if (!this.tty) {
      this.queue.push(new Uint8Array(chunk));
      return;
    }
    const pass: number[] = [];
    for (const b of chunk) {
      if (!this.escape) {
        if (b === CTRL_A) this.escape = true;
        else pass.push(b);
        continue;
      }
      this.escape = false;
      if (b === CTRL_A) {
        pass.push(CTRL_A);
      } else if (b === 0x78 || b === 0x58) { // 'x', 'X'
        this.queue.push(Uint8Array.from(pass));
        this.opts.onQuit();
        return;
      } else if (b === 0x68 || b === 0x48 || b === 0x3f) { // 'h', 'H', '?'
        this.output.flush();
        this.out.write(Buffer.from(ESCAPE_HELP));
      }
    }
    this.queue.push(Uint8Array.from(pass));
  }
}

/** Guest output appended to a file; the guest gets no input. Opening fails at once (ENOENT, EACCES). */
export class FileConsole implements ConsoleBackend {
  private readonly fd: number;
  private readonly output: OutputBuffer;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
    this.output = new OutputBuffer((bytes) => writeSync(this.fd, bytes), setImmediate);
  }

  attach(): void {}
  write(byte: number): void { this.output.write(byte); }
  pump(): void {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.output.flush();
    closeSync(this.fd);
  }
}

/** Output kept for a client that has not connected yet: the newest bytes, so it sees the latest prompt. */
export const TCP_BACKLOG_BYTES = 64 * 1024;
/** A client that reads slower than the guest writes loses output beyond this, as a line without flow control. */
export const TCP_CLIENT_BUFFER_BYTES = 1024 * 1024;

/**
 * A raw TCP port on 127.0.0.1 (`nc 127.0.0.1 PORT`; no telnet negotiation). One client at a time: another one
 * is told so and disconnected. Output while no client is connected is kept up to TCP_BACKLOG_BYTES (the newest
 * bytes; older ones are dropped) and sent when a client connects.
 */
export class TcpConsole implements ConsoleBackend {
  private client: Socket | undefined;
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  private readonly output = new OutputBuffer((bytes) => this.send(bytes), setImmediate);
  private readonly queue = new InputQueue(() => this.client?.pause(), () => this.client?.resume());

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listen on 127.0.0.1:`port` (0 picks a free port; see `port`). */
  static listen(port: number): Promise<TcpConsole> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOOPBACK, () => {
        server.removeListener('error', reject);
        resolve(new TcpConsole(server));
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  attach(sink: ConsoleSink, wake: () => void): void { this.queue.attach(sink, wake); }
  write(byte: number): void { this.output.write(byte); }
  pump(): void { this.queue.pump(); }

  async close(): Promise<void> {
    this.output.flush();
    this.queue.close();
    this.client?.destroy();
    this.client = undefined;
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.client) {
      socket.on('error', () => {});
      socket.end('wasmpc: this console already has a client\r\n');
      return;
    }
    this.client = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.queue.push(new Uint8Array(chunk)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.client === socket) this.client = undefined;
    });
    this.output.flush();
    for (const b of this.backlog) socket.write(b);
    this.backlog = [];
    this.backlogBytes = 0;
  }

  private send(bytes: Uint8Array): void {
    const c = this.client;
    if (c) {
      if (c.writableLength < TCP_CLIENT_BUFFER_BYTES) c.write(bytes);
      return;
    }
    this.backlog.push(bytes);
    this.backlogBytes += bytes.length;
    while (this.backlogBytes > TCP_BACKLOG_BYTES) {
      const first = this.backlog[0]!;
      const excess = this.backlogBytes - TCP_BACKLOG_BYTES;
      if (first.length <= excess) {
        this.backlog.shift();
        this.backlogBytes -= first.length;
      } else {
        this.backlog[0] = first.subarray(excess);
        this.backlogBytes -= excess;
      }
    }
  }
}

/** A line to nowhere: output is dropped, no input comes. */
export class NullConsole implements ConsoleBackend {
  attach(): void {}
  write(): void {}
  pump(): void {}
  async close(): Promise<void> {}
}

/** A console that could not be opened; the message is one line for a person. */
export class ConsoleOpenError extends Error {}

export interface ConsoleOptions {
  /** Ctrl-A X on the terminal. */
  onQuit: () => void;
  stdio?: Omit<StdioOptions, 'onQuit'>;
}

/** The console for one port of MachineConfig.serial. */
export async function openConsole(port: SerialPortName, backend: SerialBackend, opts: ConsoleOptions): Promise<ConsoleBackend> {
  const fail = (e: unknown, what: string): never => {
    const code = (e as NodeJS.ErrnoException | undefined)?.code ?? String(e);
    throw new ConsoleOpenError(`wasmpc: ${port},${serialToString(backend)}: ${what} (${code})`);
  };
  switch (backend.kind) {
    case 'stdio':
      return new StdioConsole({ ...opts.stdio, onQuit: opts.onQuit });
    case 'null':
      return new NullConsole();
    case 'file':
      try {
        return new FileConsole(backend.path);
      } catch (e) {
        return fail(e, `cannot open ${backend.path} for appending`);
      }
    case 'tcp':
      try {
        return await TcpConsole.listen(backend.port);
      } catch (e) {
        return fail(e, `cannot listen on ${LOOPBACK}:${backend.port}`);
      }
  }
}

/** Open every port of `serial`; if one fails, those already open are closed before the error is thrown. */
export async function openConsoles(
  serial: Partial<Record<SerialPortName, SerialBackend>>,
  opts: ConsoleOptions,
): Promise<Partial<Record<SerialPortName, ConsoleBackend>>> {
  const opened: Partial<Record<SerialPortName, ConsoleBackend>> = {};
  try {
    for (const port of SERIAL_PORTS) {
      const backend = serial[port];
      if (backend) opened[port] = await openConsole(port, backend, opts);
    }
  } catch (e) {
    await Promise.all(Object.values(opened).map((c) => c.close()));
    throw e;
  }
  return opened;
}
