// The page in a real browser: Debian's Chromium (headless, through playwright-core; never a downloaded browser)
// opens `wasmpc serve`'s page, which boots the default Debian guest in a Worker to a shell on COM1. Keys typed
// into the terminal reach the guest, its answer shows in the terminal and in window.machine.consoleText(), copy
// and paste work, a resize sends nothing, and the buttons pause, resume, power off and power on. A screenshot is
// kept in test-artifacts/.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { itWhen } from '../images/host-tools';
import { packageRoot } from '../../src/node/core-module';
import { serveWeb, type WebServer } from '../../src/node/serve';
import { imagePaths } from '../../src/images/paths';
import type { MachineState } from '../../src/browser/protocol';

const CHROMIUM = '/usr/bin/chromium';
const root = packageRoot();
const images = imagePaths(root);
const artifacts = join(root, 'test-artifacts');
const missing = [
  existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`,
  existsSync(images.vmlinuz) && existsSync(images.initrd) ? null : 'the Debian guest is missing (npm run images)',
  existsSync(join(root, 'build', 'core.wasm')) ? null : 'build/core.wasm is missing (npm run build)',
];
const ready = missing.every((m) => m === null);
/** The whole test: a boot takes 60-90 s of wall time here, more on a loaded machine. */
const TEST_MS = 15 * 60_000;
const BOOT_MS = 10 * 60_000;
const STEP_MS = 60_000;
/** busybox's prompt; its line editor then asks the terminal where the cursor is (DSR, ESC [ 6 n). */
const PROMPT = String.raw`# (?:\x1b\[6n)?$`;

let server: WebServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!ready) return;
  const build = spawnSync(process.execPath, ['scripts/build-web.mjs'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build:web failed:\n${build.stderr}`);
  server = await serveWeb({ web: join(root, 'build', 'web'), guest: images.guest }, 0);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}, STEP_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const consoleText = (page: Page) => page.evaluate(() => window.machine.consoleText());
const machineState = (page: Page): Promise<MachineState> => page.evaluate(() => window.machine.state());

/** Wait for `condition`; a timeout says what the machine was doing (its state and COM1's last lines). */
async function until(page: Page, what: string, condition: () => Promise<unknown>): Promise<void> {
  try {
    await condition();
  } catch (e) {
    const [state, text] = await page.evaluate(() => [window.machine.state(), window.machine.consoleText()] as const);
    throw new Error(`waiting for ${what}: ${(e as Error).message.split('\n')[0]}; the machine is ${JSON.stringify(state)}, COM1 ends:\n${text.slice(-1500)}`);
  }
}

/** Wait until the page's machine is in `state`. */
function untilState(page: Page, state: MachineState['state'], timeout = STEP_MS): Promise<void> {
  return until(page, `state ${state}`, () => page.waitForFunction((s) => window.machine.state().state === s, state, { timeout, polling: 100 }));
}

/** Wait until COM1's output after `from` characters matches `pattern`. */
function untilConsole(page: Page, pattern: RegExp, from: number, timeout = STEP_MS): Promise<void> {
  return until(page, `${pattern} on COM1`, () => page.waitForFunction(([source, flags, at]) => new RegExp(source, flags).test(window.machine.consoleText().slice(at)),
    [pattern.source, pattern.flags, from] as const, { timeout, polling: 200 }));
}

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
