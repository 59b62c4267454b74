// A disk in the browser: the page boots the default guest with ?disk= naming a qcow2 image (an ext2 file system
// made with mkfs.ext2 -d) that `wasmpc serve` publishes, and ?cdrom= naming the same file system raw. The guest
// reads the CD, mounts the disk and writes a file; "Save disk" downloads the overlay, which holds the file's bytes
// and, rebased onto the image, is a disk whose file system has the file. The server sees only Range requests,
// for far fewer bytes than the images have. "Discard changes" resets the machine with the disk as served.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Download, Page } from 'playwright-core';
import { itWhen, missingTool } from '../images/host-tools';
import { noQemuImg, pattern, qemuImg } from '../block/qemu-img';
import { serveWeb, type WebServer } from '../../src/node/serve';
import { BOOT_MS, PROMPT, STEP_MS, TEST_MS, browserMissing, buildAndLaunch, consoleText, images, root, untilConsole } from './chromium';

const missing = [...browserMissing, noQemuImg, missingTool('mkfs.ext2', 'e2fsprogs')];
const ready = missing.every((m) => m === null);
/** What the guest writes; the command computes the 42, so the typed line does not hold the text itself. */
const WRITTEN = 'written in the browser 42';

let dir = '';
let server: WebServer | undefined;
let browser: Browser | undefined;
/** The requests for the images: [path, Range header or undefined]. */
const requests: Array<[string, string | undefined]> = [];

beforeAll(async () => {
  if (!ready) return;
  browser = await buildAndLaunch();
  dir = mkdtempSync(join(tmpdir(), 'wasmpc-browser-disk-'));
  // 16 MiB that does not compress, so fetching the whole image would show.
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'files', 'hello.txt'), 'hello from the image\n');
  writeFileSync(join(dir, 'files', 'filler.bin'), pattern(16 * 1024 * 1024, 9));
  mkdirSync(join(dir, 'disks'));
  const mkfs = spawnSync('mkfs.ext2', ['-q', '-F', '-b', '4096', '-d', join(dir, 'files'), join(dir, 'disks', 'cd.raw'), '64M'], { encoding: 'utf8' });
  if (mkfs.status !== 0) throw new Error(`mkfs.ext2: ${mkfs.stderr}`);
  const convert = qemuImg('convert', '-O', 'qcow2', join(dir, 'disks', 'cd.raw'), join(dir, 'disks', 'disk.qcow2'));
  if (convert.status !== 0) throw new Error(`qemu-img convert: ${convert.out}`);
  server = await serveWeb({ web: join(root, 'build', 'web'), guest: images.guest, extra: { prefix: '/disks/', dir: join(dir, 'disks') } }, 0,
    (path, range) => { if (path.startsWith('/disks/')) requests.push([path, range]); });
}, STEP_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Click Save disk and read what it downloads. */
async function saveDisk(page: Page): Promise<{ name: string; bytes: Buffer }> {
  const [download]: [Download, void] = await Promise.all([page.waitForEvent('download', { timeout: STEP_MS }), page.getByRole('button', { name: 'Save disk' }).click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

/** The contents of `file` in the ext2 file system of the image `image` (debugfs reads it without mounting). */
function ext2Cat(image: string, file: string): string {
  const r = spawnSync('debugfs', ['-R', `cat ${file}`, image], { encoding: 'utf8' });
  return r.stdout;
}

describe('a disk in the browser', () => {
  itWhen(missing, 'boots with a qcow2 disk and a raw CD read over HTTP, keeps the guest\'s file in the overlay Save disk downloads, and discards it', async () => {
    const page = await browser!.newPage({ viewport: { width: 1024, height: 640 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const image = join(dir, 'disks', 'disk.qcow2');
    await page.goto(`${server!.url}?disk=disks/disk.qcow2&cdrom=disks/cd.raw&append=${encodeURIComponent('console=ttyS0 cryptomgr.notests')}`);
    await untilConsole(page, new RegExp(`wasmpc-guest: userspace[^]*${PROMPT}`), 0, BOOT_MS);
    await expect.poll(() => page.locator('#disks').textContent()).toMatch(/^Disks read on demand: .* fetched\. Changes are kept in this browser \(OPFS\)/);

    let mark = (await consoleText(page)).length;
    await page.evaluate((script) => window.machine.sendText(script), [
      'wait_for() { i=0; while [ ! -b /dev/$1 ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done; }; wait_for vda; wait_for sr0',
      'mkdir -p /mnt/c && mount -t ext2 -o ro /dev/sr0 /mnt/c && echo "cd: $(cat /mnt/c/hello.txt)"; umount /mnt/c',
      'mkdir -p /mnt/d && mount -t ext2 /dev/vda /mnt/d && cat /mnt/d/hello.txt',
      'echo "written in the browser $((6*7))" > /mnt/d/guest.txt; sync; umount /mnt/d && echo "umount-$((1+1))"',
      '',
    ].join('\r'));
    await untilConsole(page, /\ncd: hello from the image\r?\n[^]*\nhello from the image\r?\n[^]*umount-2\r?\n/, mark, 2 * STEP_MS);

    // Lazy: only Range requests, for a small part of each image.
    const imageBytes = statSync(image).size;
    const cdBytes = statSync(join(dir, 'disks', 'cd.raw')).size;
    expect(requests.every(([, r]) => r !== undefined && /^bytes=\d+-\d+$/.test(r))).toBe(true);
    const fetched = (path: string) => requests.filter(([p]) => p === path).reduce((n, [, r]) => { const [a, b] = r!.slice(6).split('-').map(Number); return n + b! - a! + 1; }, 0);
    console.log(`browser disk: ${requests.length} Range requests (${requests.map(([p, r]) => `${p} ${r}`).join(', ')}) fetched ${fetched('/disks/disk.qcow2')} of the qcow2 image's ${imageBytes} bytes and ${fetched('/disks/cd.raw')} of the CD's ${cdBytes}`);
    expect(fetched('/disks/disk.qcow2')).toBeGreaterThan(0);
    expect(fetched('/disks/disk.qcow2')).toBeLessThan(imageBytes / 4);
    expect(fetched('/disks/cd.raw')).toBeGreaterThan(0);
    expect(fetched('/disks/cd.raw')).toBeLessThan(cdBytes / 4);
    const report = (await page.evaluate(() => window.machine.disks()))!;
    expect(report.imageBytes).toBe(imageBytes + cdBytes);
    expect(report.writable).toEqual([new URL('disks/disk.qcow2', server!.url).href]);

    // Save disk: the overlay holds the file's bytes; rebased onto the image it is a disk with the file in it.
    const saved = await saveDisk(page);
    expect(saved.name).toBe('disk-changes.qcow2');
    expect(saved.bytes.subarray(0, 4)).toEqual(Buffer.from('QFI\xfb', 'latin1'));
    expect(saved.bytes.indexOf(WRITTEN)).toBeGreaterThan(0);
    expect(saved.bytes.length).toBeLessThan(imageBytes);
    writeFileSync(join(dir, 'saved.qcow2'), saved.bytes);
    expect(qemuImg('rebase', '-u', '-f', 'qcow2', '-b', image, '-F', 'qcow2', join(dir, 'saved.qcow2')).status).toBe(0);
    expect(qemuImg('convert', '-O', 'raw', join(dir, 'saved.qcow2'), join(dir, 'saved.raw')).status).toBe(0);
    expect(ext2Cat(join(dir, 'saved.raw'), '/guest.txt')).toBe(`${WRITTEN}\n`);
    expect(ext2Cat(join(dir, 'saved.raw'), '/hello.txt')).toBe('hello from the image\n');

    // Discard changes, once confirmed: the machine boots again, and the overlay is empty.
    mark = (await consoleText(page)).length;
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await untilConsole(page, /Linux version/, mark);
    const empty = await saveDisk(page);
    expect(empty.bytes.indexOf(WRITTEN)).toBe(-1);
    expect(errors).toEqual([]);
    await page.close();
  }, TEST_MS);
});
