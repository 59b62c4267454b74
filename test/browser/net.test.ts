// The page's network in Chromium: with ?net= naming a `wasmpc relay`, the default Debian guest gets a virtio-net
// NIC, a DHCP lease of 10.0.2.15 from the relay's user-mode NAT, and downloads a file from an HTTP server on the
// host's 127.0.0.1 (the guest's 10.0.2.2) with the exact sha256. A relay that is not running stops the boot with
// an error that names its URL.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { itWhen } from '../images/host-tools';
import { serveWeb, type WebServer } from '../../src/node/serve';
import { startRelay, type Relay } from '../../src/node/relay';
import {
  BOOT_MS, PROMPT, STEP_MS, TEST_MS, browserMissing, buildAndLaunch, consoleText, images, machineState, root, untilConsole, untilState,
} from './chromium';

const missing = browserMissing;
const ready = missing.every((m) => m === null);
const APPEND = 'console=ttyS0 cryptomgr.notests';
const BLOB_BYTES = 1 << 20;

let server: WebServer | undefined;
let browser: Browser | undefined;
let relay: Relay | undefined;
let http: Server | undefined;
const blob = randomBytes(BLOB_BYTES);
const sha = createHash('sha256').update(blob).digest('hex');

beforeAll(async () => {
  if (!ready) return;
  browser = await buildAndLaunch();
  server = await serveWeb({ web: join(root, 'build', 'web'), guest: images.guest }, 0);
  relay = await startRelay(0);
  http = createHttpServer((_req, res) => {
    res.setHeader('content-length', blob.length);
    res.end(blob);
  });
  await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
}, STEP_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await relay?.close();
  http?.close();
});

const pageUrl = (net: string) => `${server!.url}?net=${encodeURIComponent(net)}&append=${encodeURIComponent(APPEND)}`;

describe('the page with a network relay', () => {
  itWhen(missing, 'names the relay\'s URL when no relay is running there', async () => {
    const page = await browser!.newPage();
    // A relay that was running and has stopped: nothing listens on its port now.
    const stopped = await startRelay(0);
    await stopped.close();
    const down = stopped.url;
    await page.goto(pageUrl(down));
    await untilState(page, 'error');
    const state = await machineState(page);
    expect(state.state === 'error' && state.reason).toContain(`?net=${down}: cannot reach the relay`);
    await expect.poll(() => page.locator('#state').textContent()).toContain(down);
    await page.close();
  }, STEP_MS * 2);

  itWhen(missing, 'gets a DHCP lease from the relay and downloads a file from the host\'s loopback', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = Date.now();
    await page.goto(pageUrl(relay!.url));
    await untilConsole(page, new RegExp(`wasmpc-guest: userspace[^]*${PROMPT}`), 0, BOOT_MS);
    console.log(`browser net: page load to the shell prompt in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(relay!.connections()).toBe(1);

    const httpPort = (http!.address() as AddressInfo).port;
    const mark = (await consoleText(page)).length;
    const t1 = Date.now();
    // The same steps as test/pc/guest-net.test.ts; markers are computed by the shell, so the echo of the
    // command line cannot match them.
    const command = [
      'ip link set eth0 up',
      'udhcpc -i eth0 -f -q -n -t 10 -s /bin/true 2>&1',
      'ip addr add 10.0.2.15/24 dev eth0',
      'ip route add default via 10.0.2.2',
      `wget -q -O - http://10.0.2.2:${httpPort}/blob | sha256sum | sed s/^/sha=/`,
      'echo net-done-$((6*7))',
    ].join('; ');
    await page.evaluate((text) => window.machine.sendText(text), `${command}\r`);
    await untilConsole(page, /\nnet-done-42\r?\n/, mark, BOOT_MS);
    console.log(`browser net: DHCP and a ${BLOB_BYTES >> 20} MiB download in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    const out = (await consoleText(page)).slice(mark);
    expect(out).toMatch(/lease of 10\.0\.2\.15 obtained/);
    expect(/sha=([0-9a-f]{64})/.exec(out)?.[1], out.slice(-2000)).toBe(sha);
    expect(errors).toEqual([]);
    await page.close();
  }, TEST_MS);
});
