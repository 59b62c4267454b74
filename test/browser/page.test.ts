// The page in a real browser: Debian's Chromium (headless, through playwright-core; never a downloaded browser)
// opens `wasmpc serve`'s page, which boots the default Debian guest in a Worker to a shell on COM1. Keys typed
// into the terminal reach the guest, its answer shows in the terminal and in window.machine.consoleText(), copy
// and paste work, a resize sends nothing, and the buttons pause, resume, power off and power on. A screenshot is
// kept in test-artifacts/.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { itWhen } from '../images/host-tools';
import { serveWeb, type WebServer } from '../../src/node/serve';
import {
  BOOT_MS, PROMPT, STEP_MS, TEST_MS, browserMissing, buildAndLaunch, consoleText, images, machineState, root, untilConsole, untilState,
} from './chromium';

const artifacts = join(root, 'test-artifacts');
const missing = browserMissing;
const ready = missing.every((m) => m === null);

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

describe('the page in Chromium', () => {
  itWhen(missing, 'boots the default guest to a shell, answers typed commands, copies and pastes, pauses, powers off and on', async () => {
    const page = await browser!.newPage({ viewport: { width: 1024, height: 640 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = Date.now();
    await page.goto(`${server!.url}?append=${encodeURIComponent('console=ttyS0 cryptomgr.notests')}`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

    // The default guest boots to busybox's prompt; /init prints its marker first.
    await untilConsole(page, new RegExp(`wasmpc-guest: userspace[^]*${PROMPT}`), 0, BOOT_MS);
    const bootMs = Date.now() - t0;
    console.log(`browser: page load to the shell prompt in ${(bootMs / 1000).toFixed(1)} s`);
    expect((await machineState(page)).state).toBe('running');
    await expect.poll(() => page.locator('#state').textContent()).toBe('Running');
    expect(await page.locator('#progress').textContent()).toMatch(/^core \d+ KiB · kernel [\d.]+ MiB · initrd [\d.]+ MiB$/);

    // Typed through the keyboard into xterm.js: the page's real input path.
    let mark = (await consoleText(page)).length;
    await page.locator('.xterm').click();
    await page.keyboard.type('uname -m; echo ok');
    await page.keyboard.press('Enter');
    await untilConsole(page, new RegExp(String.raw`uname -m; echo ok\r?\ni686\r?\nok\r?\n[^]*` + PROMPT), mark);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'browser-boot.png') });
    const screen = await page.locator('.xterm-rows').innerText();
    expect(screen).toMatch(/uname -m; echo ok\s+i686\s+ok/);

    // Copy: Ctrl+C with a word selected copies it, and sends the guest no interrupt. Paste: Ctrl+Shift+V types
    // the clipboard into the guest.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    mark = (await consoleText(page)).length;
    // The rows are under xterm.js's screen, which takes the mouse: click where the word is drawn.
    const row = (await page.locator('.xterm-rows > div', { hasText: /^i686\s*$/ }).last().boundingBox())!;
    await page.mouse.dblclick(row.x + 12, row.y + row.height / 2);
    await page.keyboard.press('Control+C');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('i686');
    await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((2+3))'));
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await untilConsole(page, new RegExp(String.raw`^echo pasted-\$\(\(2\+3\)\)\r?\npasted-5\r?\n`), mark);

    // A resized window refits the terminal and sends the guest nothing.
    mark = (await consoleText(page)).length;
    await page.setViewportSize({ width: 800, height: 500 });
    await page.waitForTimeout(1000);
    expect((await consoleText(page)).slice(mark)).toBe('');

    // Paused, the guest runs nothing: input waits, and is answered after Resume.
    await page.getByRole('button', { name: 'Pause' }).click();
    await untilState(page, 'paused');
    mark = (await consoleText(page)).length;
    await page.evaluate(() => window.machine.sendText('echo resumed-$((40+2))\r'));
    await page.waitForTimeout(1000);
    expect((await consoleText(page)).slice(mark)).not.toContain('resumed-42');
    await page.getByRole('button', { name: 'Resume' }).click();
    await untilConsole(page, /\nresumed-42\r?\n/, mark);
    expect((await machineState(page)).state).toBe('running');

    // Power off, then on again: the kernel boots a second time.
    await page.getByRole('button', { name: 'Power off' }).click();
    await untilState(page, 'powered-off');
    expect(await page.getByRole('button', { name: 'Pause' }).isDisabled()).toBe(true);
    mark = (await consoleText(page)).length;
    await page.getByRole('button', { name: 'Power on' }).click();
    await untilConsole(page, /Linux version/, mark);
    expect(['booting', 'running']).toContain((await machineState(page)).state);
    expect(errors).toEqual([]);
    await page.close();
  }, TEST_MS);
});
