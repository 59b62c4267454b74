// The socket backend: two in-process endpoints on the loopback share an Ethernet segment, frames length-prefixed
// as QEMU's -netdev socket frames them; a peer that sends garbage is disconnected, and the connecting side dials
// again when its peer goes away.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type AddressInfo } from 'node:net';
import { SocketNetBackend } from '../../src/node/net-socket';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const frame = (len: number, seed: number) => Uint8Array.from({ length: len }, (_, i) => (i * 7 + seed) & 0xff);

describe('socket network backend', () => {
  const open: SocketNetBackend[] = [];
  afterEach(async () => { await Promise.all(open.splice(0).map((b) => b.close())); });

  async function pair(): Promise<{ a: SocketNetBackend; b: SocketNetBackend; port: number; got: { a: Uint8Array[]; b: Uint8Array[] } }> {
    const port = await freePort();
    const a = await SocketNetBackend.open({ mode: 'listen', host: '127.0.0.1', port });
    const b = await SocketNetBackend.open({ mode: 'connect', host: '127.0.0.1', port });
    open.push(a, b);
    const got = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
    a.onReceive((f) => got.a.push(f));
    b.onReceive((f) => got.b.push(f));
    await until(() => a.connected && b.connected);
    return { a, b, port, got };
  }

  it('carries frames both ways, whole and in order', async () => {
    const { a, b, got } = await pair();
    const sent = [frame(60, 1), frame(1514, 2), frame(9000, 3), frame(14, 4)];
    for (const f of sent) a.send(f);
    b.send(frame(100, 5));
    await until(() => got.b.length === 4 && got.a.length === 1);
    expect(got.b).toEqual(sent);
    expect(got.a).toEqual([frame(100, 5)]);
  });

  it('frames each one with a 4-byte big-endian length', async () => {
    const port = await freePort();
    const a = await SocketNetBackend.open({ mode: 'listen', host: '127.0.0.1', port });
    open.push(a);
    const raw = connect(port, '127.0.0.1');
    const bytes: Buffer[] = [];
    raw.on('data', (d) => bytes.push(d));
    await until(() => a.connected);
    a.send(frame(20, 9));
    await until(() => Buffer.concat(bytes).length === 24);
    expect(Array.from(Buffer.concat(bytes).subarray(0, 4))).toEqual([0, 0, 0, 20]);
    const got: Uint8Array[] = [];
    a.onReceive((f) => got.push(f));
    // One frame split across writes, then two in one write.
    raw.write(Buffer.from([0, 0, 0, 16, 1, 2]));
    raw.write(Buffer.concat([Buffer.from(frame(14, 0)), Buffer.from([0, 0, 0, 14]), Buffer.from(frame(14, 1))]));
    await until(() => got.length === 2);
    expect(got[0]).toEqual(Uint8Array.of(1, 2, ...frame(14, 0)));
    expect(got[1]).toEqual(frame(14, 1));
    raw.destroy();
  });

  it('disconnects a peer that sends an impossible length and takes the next one', async () => {
    const port = await freePort();
    const a = await SocketNetBackend.open({ mode: 'listen', host: '127.0.0.1', port });
    open.push(a);
    const raw = connect(port, '127.0.0.1');
    let closed = false;
    raw.on('close', () => { closed = true; });
    raw.on('error', () => {});
    await until(() => a.connected);
    raw.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await until(() => closed);
    expect(a.connected).toBe(false);
    const b = await SocketNetBackend.open({ mode: 'connect', host: '127.0.0.1', port });
    open.push(b);
    await until(() => a.connected && b.connected);
  });

  it('drops frames while no peer is connected, and the connecting side dials again', async () => {
    const port = await freePort();
    const b = await SocketNetBackend.open({ mode: 'connect', host: '127.0.0.1', port });
    open.push(b);
    b.send(frame(60, 0));
    expect(b.dropped).toBe(1);
    // The listener starts after the connecting side: it retries until one answers.
    const a = await SocketNetBackend.open({ mode: 'listen', host: '127.0.0.1', port });
    open.push(a);
    await until(() => a.connected && b.connected, 5000);
    const got: Uint8Array[] = [];
    a.onReceive((f) => got.push(f));
    b.send(frame(70, 1));
    await until(() => got.length === 1);
  });

  it('refuses to listen on a port already taken, naming the cause', async () => {
    const { port } = await pair();
    await expect(SocketNetBackend.open({ mode: 'listen', host: '127.0.0.1', port })).rejects.toThrow(/EADDRINUSE/);
  });
});
