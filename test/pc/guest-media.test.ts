// A CD change through the API while the Debian guest runs, in this process: the guest reads the disc in the
// drive, then the host puts another disc of another size in (pc.cdrom(slot).insert, as a front end's "change
// CD" would), and the guest's sr driver, told by UNIT ATTENTION, finds the new size and reads the new disc;
// last the host takes the disc out (eject) and the guest finds no medium.
import { describe, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { itWhen, missingTool } from '../images/host-tools';
import { loadCoreModule, packageRoot } from '../../src/node/core-module';
import { parseRunArgs } from '../../src/node/args';
import { openDiskImage } from '../../src/node/block-image';
import { NodeScheduler } from '../../src/node/scheduler';
import { hostTime } from '../../src/machine/clock';
import { assemblePc } from '../../src/pc/assemble';
import type { SerialConsole } from '../../src/pc/serial-console';
import type { BlockBackend } from '../../src/block/backend';
import { pattern, tempDir } from '../block/qemu-img';

const images = join(packageRoot(), 'images', 'debian-i686');
const missing = [
  existsSync(join(images, 'vmlinuz')) ? null : 'the Debian guest is missing (npm run images)',
  missingTool('xorriso', 'xorriso'),
];
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// The guest waits for the drive, reports the disc's size (512-byte sectors) and content, asks for the change
// and opens the drive until the size changes (each open lets sr check for media events), reports the new disc,
// asks for the eject and opens the drive until that fails (Linux keeps the last size in sysfs). The markers are computed by the shell, so the kernel's
// echo of its command line never matches them. (No double quotes: the kernel ends the parameter at one.)
const COMMAND = [
  'i=0; while [ ! -b /dev/sr0 ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done',
  's=$(cat /sys/block/sr0/size); echo R: size1 $s $(dd if=/dev/sr0 bs=2048 2>/dev/null | sha256sum)',
  'echo R: change$((1+1))',
  'i=0; while [ $(cat /sys/block/sr0/size) = $s ] && [ $i -lt 60 ]; do sleep 1; true < /dev/sr0; i=$((i+1)); done 2>/dev/null',
  'true < /dev/sr0 2>/dev/null; echo R: size2 $(cat /sys/block/sr0/size) $(dd if=/dev/sr0 bs=2048 2>/dev/null | sha256sum)',
  'echo R: eject$((1+2))',
  'i=0; while true < /dev/sr0 && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done 2>/dev/null',
  "dd if=/dev/sr0 bs=2048 count=1 2>&1 | head -1 | sed 's/^/R: read3 /'",
].join('; ');

/** A serial console that keeps the guest's output and calls `onLine` with each line. */
class CaptureConsole implements SerialConsole {
  text = '';
  private line = '';
  constructor(private readonly onLine: (line: string) => void) {}
  attach(): void {}
  pump(): void {}
  write(byte: number): void {
    const c = String.fromCharCode(byte);
    this.text += c;
    if (c !== '\n') { this.line += c; return; }
    const l = this.line.replace(/\r$/, '');
    this.line = '';
    this.onLine(l);
  }
}

describe('a CD change while the Debian guest runs', () => {
  itWhen(missing, 'is seen by the guest: a new size and new contents after insert(), no medium after eject()', async () => {
    const { dir, cleanup } = tempDir();
    const disks: BlockBackend[] = [];
    try {
      // Two ISO9660 images of different sizes.
      const iso = (name: string, kib: number, seed: number): string => {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'data.bin'), pattern(kib * 1024, seed));
        const path = join(dir, `${name}.iso`);
        const r = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', name.toUpperCase(), '-o', path, join(dir, name)]);
        expect(r.status, String(r.stderr)).toBe(0);
        return path;
      };
      const first = iso('first', 300, 1);
      const second = iso('second', 900, 2);
      const cmd = parseRunArgs(['--append', `console=ttyS0 cryptomgr.notests wasmpc.run="${COMMAND}"`, '-s', `4,ahci-cd,${first}`]);
      if (cmd.kind !== 'run') throw new Error(`parseRunArgs: ${JSON.stringify(cmd)}`);
      const open = async (path: string) => {
        const d = await openDiskImage(path, { readOnly: true });
        disks.push(d);
        return d;
      };
      const actions: Promise<void>[] = [];
      let pc: Awaited<ReturnType<typeof assemblePc>> | undefined;
      const console_ = new CaptureConsole((line) => {
        // Outside the CPU's slice, as a front end's button would.
        if (line === 'R: change2') actions.push(open(second).then((d) => { pc!.cdrom(4)!.insert(d); }));
        if (line === 'R: eject3') actions.push(Promise.resolve().then(() => { expect(pc!.cdrom(4)!.eject(true)).toBe(true); }));
      });
      pc = await assemblePc(cmd.config, {
        kind: 'kernel',
        kernel: new Uint8Array(readFileSync(join(images, 'vmlinuz'))),
        initrd: new Uint8Array(readFileSync(join(images, 'initrd.img'))),
        cmdline: cmd.config.append!,
      }, {
        module: loadCoreModule(),
        time: hostTime,
        scheduler: new NodeScheduler(),
        consoles: { com1: console_ },
        openDisk: (path) => open(path),
      });
      expect(pc.cdrom(4), 'the drive on port 0 of the controller in slot 4').toBeDefined();
      expect(pc.cdrom(4, 1)).toBeUndefined();
      const exit = await pc.run();
      await Promise.all(actions);
      const log = console_.text;
      const tail = log.slice(-3000);
      expect(exit.kind, tail).toBe('poweroff');
      const sectors = (path: string) => readFileSync(path).length / 512;
      expect(log, tail).toContain(`R: size1 ${sectors(first)} ${sha256(readFileSync(first))} -`);
      expect(log, tail).toContain(`R: size2 ${sectors(second)} ${sha256(readFileSync(second))} -`);
      expect(log, tail).toMatch(/R: read3 .*No medium found/);
    } finally {
      await Promise.all(disks.map((d) => d.close()));
      cleanup();
    }
  }, 15 * 60_000);
});
