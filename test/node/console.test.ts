// Console backends with a fake UART sink: input is handed over only as the sink has room, in order; output is
// written once per event-loop turn; the terminal escape keys; a log file; a loopback TCP port.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConsoleOpenError, FileConsole, NullConsole, StdioConsole, TCP_BACKLOG_BYTES, TcpConsole, openConsole, openConsoles,
  type ConsoleInput, type ConsoleSink,
} from '../../src/node/console';
import { Uart16550, UartReg } from '../../src/devices/uart16550';

/** A UART receiver that holds `capacity` bytes until the "guest" reads them with drain(). */
class FakeSink implements ConsoleSink {
  held: number[] = [];
  got: number[] = [];
  constructor(private readonly capacity: number) {}
  rxSpace(): number { return this.capacity - this.held.length; }
  receive(bytes: Uint8Array): void {
    expect(bytes.length).toBeLessThanOrEqual(this.rxSpace());
    this.held.push(...bytes);
  }
  drain(): void {
    this.got.push(...this.held);
    this.held = [];
  }
  text(): string { return String.fromCharCode(...this.got, ...this.held); }
}

/** process.stdin as a console sees it; `tty` makes it a terminal with setRawMode. */
class FakeInput extends EventEmitter implements ConsoleInput {
  rawModes: boolean[] = [];
  pauses = 0;
  resumes = 0;
  readonly isTTY: boolean;
  readonly setRawMode?: (raw: boolean) => void;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
    if (tty) this.setRawMode = (raw: boolean) => { this.rawModes.push(raw); };
  }
  pause(): void { this.pauses++; }
  resume(): void { this.resumes++; }
  type(text: string | number[]): void { this.emit('data', Buffer.from(typeof text === 'string' ? text : Uint8Array.from(text))); }
}

class FakeOutput {
  writes: Uint8Array[] = [];
  write(bytes: Uint8Array): void { this.writes.push(bytes); }
  text(): string { return this.writes.map((w) => Buffer.from(w).toString('latin1')).join(''); }
}

const CTRL_A = 0x01;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function stdio(tty: boolean) {
  const input = new FakeInput(tty);
  const output = new FakeOutput();
  const exitHook = new EventEmitter();
  const onQuit = vi.fn();
  const con = new StdioConsole({ input, output, onQuit, exitHook: exitHook as unknown as Pick<NodeJS.Process, 'on' | 'removeListener'> });
  return { input, output, exitHook, onQuit, con };
}

describe('console input', () => {
  it('gives a sink that takes 2 bytes at a time everything in order, one wake per handover', async () => {
    const { input, con } = stdio(false);
    const sink = new FakeSink(2);
    const wake = vi.fn();
    input.type('hello, ');
    con.attach(sink, wake);
    input.type('world');
    expect(sink.held).toEqual([...Buffer.from('he')]);
    for (let i = 0; i < 20 && sink.text().length < 12; i++) {
      sink.drain();
      con.pump();
    }
    expect(sink.text()).toBe('hello, world');
    expect(wake).toHaveBeenCalledTimes(6);
    con.pump();
    expect(wake).toHaveBeenCalledTimes(6);
    await con.close();
  });

  it('offers waiting input again by itself when the guest has read', async () => {
    const { input, con } = stdio(false);
    const sink = new FakeSink(2);
    con.attach(sink, () => setImmediate(() => sink.drain())); // the woken guest reads a turn later
    input.type('the quick brown fox');
    await vi.waitFor(() => expect(sink.text()).toBe('the quick brown fox'));
    await con.close();
  });

  it('pauses the host stream while much input waits and resumes it when all was taken', async () => {
    const { input, con } = stdio(false);
    const sink = new FakeSink(0);
    con.attach(sink, () => {});
    input.type(new Array(70 * 1024).fill(0x61));
    expect(input.pauses).toBe(1);
    const resumesBefore = input.resumes;
    const big = new FakeSink(1 << 20);
    con.attach(big, () => {});
    expect(big.held).toHaveLength(70 * 1024);
    expect(input.resumes).toBe(resumesBefore + 1);
    await con.close();
  });

  it('feeds a real 16550 through its FIFO as the guest reads RBR', async () => {
    const { input, con } = stdio(false);
    const uart = new Uart16550({ raise() {}, lower() {} }, () => {});
    uart.write(UartReg.Iir, 1, 0b0000_0001); // FCR: FIFO enabled
    con.attach(uart, () => {});
    const text = 'a line longer than the 16-byte receiver FIFO\n';
    input.type(text);
    let got = '';
    for (let i = 0; i < 200 && got.length < text.length; i++) {
      if (uart.read(UartReg.Lsr, 1) & 0b0000_0001) got += String.fromCharCode(uart.read(UartReg.Data, 1));
      else con.pump();
    }
    expect(got).toBe(text);
    await con.close();
  });

  it('keeps input that arrives before a sink is attached', async () => {
    const { input, con } = stdio(false);
    input.type('early');
    const sink = new FakeSink(16);
    con.attach(sink, () => {});
    expect(sink.text()).toBe('early');
    await con.close();
  });
});

describe('console output', () => {
  it('is written once per event-loop turn', async () => {
    const { output, con } = stdio(false);
    for (const b of Buffer.from('boot log\r\n')) con.write(b);
    expect(output.writes).toHaveLength(0);
    await nextTurn();
    expect(output.writes).toHaveLength(1);
    expect(output.text()).toBe('boot log\r\n');
    await con.close();
  });

  it('is flushed by close()', async () => {
    const { output, con } = stdio(false);
    con.write(0x41);
    await con.close();
    expect(output.text()).toBe('A');
  });
});

describe('StdioConsole on a terminal', () => {
  it('puts the terminal in raw mode and restores it on close', async () => {
    const { input, exitHook, con } = stdio(true);
    expect(input.rawModes).toEqual([true]);
    expect(exitHook.listenerCount('exit')).toBe(1);
    await con.close();
    expect(input.rawModes).toEqual([true, false]);
    expect(exitHook.listenerCount('exit')).toBe(0);
    expect(input.listenerCount('data')).toBe(0);
  });

  it('restores the terminal mode when the process exits without close()', () => {
    const { input, exitHook } = stdio(true);
    exitHook.emit('exit', 1);
    expect(input.rawModes).toEqual([true, false]);
  });

  it('quits on Ctrl-A X, passing on what was typed before it', async () => {
    const { input, onQuit, con } = stdio(true);
    const sink = new FakeSink(64);
    con.attach(sink, () => {});
    input.type([0x6c, 0x73, CTRL_A, 0x78, 0x71]);
    expect(onQuit).toHaveBeenCalledTimes(1);
    expect(sink.text()).toBe('ls');
    input.type([CTRL_A, 0x58]);
    expect(onQuit).toHaveBeenCalledTimes(2);
    await con.close();
  });

  it('sends a Ctrl-A for Ctrl-A Ctrl-A, also across reads, and drops unknown escapes', async () => {
    const { input, onQuit, con } = stdio(true);
    const sink = new FakeSink(64);
    con.attach(sink, () => {});
    input.type([0x61, CTRL_A]);
    input.type([CTRL_A, 0x62, CTRL_A, 0x7a, 0x63, 0x03]);
    expect(sink.got.concat(sink.held)).toEqual([0x61, CTRL_A, 0x62, 0x63, 0x03]);
    expect(onQuit).not.toHaveBeenCalled();
    await con.close();
  });

  it('prints the escape keys on Ctrl-A H', async () => {
    const { input, output, con } = stdio(true);
    con.attach(new FakeSink(64), () => {});
    input.type([CTRL_A, 0x68]);
    expect(output.text()).toContain('C-a x    quit wasmpc');
    await con.close();
  });

  it('passes Ctrl-A through untouched when stdin is not a terminal', async () => {
    const { input, output, onQuit, con } = stdio(false);
    const sink = new FakeSink(64);
    con.attach(sink, () => {});
    input.type([CTRL_A, 0x78, CTRL_A, CTRL_A]);
    expect(sink.held).toEqual([CTRL_A, 0x78, CTRL_A, CTRL_A]);
    expect(onQuit).not.toHaveBeenCalled();
    expect(input.rawModes).toEqual([]);
    expect(output.writes).toEqual([]);
    await con.close();
  });
});

describe('FileConsole', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'wasmpc-console-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends guest output to the file', async () => {
    const path = join(dir, 'com1.log');
    writeFileSync(path, 'before\n');
    const con = new FileConsole(path);
    con.attach();
    for (const b of Buffer.from('after\n')) con.write(b);
    await nextTurn();
    expect(readFileSync(path, 'utf8')).toBe('before\nafter\n');
    con.write(0x21);
    await con.close();
    expect(readFileSync(path, 'utf8')).toBe('before\nafter\n!');
  });

  it('cannot be opened in a missing directory, and openConsole says which port', async () => {
    const path = join(dir, 'no', 'com2.log');
    await expect(openConsole('com2', { kind: 'file', path }, { onQuit: () => {} })).rejects.toThrow(
      new ConsoleOpenError(`wasmpc: com2,file:${path}: cannot open ${path} for appending (ENOENT)`));
  });
});

/** A TCP client of the console that collects what it receives. */
async function client(port: number): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (d: Buffer) => { data += d.toString('latin1'); });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, received: () => data };
}

describe('TcpConsole', () => {
  it('listens on 127.0.0.1 and connects one client both ways', async () => {
    const con = await TcpConsole.listen(0);
    const sink = new FakeSink(64);
    const wake = vi.fn();
    con.attach(sink, wake);
    for (const b of Buffer.from('login: ')) con.write(b);
    await nextTurn();
    const c = await client(con.port);
    await vi.waitFor(() => expect(c.received()).toBe('login: '));
    c.socket.write('root\r');
    await vi.waitFor(() => expect(sink.text()).toBe('root\r'));
    expect(wake).toHaveBeenCalled();
    for (const b of Buffer.from('# ')) con.write(b);
    await vi.waitFor(() => expect(c.received()).toBe('login: # '));
    c.socket.destroy();
    await con.close();
  });

  it('turns a second client away and takes a new one after the first left', async () => {
    const con = await TcpConsole.listen(0);
    const first = await client(con.port);
    const second = await client(con.port);
    await vi.waitFor(() => expect(second.received()).toBe('wasmpc: this console already has a client\r\n'));
    await vi.waitFor(() => expect(second.socket.closed).toBe(true));
    first.socket.destroy();
    // The console sees the first client leave a little later; until then a newcomer is turned away.
    let third = await client(con.port);
    for (let tries = 0; tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (third.received() === '') break;
      third.socket.destroy();
      third = await client(con.port);
    }
    con.write(0x41);
    await vi.waitFor(() => expect(third.received()).toBe('A'));
    third.socket.destroy();
    await con.close();
  });

  it('keeps the newest output for a client that connects late, up to the bound', async () => {
    const con = await TcpConsole.listen(0);
    const total = TCP_BACKLOG_BYTES + 1000;
    for (let i = 0; i < total; i++) con.write(0x30 + (i % 10));
    await nextTurn();
    const c = await client(con.port);
    await vi.waitFor(() => expect(c.received()).toHaveLength(TCP_BACKLOG_BYTES));
    expect(c.received().slice(0, 10)).toBe('0123456789');
    c.socket.destroy();
    await con.close();
  });

  it('frees its port on close', async () => {
    const con = await TcpConsole.listen(0);
    const port = con.port;
    await con.close();
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports a port in use through openConsole', async () => {
    const taken = await TcpConsole.listen(0);
    await expect(openConsole('com1', { kind: 'tcp', host: '127.0.0.1', port: taken.port }, { onQuit: () => {} })).rejects.toThrow(
      `wasmpc: com1,tcp:127.0.0.1:${taken.port}: cannot listen on 127.0.0.1:${taken.port} (EADDRINUSE)`);
    await taken.close();
  });
});

describe('openConsoles', () => {
  it('opens one console per configured port', async () => {
    const input = new FakeInput(false);
    const cons = await openConsoles(
      { com1: { kind: 'stdio' }, com3: { kind: 'null' } },
      { onQuit: () => {}, stdio: { input, output: new FakeOutput() } },
    );
    expect(Object.keys(cons)).toEqual(['com1', 'com3']);
    expect(cons.com1).toBeInstanceOf(StdioConsole);
    expect(cons.com3).toBeInstanceOf(NullConsole);
    await Promise.all(Object.values(cons).map((c) => c.close()));
  });

  it('closes the consoles it opened when a later one fails', async () => {
    const taken = await TcpConsole.listen(0);
    const input = new FakeInput(true);
    await expect(openConsoles(
      { com1: { kind: 'stdio' }, com2: { kind: 'tcp', host: '127.0.0.1', port: taken.port } },
      { onQuit: () => {}, stdio: { input, output: new FakeOutput(), exitHook: new EventEmitter() as unknown as NodeJS.Process } },
    )).rejects.toBeInstanceOf(ConsoleOpenError);
    expect(input.rawModes).toEqual([true, false]);
    await taken.close();
  });
});
