// The page's "Local files" form in Chromium: the default guest's kernel and initrd chosen as local files, a raw
// disk chosen beside them, and a command line; Boot ends the machine of the page's address and boots these,
// the kernel and initrd read whole and the disk read lazily from the File, its writes in an overlay.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { itWhen } from '../images/host-tools';
import { serveWeb, type WebServer } from '../../src/node/serve';
import { BOOT_MS, PROMPT, STEP_MS, TEST_MS, browserMissing, buildAndLaunch, consoleText, images, root, untilConsole } from './chromium';

const missing = browserMissing;
const ready = missing.every((m) => m === null);
/** The raw disk's first bytes, which the guest reads back. */
const MARK = 'wasmpc-local-disk-mark';

let server: WebServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!ready) return;
  browser = await buildAndLaunch();
  server = await serveWeb({ web: join(root, 'build', 'web'), guest: images.guest }, 0);
}, STEP_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('local files in the browser', () => {
  itWhen(missing, 'boots a kernel, an initrd and a raw disk chosen as local files with the typed command line', async () => {
    const page = await browser!.newPage({ viewport: { width: 1024, height: 640 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server!.url);
    await page.locator('#local-kernel').setInputFiles(images.vmlinuz);
    await page.locator('#local-initrd').setInputFiles(images.initrd);
    const disk = Buffer.alloc(4 * 1024 * 1024);
    disk.write(MARK, 0, 'latin1');
    await page.locator('#local-disk').setInputFiles({ name: 'local.raw', mimeType: 'application/octet-stream', buffer: disk });
    await page.locator('#local-append').fill('console=ttyS0 cryptomgr.notests');
    await page.getByRole('button', { name: 'Boot' }).click();

    await untilConsole(page, /Linux version/, 0, BOOT_MS);
    await untilConsole(page, new RegExp(`wasmpc-guest: userspace[^]*${PROMPT}`), 0, BOOT_MS);
    expect(await consoleText(page)).toMatch(/Kernel command line: console=ttyS0 cryptomgr\.notests\r?\n/);
    // The local files are read at once, before the core's download ends: any order.
    expect((await page.locator('#progress').textContent())!.split(' · ').sort()).toEqual([
      expect.stringMatching(/^core \d+ KiB$/), expect.stringMatching(/^initrd [\d.]+ MiB$/), expect.stringMatching(/^kernel [\d.]+ MiB$/),
    ]);
    const report = (await page.evaluate(() => window.machine.disks()))!;
    expect(report.writable).toEqual([`local:local.raw?size=${disk.length}`]);
    expect(report.imageBytes).toBe(disk.length);

    const mark = (await consoleText(page)).length;
    await page.evaluate((script) => window.machine.sendText(script), [
      'i=0; while [ ! -b /dev/vda ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done',
      `echo "got: $(head -c ${MARK.length} /dev/vda)"`,
      '',
    ].join('\r'));
    await untilConsole(page, new RegExp(`\\ngot: ${MARK}\\r?\\n`), mark, 2 * STEP_MS);
    expect(errors).toEqual([]);
    await page.close();
  }, TEST_MS);
});
