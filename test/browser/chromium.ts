// What the browser tests share: their prerequisites, the page built and Debian's Chromium launched, and waits on
// the page's machine that say, when they time out, what the machine was doing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { packageRoot } from '../../src/node/core-module';
import { imagePaths } from '../../src/images/paths';
import type { MachineState } from '../../src/browser/protocol';

export const CHROMIUM = '/usr/bin/chromium';
export const root = packageRoot();
export const images = imagePaths(root);
/** The whole test: a boot takes 60-90 s of wall time here, more on a loaded machine. */
export const TEST_MS = 15 * 60_000;
export const BOOT_MS = 10 * 60_000;
export const STEP_MS = 60_000;
/** busybox's prompt; its line editor then asks the terminal where the cursor is (DSR, ESC [ 6 n). */
export const PROMPT = String.raw`# (?:\x1b\[6n)?$`;

/** What a test that boots the default guest in Chromium needs, as itWhen's reasons. */
export const browserMissing: ReadonlyArray<string | null> = [
  existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`,
  existsSync(images.vmlinuz) && existsSync(images.initrd) ? null : 'the Debian guest is missing (npm run images)',
  existsSync(join(root, 'build', 'core.wasm')) ? null : 'build/core.wasm is missing (npm run build)',
];

/** `npm run build:web`, then Chromium headless (never a downloaded browser). */
export async function buildAndLaunch(): Promise<Browser> {
  const build = spawnSync(process.execPath, ['scripts/build-web.mjs'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build:web failed:\n${build.stderr}`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

export const consoleText = (page: Page): Promise<string> => page.evaluate(() => window.machine.consoleText());
export const machineState = (page: Page): Promise<MachineState> => page.evaluate(() => window.machine.state());

/** Wait for `condition`; a timeout says what the machine was doing (its state and COM1's last lines). */
export async function until(page: Page, what: string, condition: () => Promise<unknown>): Promise<void> {
  try {
    await condition();
  } catch (e) {
    const [state, text] = await page.evaluate(() => [window.machine.state(), window.machine.consoleText()] as const);
    throw new Error(`waiting for ${what}: ${(e as Error).message.split('\n')[0]}; the machine is ${JSON.stringify(state)}, COM1 ends:\n${text.slice(-1500)}`);
  }
}

/** Wait until the page's machine is in `state`. */
export function untilState(page: Page, state: MachineState['state'], timeout = STEP_MS): Promise<void> {
  return until(page, `state ${state}`, () => page.waitForFunction((s) => window.machine.state().state === s, state, { timeout, polling: 100 }));
}

/** Wait until COM1's output after `from` characters matches `pattern`. */
export function untilConsole(page: Page, pattern: RegExp, from: number, timeout = STEP_MS): Promise<void> {
  return until(page, `${pattern} on COM1`, () => page.waitForFunction(([source, flags, at]) => new RegExp(source, flags).test(window.machine.consoleText().slice(at)),
    [pattern.source, pattern.flags, from] as const, { timeout, polling: 200 }));
}
