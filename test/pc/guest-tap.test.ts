// virtio-net on the tap backend, seen from inside the Debian i686 guest. The test makes a network namespace
// with a tap interface at 10.12.0.1/24 (the host's kernel is the other end of the cable) and an HTTP server in
// it, runs wasmpc there, and the guest pings the host and downloads 4 MiB with the exact sha256.
import { describe, expect, afterAll, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itWhen } from '../images/host-tools';
import { HAS_TUN, makeTapNamespace, tapPrerequisite, type TapNamespace } from '../net/netns';
import { packageRoot } from '../../src/node/core-module';

const root = packageRoot();
const images = join(root, 'images', 'debian-i686');
const cli = join(root, 'build', 'node', 'wasmpc.js');
const BLOB_BYTES = 4 << 20;
const HTTP_PORT = 8080;

(HAS_TUN ? describe : describe.skip)('virtio-net on a tap interface in the Debian i686 guest', () => {
  const missing = [
    existsSync(join(images, 'vmlinuz')) ? null : 'the Debian guest is missing (npm run images)',
    existsSync(cli) ? null : 'build/node/wasmpc.js is missing (npm run build)',
    tapPrerequisite(),
  ];
  let ns: TapNamespace | undefined;
  let dir: string | undefined;
  beforeAll(() => {
    if (missing.every((m) => m === null)) ns = makeTapNamespace('gtap', 'wtap1', '10.12.0.1/24');
    dir = mkdtempSync(join(tmpdir(), 'wasmpc-tap-'));
  });
  afterAll(() => {
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  itWhen(missing, 'pings the host through the tap and downloads 4 MiB exactly from a server behind it', async () => {
    const blob = randomBytes(BLOB_BYTES);
    const sha = createHash('sha256').update(blob).digest('hex');
    const blobFile = join(dir!, 'blob');
    writeFileSync(blobFile, blob);
    // The server lives in the namespace, so only the guest (through the tap) can reach it.
    const server = spawn(ns!.exec[0]!, [...ns!.exec.slice(1), process.execPath, '-e', `
      const data = require('fs').readFileSync(${JSON.stringify(blobFile)});
      require('http').createServer((q, s) => { s.setHeader('content-length', data.length); s.end(data); })
        .listen(${HTTP_PORT}, '10.12.0.1', () => console.log('listening'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`the HTTP server in ${ns!.name} exited (status ${String(code)}) before listening`)));
    });
    const command = [
      'ip link set eth0 up',
      'ip addr add 10.12.0.2/24 dev eth0',
      'ping -c 3 10.12.0.1',
      'echo ping-status=$?',
      `wget -q -O - http://10.12.0.1:${HTTP_PORT}/blob | sha256sum | sed s/^/sha=/`,
    ].join('; ');
    const t0 = Date.now();
    const child = spawn(ns!.exec[0]!, [...ns!.exec.slice(1), process.execPath,
      cli, 'run', '-s', `2,virtio-net,tap,${ns!.ifname}`,
      '--append', `console=ttyS0 cryptomgr.notests wasmpc.run="${command}"`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 19 * 60_000);
    const status = await new Promise<number | null>((resolve) => child.on('exit', (s) => resolve(s)));
    clearTimeout(timer);
    server.kill();
    const tail = out.slice(-4000);
    process.stderr.write(`guest-tap: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    expect(out, tail).toContain('wasmpc-guest: userspace');
    expect(out, tail).toMatch(/bytes from 10\.12\.0\.1: seq=\d+ ttl=\d+/);
    expect(out, tail).toContain('ping-status=0');
    expect(/sha=([0-9a-f]{64})/.exec(out)?.[1], tail).toBe(sha);
    expect(out, tail).toContain('wasmpc-guest: done');
    expect(status, tail).toBe(0);
  }, 20 * 60_000);
});
