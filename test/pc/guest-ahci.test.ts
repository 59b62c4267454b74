// The Debian i686 guest on wasmpc's AHCI controller and on qcow2 disks, in one boot (the interpreter takes
// minutes per boot): `-s 4,ahci,hd:disk.img,cd:image.iso,hd:overlay.qcow2` plus two virtio-blk disks, a qcow2
// overlay and a snapshot. The guest finds the disks and the CD on one controller (lsscsi, sysfs), mounts the
// ISO9660 image xorriso built and checks a file's sha256, writes files to ext2 file systems on a raw SATA disk
// and on a qcow2 overlay of a raw base (qemu-img create -f qcow2 -b base.raw -F raw), writes raw bytes to a
// qcow2 overlay on virtio-blk and to a snapshot disk, syncs and powers off. The host then reads the files back
// with debugfs, checks the overlays with qemu-img, and finds the base and the snapshot's file unchanged.
import { describe, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itWhen, missingTool } from '../images/host-tools';
import { packageRoot } from '../../src/node/core-module';
import { expectClean, noQemuImg, pattern, qemuImg, tempDir } from '../block/qemu-img';

// The kernel's crypto self-tests are most of a boot's instructions; boot-debian.test.ts runs them (and checks
// they pass), so this device test skips them to boot in a third of the time.
const SKIP_CRYPTO_SELF_TESTS = 'cryptomgr.notests';

const root = packageRoot();
const cli = join(root, 'build', 'node', 'wasmpc.js');
const images = join(root, 'images', 'debian-i686');
const missing = [
  existsSync(join(images, 'vmlinuz')) ? null : 'the Debian guest is missing (npm run images)',
  existsSync(cli) ? null : 'build/node/wasmpc.js is missing (npm run build)',
  missingTool('xorriso', 'xorriso'),
  noQemuImg,
  missingTool('mke2fs', 'e2fsprogs'),
];

const MiB = 1 << 20;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** An ext2 file system of `mib` MiB in `path`, holding `files` (name -> content). */
function ext2(dir: string, path: string, mib: number, files: Record<string, string>): void {
  const content = join(dir, `root-${Math.random().toString(36).slice(2)}`);
  mkdirSync(content);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(content, name), text);
  writeFileSync(path, new Uint8Array(mib * MiB));
  run('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '1024', '-d', content, path]);
}

/** `debugfs -R 'cat /NAME'` of an ext2 image, or what went wrong (the checks after the boot do not throw). */
function debugfsCat(image: string, name: string): string {
  const r = spawnSync('debugfs', ['-R', `cat /${name}`, image], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : `debugfs failed: ${r.stderr}`;
}

/** qemu-img check's complaint, or '' when the image is clean. */
function checkProblems(file: string): string {
  try {
    expectClean(file);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

/** The guest-visible bytes of a qcow2 image, flattened by qemu-img (empty if that fails). */
function flatten(dir: string, file: string, out: string): Buffer {
  return qemuImg('convert', '-O', 'raw', join(dir, file), join(dir, out)).status === 0 ? readFileSync(join(dir, out)) : Buffer.alloc(0);
}

// The guest's script, on the CD. Disks are told apart by size, since SCSI scanning is asynchronous.
const GUEST_SCRIPT = `
wait_for() { i=0; while [ ! -b /dev/$1 ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done; }
for d in sda sdb vda vdb; do wait_for $d; done
echo "R: lsscsi-begin"; lsscsi; echo "R: lsscsi-end"
for d in sda sdb sr0; do echo "R: sysfs $d $(readlink -f /sys/block/$d)"; done
for d in sda sdb; do
	case $(cat /sys/block/$d/size) in 32768) RAW=$d ;; 49152) QCOW=$d ;; esac
done
for d in vda vdb; do
	case $(cat /sys/block/$d/size) in 49152) VQCOW=$d ;; 16384) SNAP=$d ;; esac
done
echo "R: disks raw=$RAW qcow=$QCOW vqcow=$VQCOW snap=$SNAP"
echo "R: cd-sha $(sha256sum /mnt/cd/payload.bin)"
mkdir -p /mnt/raw /mnt/qcow
mount -t ext2 /dev/$RAW /mnt/raw && echo "R: raw-base $(cat /mnt/raw/hello.txt)"
echo "written by the guest on sata $((40+2))" > /mnt/raw/guest.txt
cp /mnt/cd/payload.bin /mnt/raw/payload.bin
sync; umount /mnt/raw && echo "R: raw-umount ok"
mount -t ext2 /dev/$QCOW /mnt/qcow && echo "R: qcow-base $(cat /mnt/qcow/base.txt)"
echo "written by the guest on qcow2 $((40+3))" > /mnt/qcow/guest.txt
sync; umount /mnt/qcow && echo "R: qcow-umount ok"
dd if=/mnt/cd/payload.bin of=/dev/$VQCOW bs=4096 seek=256 conv=fsync 2>/dev/null && echo "R: vqcow-dd ok"
dd if=/mnt/cd/payload.bin of=/dev/$SNAP bs=4096 conv=fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
echo "R: snap-sha $(dd if=/dev/$SNAP bs=4096 count=$(( $(wc -c < /mnt/cd/payload.bin) / 4096 )) 2>/dev/null | sha256sum)"
# eject from the guest: Linux's sr driver sends START STOP UNIT (LoEj) for the CDROMEJECT ioctl. The next open
# finds the tray open (GET EVENT STATUS NOTIFICATION: Door Open) and closes it (the driver's autoclose: START
# STOP UNIT with LoEj and Start), whose UNIT ATTENTION the driver takes for a media change and refuses reads of
# that open until the one after (as with a real drive); then the disc reads as before.
umount /mnt/cd && echo "R: cd-umount ok"
eject /dev/sr0 && echo "R: eject ok"
true < /dev/sr0
echo "R: cd-again-sha $(dd if=/dev/sr0 bs=2048 2>/dev/null | sha256sum)"
echo "R: guest-end $((7*6))"
`;


function boot(dir: string, args: string[], timeoutMs: number): Promise<{ status: number | null; out: string }> {
  // Wait for the CD, mount it and run its script (from /tmp: the CD is unmounted at the end): the kernel command
// line stays short.
  const command = 'i=0; while [ ! -b /dev/sr0 ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done; ' +
    'mkdir -p /mnt/cd; mount -t iso9660 -o ro /dev/sr0 /mnt/cd && cp /mnt/cd/run.sh /tmp && sh /tmp/run.sh';
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'run', '--append', `console=ttyS0 ${SKIP_CRYPTO_SELF_TESTS} wasmpc.run="${command}"`, ...args], {
      cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, out }); });
  });
}

describe('the Debian guest on AHCI and qcow2 disks', () => {
  itWhen(missing, 'sees the SATA disks and the CD on one controller, reads the CD, and its writes reach the images', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const payload = pattern(256 * 1024, 42);
      mkdirSync(join(dir, 'iso'));
      writeFileSync(join(dir, 'iso', 'payload.bin'), payload);
      writeFileSync(join(dir, 'iso', 'run.sh'), GUEST_SCRIPT);
      run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', 'WASMPC', '-o', join(dir, 'image.iso'), join(dir, 'iso')]);
      ext2(dir, join(dir, 'disk.img'), 16, { 'hello.txt': 'on the raw disk\n' });
      ext2(dir, join(dir, 'base.raw'), 24, { 'base.txt': 'from the raw base\n' });
      const baseSha = sha256(readFileSync(join(dir, 'base.raw')));
      for (const ov of ['overlay.qcow2', 'voverlay.qcow2']) {
        expect(qemuImg('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', join(dir, ov)).status).toBe(0);
      }
      writeFileSync(join(dir, 'snap.raw'), new Uint8Array(8 * MiB).fill(0x5a));
      const snapSha = sha256(readFileSync(join(dir, 'snap.raw')));

      const r = await boot(dir, [
        '-s', '4,ahci,hd:disk.img,cd:image.iso,hd:overlay.qcow2',
        '-s', '5,virtio-blk,voverlay.qcow2',
        '-s', '6,virtio-blk,snap.raw,snapshot',
      ], 30 * 60_000);
      const log = r.out;
      // The whole serial log stays for a person to read when something below fails.
      const logFile = join(tmpdir(), 'wasmpc-guest-ahci.log');
      writeFileSync(logFile, log);
      const tail = `${log.slice(-4000)}\n(the whole log: ${logFile})`;
      expect(log, tail).toContain('wasmpc-guest: userspace');
      expect(log, tail).toContain('R: guest-end 42');
      expect(r.status, tail).toBe(0);

      // lsscsi: two ATA disks and the CD; sysfs: all three under the one AHCI function at 00:04.0.
      const lsscsi = /R: lsscsi-begin([\s\S]*?)R: lsscsi-end/.exec(log)?.[1] ?? '';
      expect.soft(lsscsi.match(/disk\s+ATA\s+WASMPC HARDDISK/g), lsscsi).toHaveLength(2);
      // busybox's lsscsi names SCSI type 5 (MMC) only by its number.
      expect.soft(lsscsi, lsscsi).toMatch(/\[\d+:0:0:0\]\s+(?:cd\/dvd|\(5\))\s+WASMPC\s+WASMPC DVD-ROM/);
      for (const d of ['sda', 'sdb', 'sr0']) expect.soft(log).toMatch(new RegExp(`R: sysfs ${d} /sys/devices/pci0000:00/0000:00:04\\.0/ata\\d+/`));
      expect.soft(log).toMatch(/R: disks raw=sd[ab] qcow=sd[ab] vqcow=vd[ab] snap=vd[ab]/);

      // The CD's file, as the guest read it; the tray opened by the guest's eject, and closed again by its next
      // open, with the same disc readable.
      expect.soft(log).toContain(`R: cd-sha ${sha256(payload)}`);
      expect.soft(log).toContain('R: cd-umount ok');
      expect.soft(log).toContain('R: eject ok');
      expect.soft(log).toContain(`R: cd-again-sha ${sha256(readFileSync(join(dir, 'image.iso')))}`);
      // The raw SATA disk: the guest read the host's file and wrote its own, which the host now reads.
      expect.soft(log).toContain('R: raw-base on the raw disk');
      expect.soft(log).toContain('R: raw-umount ok');
      expect.soft(debugfsCat(join(dir, 'disk.img'), 'guest.txt')).toBe('written by the guest on sata 42\n');
      const copy = spawnSync('debugfs', ['-R', 'cat /payload.bin', join(dir, 'disk.img')], { maxBuffer: 4 * MiB });
      expect.soft(sha256(copy.stdout)).toBe(sha256(payload));

      // The qcow2 overlay on AHCI: clean, with the guest's file in it and the base's below it; the base untouched.
      expect.soft(log).toContain('R: qcow-base from the raw base');
      expect.soft(log).toContain('R: qcow-umount ok');
      expect.soft(checkProblems(join(dir, 'overlay.qcow2'))).toBe('');
      expect.soft(flatten(dir, 'overlay.qcow2', 'flat.raw').length).toBe(24 * MiB);
      expect.soft(debugfsCat(join(dir, 'flat.raw'), 'guest.txt')).toBe('written by the guest on qcow2 43\n');
      expect.soft(debugfsCat(join(dir, 'flat.raw'), 'base.txt')).toBe('from the raw base\n');
      expect.soft(sha256(readFileSync(join(dir, 'base.raw')))).toBe(baseSha);

      // The qcow2 overlay on virtio-blk: the bytes the guest wrote at 1 MiB, the base elsewhere.
      expect.soft(log).toContain('R: vqcow-dd ok');
      expect.soft(checkProblems(join(dir, 'voverlay.qcow2'))).toBe('');
      const vflat = flatten(dir, 'voverlay.qcow2', 'vflat.raw');
      expect.soft(sha256(vflat.subarray(MiB, MiB + payload.length))).toBe(sha256(payload));
      const base = readFileSync(join(dir, 'base.raw'));
      expect.soft(vflat.subarray(0, MiB).equals(base.subarray(0, MiB))).toBe(true);

      // The snapshot disk: the guest read back what it wrote; the file is as it was.
      expect.soft(log).toContain(`R: snap-sha ${sha256(payload)}`);
      expect.soft(sha256(readFileSync(join(dir, 'snap.raw')))).toBe(snapSha);
    } finally {
      cleanup();
    }
  }, 31 * 60_000);
});
