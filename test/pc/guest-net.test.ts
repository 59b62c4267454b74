// virtio-net with the user-mode network, seen from inside the Debian i686 guest (one boot): udhcpc gets the
// lease 10.0.2.15, ping reaches the gateway 10.0.2.2, wget fetches 16 MiB from a Node HTTP server on the host's
// 127.0.0.1 with the exact sha256, and a hostfwd port reaches `nc -l` in the guest, both directions.
import { describe, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { itWhen } from '../images/host-tools';
import { packageRoot } from '../../src/node/core-module';

// The kernel's crypto self-tests are most of a boot's instructions; boot-debian.test.ts runs them (and checks
// they pass), so this device test skips them to boot in a third of the time.
const SKIP_CRYPTO_SELF_TESTS = 'cryptomgr.notests';

const root = packageRoot();
const images = join(root, 'images', 'debian-i686');
const cli = join(root, 'build', 'node', 'wasmpc.js');
const missing = [
  existsSync(join(images, 'vmlinuz')) ? null : 'the Debian guest is missing (npm run images)',
  existsSync(cli) ? null : 'build/node/wasmpc.js is missing (npm run build)',
];

const BLOB_BYTES = 16 << 20;
const GUEST_PORT = 7777;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Talk to the guest's `nc -l` through the port forward: wait for its greeting, answer, half-close, and collect
 * what it sent until it closes. nc may not be listening yet when the first attempt arrives (the guest then
 * resets the forwarded connection), so attempts repeat.
 */
async function talkToGuest(port: number, deadline: number): Promise<string> {
  while (Date.now() < deadline) {
    const got = await new Promise<string | undefined>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let text = '';
      let answered = false;
      s.on('data', (d) => {
        text += d.toString('latin1');
        if (!answered && text.includes('hello-from-guest')) {
          answered = true;
          s.end('hello-from-host\n');
        }
      });
      s.on('error', () => {});
      s.on('close', () => resolve(answered ? text : undefined));
    });
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 3000));
  }
  throw new Error('the guest never answered on the forwarded port');
}

describe('virtio-net in the Debian i686 guest', () => {
  itWhen(missing, 'gets a DHCP lease, pings the gateway, downloads 16 MiB exactly and serves a forwarded port', async () => {
    const blob = randomBytes(BLOB_BYTES);
    const sha = createHash('sha256').update(blob).digest('hex');
    const http = createHttpServer((req, res) => {
      res.setHeader('content-length', blob.length);
      res.end(blob);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const httpPort = (http.address() as AddressInfo).port;
    const fwdPort = await freePort();
    // Markers are computed by the guest's shell, so the kernel's echo of its command line cannot match them.
    const command = [
      'ip link set eth0 up',
      'udhcpc -i eth0 -f -q -n -t 10 -s /bin/true 2>&1',
      'ip addr add 10.0.2.15/24 dev eth0',
      'ip route add default via 10.0.2.2',
      'ping -c 3 10.0.2.2',
      'echo ping-status=$?',
      `wget -q -O - http://10.0.2.2:${httpPort}/blob | sha256sum | sed s/^/sha=/`,
      // `&` ends a command as `;` does, so the next one follows it directly.
      // nc sends the greeting, half-closes at the end of its input, and exits when the host closes its side.
      `echo hello-from-guest | nc -l -p ${GUEST_PORT} > /tmp/got & echo nc-$((6*7))`,
      'wait $!',
      'echo got=$(cat /tmp/got)',
      'grep virtio /proc/interrupts',
    ].join('; ');
    const t0 = Date.now();
    const child = spawn(process.execPath, [
      cli, 'run', '-s', `2,virtio-net,user,hostfwd=tcp:127.0.0.1:${fwdPort}-:${GUEST_PORT}`,
      '--append', `console=ttyS0 ${SKIP_CRYPTO_SELF_TESTS} wasmpc.run="${command}"`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let fromGuest: Promise<string> | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (!fromGuest && out.includes('nc-42')) fromGuest = talkToGuest(fwdPort, Date.now() + 5 * 60_000);
    });
    child.stderr.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 29 * 60_000);
    const status = await new Promise<number | null>((resolve) => child.on('exit', (s) => resolve(s)));
    clearTimeout(timer);
    http.close();
    const tail = out.slice(-4000);
    process.stderr.write(`guest-net: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    expect(out, tail).toContain('wasmpc-guest: userspace');
    expect(out, tail).toMatch(/lease of 10\.0\.2\.15 obtained/);
    expect(out, tail).toMatch(/bytes from 10\.0\.2\.2: seq=\d+ ttl=\d+/);
    expect(out, tail).toContain('ping-status=0');
    expect(/sha=([0-9a-f]{64})/.exec(out)?.[1], tail).toBe(sha);
    expect(fromGuest, tail).toBeDefined();
    expect(await fromGuest!).toContain('hello-from-guest');
    expect(out, tail).toContain('got=hello-from-host');
    // The NIC's queues interrupt through MSI-X.
    expect(out, tail).toMatch(/PCI-MSI\S*\s+\S+\s+virtio\d+-input\.0/);
    expect(out, tail).toContain('wasmpc-guest: done');
    expect(status, tail).toBe(0);
  }, 30 * 60_000);
});
