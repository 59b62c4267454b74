// `wasmpc run` options: what each flag sets, the exact line for each mistake, --config with flags over it,
// and the promise that a machine given as flags equals the same machine given as vm.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunArgs, RUN_HELP } from '../../src/node/args';
import { ConfigError, validateConfig, type MachineConfig } from '../../src/machine/config';

const MiB = 1024 * 1024;
let dir: string;
/** Existing files in the temporary directory, by name. */
const f = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmpc-args-'));
  for (const name of ['vmlinuz', 'initrd.img', 'bios.bin', 'disk.img', 'cd.iso', 'a.img', 'b.img']) writeFileSync(f(name), 'x');
  mkdirSync(f('adir'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...argv: string[]): MachineConfig {
  const r = parseRunArgs(argv);
  if (r.kind !== 'run') throw new Error(r.kind === 'error' ? r.message : 'help');
  return r.config;
}

function usage(...argv: string[]): string {
  const r = parseRunArgs(argv);
  if (r.kind !== 'error') throw new Error(`accepted: ${argv.join(' ')}`);
  return r.message;
}

function writeJson(name: string, json: unknown): string {
  writeFileSync(f(name), JSON.stringify(json));
  return f(name);
}

describe('wasmpc run flags', () => {
  it('with no flags asks for the default guest with the default machine', () => {
    expect(run()).toEqual({
      memoryBytes: 256 * MiB, cpus: 1, kernel: undefined, initrd: undefined, append: undefined, bios: undefined,
      slots: [{ slot: 0, func: 0, emulation: 'hostbridge' }, { slot: 1, func: 0, emulation: 'lpc' }],
      serial: { com1: { kind: 'stdio' } }, jit: true, jitStats: false, jitCheck: false, debugExit: false, logUd: false, icount: false,
    });
  });

  it('reads every flag', () => {
    const c = run(
      '-m', '512M', '-c', '2', '--kernel', f('vmlinuz'), '--initrd', f('initrd.img'), '--append', '-v console=ttyS0',
      '--bios', f('bios.bin'), '-s', `3,virtio-blk,${f('disk.img')},ro,snapshot`, '-s', '4:0,virtio-net,user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp::80-:8080,restrict=on,mac=52:54:00:12:34:56',
      '-s', '5,virtio-net,socket,listen=127.0.0.1:5555', '-s', '6,virtio-net,tap,tap0,mac=52:54:00:12:34:57',
      '-s', `7,ahci,hd:${f('a.img')},cd:${f('cd.iso')}`, '-s', `8,ahci-hd,${f('b.img')}`, '-s', `8:1,ahci-cd,${f('cd.iso')}`,
      '-l', 'com1,null', '-l', 'COM2,stdio', '-l', 'com3,tcp:127.0.0.1:4444', '-l', `com4,file:${f('log')}`,
      '--no-jit', '--jit-stats', '--jit-check-blocks', '--icount', '--debug-exit', '--log-ud',
    );
    expect(c).toEqual({
      memoryBytes: 512 * MiB, cpus: 2, kernel: f('vmlinuz'), initrd: f('initrd.img'), append: '-v console=ttyS0', bios: f('bios.bin'),
      slots: [
        { slot: 0, func: 0, emulation: 'hostbridge' },
        { slot: 1, func: 0, emulation: 'lpc' },
        { slot: 3, func: 0, emulation: 'virtio-blk', path: f('disk.img'), ro: true, snapshot: true },
        {
          slot: 4, func: 0, emulation: 'virtio-net', mac: '52:54:00:12:34:56',
          backend: {
            kind: 'user', restrict: true,
            hostfwd: [{ hostPort: 2222, guestAddr: undefined, guestPort: 22 }, { hostPort: 80, guestAddr: undefined, guestPort: 8080 }],
          },
        },
        { slot: 5, func: 0, emulation: 'virtio-net', mac: undefined, backend: { kind: 'socket', mode: 'listen', host: '127.0.0.1', port: 5555 } },
        { slot: 6, func: 0, emulation: 'virtio-net', mac: '52:54:00:12:34:57', backend: { kind: 'tap', ifname: 'tap0' } },
        { slot: 7, func: 0, emulation: 'ahci', ports: [{ type: 'hd', path: f('a.img') }, { type: 'cd', path: f('cd.iso') }] },
        { slot: 8, func: 0, emulation: 'ahci-hd', path: f('b.img') },
        { slot: 8, func: 1, emulation: 'ahci-cd', path: f('cd.iso') },
      ],
      serial: {
        com1: { kind: 'null' }, com2: { kind: 'stdio' }, com3: { kind: 'tcp', host: '127.0.0.1', port: 4444 },
        com4: { kind: 'file', path: f('log') },
      },
      jit: false, jitStats: true, jitCheck: 'blocks', debugExit: true, logUd: true, icount: true,
    });
  });

  it.each([
    [['-m', '256'], 256 * MiB], [['-m', '1g'], 1024 * MiB], [['-m256M'], 256 * MiB], [['-m', '32768K'], 32 * MiB],
    [['-m', '3.5G'], 3584 * MiB], [['-m', '1G', '-m', '2G'], 2048 * MiB],
  ])('reads %j as %d bytes of RAM', (argv, bytes) => {
    expect(run(...argv).memoryBytes).toBe(bytes);
  });

  it('takes --flag=value and -xVALUE as well as separate values', () => {
    expect(run(`--kernel=${f('vmlinuz')}`, '--append=a=b c', '-c4')).toMatchObject({ kernel: f('vmlinuz'), append: 'a=b c', cpus: 4 });
  });

  it('opens only the last of a repeated --kernel', () => {
    expect(run('--kernel', 'no-such-kernel', '--kernel', f('vmlinuz')).kernel).toBe(f('vmlinuz'));
  });

  it('accepts --append without --kernel (for the default guest)', () => {
    expect(run('--append', 'init=/bin/sh').append).toBe('init=/bin/sh');
  });

  it('answers --help and -h with the help text, which says flags override --config', () => {
    expect(parseRunArgs(['--help'])).toEqual({ kind: 'help', text: RUN_HELP });
    expect(parseRunArgs(['-m', '8M', '-h'])).toMatchObject({ kind: 'error' });
    expect(parseRunArgs(['-h', '-m', '8M'])).toEqual({ kind: 'help', text: RUN_HELP });
    expect(RUN_HELP).toContain('Flags given as well override the file');
  });

  it.each([
    [['--frob'], "wasmpc: unknown option '--frob' (see wasmpc run --help)"],
    [['-x'], "wasmpc: unknown option '-x' (see wasmpc run --help)"],
    [['--frob=1'], "wasmpc: unknown option '--frob=1' (see wasmpc run --help)"],
    [['disk.img'], "wasmpc: unexpected argument 'disk.img' (see wasmpc run --help)"],
    [['-m'], 'wasmpc: -m needs a value (see wasmpc run --help)'],
    [['-m', '8M'], 'wasmpc: -m 8M: must be at least 16M'],
    [['-m', '4G'], 'wasmpc: -m 4G: must be at most 3584M (3.5G): RAM ends below the PCI hole'],
    [['-m', '1000001K'], 'wasmpc: -m 1000001K: must be a multiple of 4K'],
    [['-m', '256MB'], 'wasmpc: -m 256MB: must be a size: a number of MiB, or with a K, M or G suffix (256M, 1G)'],
    [['-c', '0'], 'wasmpc: -c 0: must be 1-16'],
    [['-c', '17'], 'wasmpc: -c 17: must be 1-16'],
    [['-c', 'two'], 'wasmpc: -c two: must be 1-16'],
    [['--kernel', ''], 'wasmpc: --kernel needs a file name'],
    [['--kernel', 'vmlinuz'], 'wasmpc: --kernel vmlinuz: cannot open (ENOENT)'],
    [['--config', 'a.json', '--config', 'b.json'], "wasmpc: --config is given twice ('a.json' and 'b.json')"],
    [['--config', 'no-such-vm.json'], 'wasmpc: --config no-such-vm.json: cannot open (ENOENT)'],
    // -s
    [['-s', 'x,lpc'], "wasmpc: -s x,lpc: malformed slot 'x' (expected SLOT[:FUNC],EMULATION[,CONF], e.g. -s 3,virtio-blk,disk.img)"],
    [['-s', '3:1:0,lpc'], "wasmpc: -s 3:1:0,lpc: malformed slot '3:1:0' (expected SLOT[:FUNC],EMULATION[,CONF], e.g. -s 3,virtio-blk,disk.img)"],
    [['-s', '3'], 'wasmpc: -s 3: missing EMULATION (expected SLOT[:FUNC],EMULATION[,CONF])'],
    [['-s', '32,hostbridge'], 'wasmpc: -s 32,hostbridge: slot must be 0-31'],
    [['-s', '3:8,lpc'], 'wasmpc: -s 3:8,lpc: func must be 0-7'],
    [['-s', '3,floppy'], "wasmpc: -s 3,floppy: unknown emulation 'floppy' (known: hostbridge, lpc, virtio-blk, virtio-net, ahci, ahci-hd, ahci-cd)"],
    [['-s', '3,lpc,fast'], "wasmpc: -s 3,lpc,fast: lpc takes no options (got 'fast')"],
    [['-s', '3,virtio-blk'], 'wasmpc: -s 3,virtio-blk: virtio-blk needs a disk image: -s SLOT,virtio-blk,PATH[,ro][,snapshot]'],
    [['-s', '3,virtio-blk,d.img,nocache'], "wasmpc: -s 3,virtio-blk,d.img,nocache: unknown virtio-blk option 'nocache' (virtio-blk,PATH[,ro][,snapshot])"],
    [['-s', '3,ahci-hd'], 'wasmpc: -s 3,ahci-hd: ahci-hd needs a disk image: -s SLOT,ahci-hd,PATH'],
    [['-s', '3,ahci-cd'], 'wasmpc: -s 3,ahci-cd: ahci-cd needs an ISO image: -s SLOT,ahci-cd,PATH'],
    [['-s', '3,ahci-cd,x.iso,ro'], "wasmpc: -s 3,ahci-cd,x.iso,ro: unknown ahci-cd option 'ro' (ahci-cd,PATH)"],
    [['-s', '3,ahci'], 'wasmpc: -s 3,ahci: ahci needs ports: -s SLOT,ahci,hd:PATH[,cd:PATH]...'],
    [['-s', '3,ahci,hd:a.img,b.img'], "wasmpc: -s 3,ahci,hd:a.img,b.img: ahci port 'b.img' must be hd:PATH or cd:PATH"],
    [['-s', '4,virtio-net'], 'wasmpc: -s 4,virtio-net: virtio-net needs a backend: user, socket or tap'],
    [['-s', '4,virtio-net,vde'], "wasmpc: -s 4,virtio-net,vde: virtio-net backend must be user, socket or tap (got 'vde')"],
    [['-s', '4,virtio-net,user,mac=52:54:00:zz:34:56'],
      "wasmpc: -s 4,virtio-net,user,mac=52:54:00:zz:34:56: mac must be six hex bytes like 52:54:00:12:34:56 (got '52:54:00:zz:34:56')"],
    [['-s', '4,virtio-net,user,mac=ff:ff:ff:ff:ff:ff'],
      "wasmpc: -s 4,virtio-net,user,mac=ff:ff:ff:ff:ff:ff: mac must be unicast: the low bit of the first byte is set (got 'ff:ff:ff:ff:ff:ff')"],
    [['-s', '4,virtio-net,user,restrict=yes'], "wasmpc: -s 4,virtio-net,user,restrict=yes: restrict must be on or off (got 'yes')"],
    [['-s', '4,virtio-net,user,ipv6=off'], "wasmpc: -s 4,virtio-net,user,ipv6=off: unknown virtio-net user option 'ipv6=off' (hostfwd=, restrict=, mac=)"],
    [['-s', '4,virtio-net,user,restrict'], "wasmpc: -s 4,virtio-net,user,restrict: unknown virtio-net user option 'restrict' (hostfwd=, restrict=, mac=)"],
    [['-s', '4,virtio-net,user,hostfwd=tcp:0.0.0.0:2222-:22'],
      "wasmpc: -s 4,virtio-net,user,hostfwd=tcp:0.0.0.0:2222-:22: hostfwd must listen on 127.0.0.1, the loopback address (got '0.0.0.0')"],
    [['-s', '4,virtio-net,socket'], 'wasmpc: -s 4,virtio-net,socket: needs either listen=127.0.0.1:PORT or connect=127.0.0.1:PORT'],
    [['-s', '4,virtio-net,socket,listen=0.0.0.0:5555'],
      "wasmpc: -s 4,virtio-net,socket,listen=0.0.0.0:5555: listen must be on 127.0.0.1, the loopback address: nothing authenticates a peer (got '0.0.0.0')"],
    [['-s', '4,virtio-net,socket,hostfwd=tcp::1-:1'],
      "wasmpc: -s 4,virtio-net,socket,hostfwd=tcp::1-:1: unknown virtio-net socket option 'hostfwd=tcp::1-:1' (listen=, connect=, mac=)"],
    [['-s', '4,virtio-net,tap'], 'wasmpc: -s 4,virtio-net,tap: virtio-net tap needs an interface name: -s SLOT,virtio-net,tap,IFNAME[,mac=MAC]'],
    [['-s', '4,virtio-net,tap,mac=52:54:00:12:34:56'],
      'wasmpc: -s 4,virtio-net,tap,mac=52:54:00:12:34:56: virtio-net tap needs an interface name: -s SLOT,virtio-net,tap,IFNAME[,mac=MAC]'],
    [['-s', '4,virtio-net,tap,tap0,extra'], "wasmpc: -s 4,virtio-net,tap,tap0,extra: unknown virtio-net tap option 'extra' (mac=)"],
    [['-s', '4,virtio-net,tap,tap/0'],
      "wasmpc: -s 4,virtio-net,tap,tap/0: ifname must be an interface name of 1-15 letters, digits, '_', '.' or '-' (got 'tap/0')"],
    [['-s', '4,virtio-net,user', '-s', '4:0,virtio-net,tap,tap0'], 'wasmpc: -s 4:0,virtio-net,tap,tap0: 4:0 is already used by -s 4,virtio-net,user'],
    [['-s', '5,hostbridge', '-s', '6,hostbridge'], 'wasmpc: hostbridge is at 5:0 and 6:0, but a machine has one'],
    [['-s', '5,lpc', '-s', '6,lpc'], 'wasmpc: lpc is at 5:0 and 6:0, but a machine has one'],
    [['-s', '0,virtio-net,user'], 'wasmpc: 0:0 holds virtio-net, where the hostbridge goes unless given a slot of its own'],
    [['-s', '3:1,virtio-net,user'], 'wasmpc: 3:1 (virtio-net) needs a function at 3:0: PCI finds a device through function 0'],
    [['-s', '3,virtio-blk,missing.img'], 'wasmpc: -s 3,virtio-blk,missing.img: cannot open missing.img for writing (ENOENT)'],
    [['-s', '3,virtio-blk,missing.img,ro'], 'wasmpc: -s 3,virtio-blk,missing.img,ro: cannot open missing.img (ENOENT)'],
    [['-s', '3,ahci,hd:missing.img'], 'wasmpc: -s 3,ahci,hd:missing.img: cannot open missing.img for writing (ENOENT)'],
    [['-s', '3,ahci-cd,missing.iso'], 'wasmpc: -s 3,ahci-cd,missing.iso: cannot open missing.iso (ENOENT)'],
    // -l
    [['-l', 'stdio'], 'wasmpc: -l stdio: expected comN,BACKEND, e.g. -l com1,stdio'],
    [['-l', 'com5,stdio'], "wasmpc: -l com5,stdio: the port must be com1-com4 (got 'com5')"],
    [['-l', 'com1,pty'], "wasmpc: -l com1,pty: must be stdio, null, file:PATH or tcp:127.0.0.1:PORT (got 'pty')"],
    [['-l', 'com1,file:'], 'wasmpc: -l com1,file:: must name a file: file:PATH'],
    [['-l', 'com1,tcp:0.0.0.0:4444'],
      "wasmpc: -l com1,tcp:0.0.0.0:4444: must be on 127.0.0.1, the loopback address: nothing authenticates a peer (got '0.0.0.0')"],
    [['-l', 'com1,tcp:127.0.0.1:65536'], "wasmpc: -l com1,tcp:127.0.0.1:65536: port must be 1-65535 (got '127.0.0.1:65536')"],
    [['-l', 'com1,stdio', '-l', 'com1,null'], 'wasmpc: -l com1,null: com1 is already connected by -l com1,stdio'],
    [['-l', 'com1,stdio', '-l', 'com2,stdio'], 'wasmpc: com1 and com2 use stdio, but only one port can'],
    [['-l', 'com1,tcp:127.0.0.1:4444', '-l', 'com2,tcp:127.0.0.1:4444'], 'wasmpc: 127.0.0.1:4444 is used by both com1 and com2'],
    [['-l', 'com1,tcp:127.0.0.1:2222', '-s', '4,virtio-net,user,hostfwd=tcp::2222-:22'],
      'wasmpc: 127.0.0.1:2222 is used by both com1 and 4:0 (hostfwd)'],
    [['-s', '4,virtio-net,user,mac=52:54:00:00:00:01', '-s', '5,virtio-net,user,mac=52:54:00:00:00:01'],
      'wasmpc: 4:0 and 5:0 have the same mac 52:54:00:00:00:01'],
  ])('refuses %j', (argv, message) => {
    expect(usage(...argv)).toBe(message);
  });

  it('refuses an initrd without a kernel, and a missing initrd', () => {
    expect(usage('--initrd', f('initrd.img'))).toBe('wasmpc: an initrd needs a kernel (the default guest brings its own)');
    expect(usage('--kernel', f('vmlinuz'), '--initrd', 'initrd.gz')).toBe('wasmpc: --initrd initrd.gz: cannot open (ENOENT)');
  });

  it('refuses a directory where a file belongs', () => {
    expect(usage('--bios', f('adir'))).toBe(`wasmpc: --bios ${f('adir')}: cannot open (EISDIR)`);
    expect(usage('-s', `3,ahci-cd,${f('adir')}`)).toBe(`wasmpc: -s 3,ahci-cd,${f('adir')}: cannot open ${f('adir')} (EISDIR)`);
  });

  it.skipIf(process.getuid?.() === 0)('opens a disk read-write unless ro or snapshot is given', () => {
    writeFileSync(f('readonly.img'), 'x');
    chmodSync(f('readonly.img'), 0o444);
    expect(usage('-s', `3,virtio-blk,${f('readonly.img')}`)).toBe(
      `wasmpc: -s 3,virtio-blk,${f('readonly.img')}: cannot open ${f('readonly.img')} for writing (EACCES)`);
    expect(run('-s', `3,virtio-blk,${f('readonly.img')},snapshot`).slots).toHaveLength(3);
  });
});

describe('wasmpc run --config', () => {
  it('reads the machine from the file', () => {
    const path = writeJson('vm1.json', { memory: '64M', kernel: f('vmlinuz'), slots: [{ slot: 3, emulation: 'virtio-blk', path: f('disk.img') }] });
    expect(run('--config', path)).toEqual(validateConfig({ memory: 64, kernel: f('vmlinuz'), slots: [{ slot: 3, emulation: 'virtio-blk', path: f('disk.img') }] }));
  });

  it('lets flags override the fields of the file, and -s/-l replace its devices at the same place', () => {
    const path = writeJson('vm2.json', {
      memory: '64M', cpus: 2, kernel: 'gone', append: 'quiet', jit: true,
      slots: [{ slot: 3, emulation: 'virtio-blk', path: 'gone.img' }, { slot: 4, emulation: 'ahci-cd', path: f('cd.iso') }],
      serial: { com1: 'stdio', com2: 'tcp:127.0.0.1:4444' },
    });
    const c = run('--config', path, '-m', '128M', '--kernel', f('vmlinuz'), '--no-jit', '-s', `3,ahci-hd,${f('a.img')}`, '-l', 'com2,null');
    expect(c).toMatchObject({ memoryBytes: 128 * MiB, cpus: 2, kernel: f('vmlinuz'), append: 'quiet', jit: false });
    expect(c.slots.map((s) => `${s.slot}:${s.func} ${s.emulation}`)).toEqual(['0:0 hostbridge', '1:0 lpc', '3:0 ahci-hd', '4:0 ahci-cd']);
    expect(c.serial).toEqual({ com1: { kind: 'stdio' }, com2: { kind: 'null' } });
  });

  it('names the file and the field when the file is wrong', () => {
    const bad = writeJson('bad.json', { slots: [{ slot: 0, emulation: 'hostbridge' }, { slot: 1, emulation: 'lpc' }, { slot: 40, emulation: 'lpc' }] });
    expect(usage('--config', bad)).toBe(`wasmpc: ${bad}: slots[2].slot: must be 0-31`);
    writeFileSync(f('broken.json'), '{"memory": }');
    expect(usage('--config', f('broken.json'))).toMatch(new RegExp(`^wasmpc: ${f('broken.json')}: not valid JSON: `));
  });

  it('checks the files the file names, by their place in it, unless a flag replaced them', () => {
    const path = writeJson('vm3.json', {
      kernel: 'no-such-kernel', slots: [{ slot: 3, emulation: 'ahci', ports: [{ type: 'cd', path: f('cd.iso') }, { type: 'hd', path: 'no.img' }] }],
    });
    expect(usage('--config', path)).toBe(`wasmpc: ${path}: kernel: cannot open no-such-kernel (ENOENT)`);
    expect(usage('--config', path, '--kernel', f('vmlinuz'))).toBe(`wasmpc: ${path}: slots[0].ports[1].path: cannot open no.img for writing (ENOENT)`);
    expect(run('--config', path, '--kernel', f('vmlinuz'), '-s', `3,ahci-cd,${f('cd.iso')}`).slots).toHaveLength(3);
  });

  it('reports errors that only the merge reveals', () => {
    const path = writeJson('vm4.json', { serial: { com1: 'stdio' } });
    expect(usage('--config', path, '-l', 'com2,stdio')).toBe('wasmpc: com1 and com2 use stdio, but only one port can');
  });
});

describe('flags and vm.json', () => {
  it('describe the same machine one to one', () => {
    const flags = [
      '-m', '1536M', '-c', '3', '--kernel', f('vmlinuz'), '--initrd', f('initrd.img'), '--append', 'console=ttyS0 quiet',
      '--bios', f('bios.bin'),
      '-s', '2,hostbridge', '-s', '9,lpc',
      '-s', `3,virtio-blk,${f('disk.img')},snapshot`,
      '-s', '4,virtio-net,user,hostfwd=tcp:127.0.0.1:2222-:22,restrict=on,mac=52:54:00:12:34:56',
      '-s', '5,virtio-net,socket,connect=127.0.0.1:5555',
      '-s', '5:1,virtio-net,tap,tap0',
      '-s', `6,ahci,hd:${f('a.img')},cd:${f('cd.iso')}`,
      '-s', `7,ahci-hd,${f('b.img')}`, '-s', `7:3,ahci-cd,${f('cd.iso')}`,
      '-l', 'com1,file:/tmp/com1.log', '-l', 'com2,tcp:127.0.0.1:4444', '-l', 'com3,stdio', '-l', 'com4,null',
      '--no-jit', '--jit-stats', '--jit-check-blocks', '--icount', '--debug-exit', '--log-ud',
    ];
    const json = {
      memory: '1536M', cpus: 3, kernel: f('vmlinuz'), initrd: f('initrd.img'), append: 'console=ttyS0 quiet', bios: f('bios.bin'),
      slots: [
        { slot: 2, emulation: 'hostbridge' }, { slot: 9, emulation: 'lpc' },
        { slot: 3, func: 0, emulation: 'virtio-blk', path: f('disk.img'), snapshot: true },
        { slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp:127.0.0.1:2222-:22'], restrict: true, mac: '52:54:00:12:34:56' },
        { slot: 5, emulation: 'virtio-net', backend: 'socket', connect: '127.0.0.1:5555' },
        { slot: 5, func: 1, emulation: 'virtio-net', backend: 'tap', ifname: 'tap0' },
        { slot: 6, emulation: 'ahci', ports: [{ type: 'hd', path: f('a.img') }, { type: 'cd', path: f('cd.iso') }] },
        { slot: 7, emulation: 'ahci-hd', path: f('b.img') }, { slot: 7, func: 3, emulation: 'ahci-cd', path: f('cd.iso') },
      ],
      serial: { com1: 'file:/tmp/com1.log', com2: 'tcp:127.0.0.1:4444', com3: 'stdio', com4: 'null' },
      jit: false, jitStats: true, jitCheck: 'blocks', debugExit: true, logUd: true, icount: true,
    };
    const fromFlags = run(...flags);
    const fromJson = validateConfig(json, 'vm.json');
    expect(fromJson).not.toBeInstanceOf(ConfigError);
    expect(fromFlags).toEqual(fromJson);
    expect(run('--config', writeJson('same.json', json))).toEqual(fromFlags);
  });
});
