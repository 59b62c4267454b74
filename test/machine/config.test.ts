// vm.json: what validateConfig() makes of a document, the defaults it adds, and the exact line for each mistake.
import { describe, expect, it } from 'vitest';
import {
  ConfigError, completeSpec, configToJson, mergeSpecs, readConfigSpec, validateConfig,
  type MachineConfig, type MachineSpec,
} from '../../src/machine/config';

const MiB = 1024 * 1024;

function ok(json: unknown): MachineConfig {
  const c = validateConfig(json, 'vm.json');
  if (c instanceof ConfigError) throw new Error(c.message);
  return c;
}

function err(json: unknown): string {
  const c = validateConfig(json, 'vm.json');
  if (!(c instanceof ConfigError)) throw new Error(`accepted: ${JSON.stringify(json)}`);
  return c.message;
}

const DEFAULT_SLOTS = [
  { slot: 0, func: 0, emulation: 'hostbridge' },
  { slot: 1, func: 0, emulation: 'lpc' },
];

describe('validateConfig', () => {
  it('fills an empty document with the defaults: 256M, one CPU, the default guest, COM1 on stdio', () => {
    expect(ok({})).toEqual({
      memoryBytes: 256 * MiB, cpus: 1, kernel: undefined, initrd: undefined, append: undefined, bios: undefined,
      slots: DEFAULT_SLOTS, serial: { com1: { kind: 'stdio' } }, jit: true, jitStats: false, jitCheck: false, debugExit: false, logUd: false, icount: false,
    });
  });

  it('reads every field', () => {
    const c = ok({
      memory: '1G', cpus: 2, kernel: 'bzImage', initrd: 'initrd.img', append: 'console=ttyS0', bios: 'bios.bin',
      slots: [
        { slot: 3, func: 0, emulation: 'virtio-blk', path: 'disk.img', ro: true, snapshot: true },
        { slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp:127.0.0.1:2222-:22', 'tcp::8080-10.0.2.15:80'], restrict: true, mac: '52:54:00:AB:CD:EF' },
        { slot: 5, emulation: 'virtio-net', backend: 'socket', connect: '127.0.0.1:5555' },
        { slot: 5, func: 1, emulation: 'virtio-net', backend: 'tap', ifname: 'tap0' },
        { slot: 6, emulation: 'ahci', ports: [{ type: 'hd', path: 'a.img' }, { type: 'cd', path: 'b.iso' }] },
        { slot: 7, emulation: 'ahci-hd', path: 'c.img' },
        { slot: 8, emulation: 'ahci-cd', path: 'd.iso' },
      ],
      serial: { com1: 'file:guest.log', com2: 'tcp:127.0.0.1:4444', com3: 'null', com4: 'stdio' },
      jit: false, jitStats: true, jitCheck: 'blocks', debugExit: true, logUd: true, icount: true,
    });
    expect(c).toEqual({
      memoryBytes: 1024 * MiB, cpus: 2, kernel: 'bzImage', initrd: 'initrd.img', append: 'console=ttyS0', bios: 'bios.bin',
      slots: [
        ...DEFAULT_SLOTS,
        { slot: 3, func: 0, emulation: 'virtio-blk', path: 'disk.img', ro: true, snapshot: true },
        {
          slot: 4, func: 0, emulation: 'virtio-net', mac: '52:54:00:ab:cd:ef',
          backend: {
            kind: 'user', restrict: true,
            hostfwd: [{ hostPort: 2222, guestAddr: undefined, guestPort: 22 }, { hostPort: 8080, guestAddr: '10.0.2.15', guestPort: 80 }],
          },
        },
        { slot: 5, func: 0, emulation: 'virtio-net', mac: undefined, backend: { kind: 'socket', mode: 'connect', host: '127.0.0.1', port: 5555 } },
        { slot: 5, func: 1, emulation: 'virtio-net', mac: undefined, backend: { kind: 'tap', ifname: 'tap0' } },
        { slot: 6, func: 0, emulation: 'ahci', ports: [{ type: 'hd', path: 'a.img' }, { type: 'cd', path: 'b.iso' }] },
        { slot: 7, func: 0, emulation: 'ahci-hd', path: 'c.img' },
        { slot: 8, func: 0, emulation: 'ahci-cd', path: 'd.iso' },
      ],
      serial: {
        com1: { kind: 'file', path: 'guest.log' }, com2: { kind: 'tcp', host: '127.0.0.1', port: 4444 },
        com3: { kind: 'null' }, com4: { kind: 'stdio' },
      },
      jit: false, jitStats: true, jitCheck: 'blocks', debugExit: true, logUd: true, icount: true,
    });
  });

  it.each([
    ['256M', 256 * MiB], ['256m', 256 * MiB], [256, 256 * MiB], ['256', 256 * MiB], ['1G', 1024 * MiB],
    ['1.5G', 1536 * MiB], ['65536K', 64 * MiB], ['3584M', 3584 * MiB], ['16M', 16 * MiB],
  ])('reads memory %j as %d bytes', (memory, bytes) => {
    expect(ok({ memory }).memoryBytes).toBe(bytes);
  });

  it('sorts slots by slot and function and keeps hostbridge and lpc where the user put them', () => {
    const c = ok({ slots: [{ slot: 9, emulation: 'lpc' }, { slot: 2, func: 1, emulation: 'ahci-cd', path: 'x' }, { slot: 2, emulation: 'hostbridge' }] });
    expect(c.slots.map((s) => `${s.slot}:${s.func} ${s.emulation}`)).toEqual(['2:0 hostbridge', '2:1 ahci-cd', '9:0 lpc']);
  });

  it('connects COM1 to null when another port has stdio', () => {
    expect(ok({ serial: { com3: 'stdio' } }).serial).toEqual({ com1: { kind: 'null' }, com3: { kind: 'stdio' } });
  });

  it.each([
    [[], 'vm.json: must hold a JSON object'],
    [{ memmory: '1G' }, 'vm.json: memmory: is not a field (fields: memory, cpus, kernel, initrd, append, bios, slots, serial, jit, jitStats, jitCheck, debugExit, logUd, icount)'],
    [{ memory: '8M' }, 'vm.json: memory: must be at least 16M'],
    [{ memory: '4G' }, 'vm.json: memory: must be at most 3584M (3.5G): RAM ends below the PCI hole'],
    [{ memory: '3585M' }, 'vm.json: memory: must be at most 3584M (3.5G): RAM ends below the PCI hole'],
    [{ memory: '100001K' }, 'vm.json: memory: must be a multiple of 4K'],
    [{ memory: '1T' }, 'vm.json: memory: must be a size: a number of MiB, or with a K, M or G suffix (256M, 1G)'],
    [{ memory: true }, 'vm.json: memory: must be a size: a number of MiB, or with a K, M or G suffix (256M, 1G)'],
    [{ cpus: 0 }, 'vm.json: cpus: must be 1-16'],
    [{ cpus: 17 }, 'vm.json: cpus: must be 1-16'],
    [{ cpus: 1.5 }, 'vm.json: cpus: must be 1-16'],
    [{ kernel: '' }, 'vm.json: kernel: must be a non-empty string'],
    [{ bios: 3 }, 'vm.json: bios: must be a non-empty string'],
    [{ append: 3 }, 'vm.json: append: must be a string'],
    [{ jit: 'no' }, 'vm.json: jit: must be true or false'],
    [{ initrd: 'initrd.img' }, 'vm.json: an initrd needs a kernel (the default guest brings its own)'],
    [{ slots: {} }, 'vm.json: slots: must be an array'],
    [{ slots: [3] }, 'vm.json: slots[0]: must be an object like {"slot": 3, "emulation": "virtio-blk", "path": "disk.img"}'],
    [{ slots: [{ emulation: 'lpc' }] }, 'vm.json: slots[0].slot: must be 0-31'],
    [{ slots: [{ slot: 0, emulation: 'hostbridge' }, { slot: 1, emulation: 'lpc' }, { slot: 32, emulation: 'ahci-hd', path: 'x' }] },
      'vm.json: slots[2].slot: must be 0-31'],
    [{ slots: [{ slot: '3', emulation: 'lpc' }] }, 'vm.json: slots[0].slot: must be 0-31'],
    [{ slots: [{ slot: 3, func: 8, emulation: 'lpc' }] }, 'vm.json: slots[0].func: must be 0-7'],
    [{ slots: [{ slot: 3, emulation: 'floppy' }] },
      "vm.json: slots[0].emulation: must be one of hostbridge, lpc, virtio-blk, virtio-net, ahci, ahci-hd, ahci-cd (got 'floppy')"],
    [{ slots: [{ slot: 3, emulation: 'virtio-blk', path: 'a' }, { slot: 3, func: 0, emulation: 'ahci-hd', path: 'b' }] },
      'vm.json: slots[1]: 3:0 is already used by slots[0]'],
    [{ slots: [{ slot: 3, emulation: 'virtio-blk' }] }, 'vm.json: slots[0].path: is required'],
    [{ slots: [{ slot: 3, emulation: 'virtio-blk', path: '' }] }, 'vm.json: slots[0].path: must be a non-empty string'],
    [{ slots: [{ slot: 3, emulation: 'virtio-blk', path: 'a', ro: 'yes' }] }, 'vm.json: slots[0].ro: must be true or false'],
    [{ slots: [{ slot: 3, emulation: 'virtio-blk', path: 'a', cache: 'none' }] }, 'vm.json: slots[0].cache: is not an option of virtio-blk'],
    [{ slots: [{ slot: 3, emulation: 'ahci-cd', path: 'a', ro: true }] }, 'vm.json: slots[0].ro: is not an option of ahci-cd'],
    [{ slots: [{ slot: 3, emulation: 'lpc', path: 'a' }] }, 'vm.json: slots[0].path: is not an option of lpc'],
    [{ slots: [{ slot: 3, emulation: 'ahci' }] }, 'vm.json: slots[0].ports: must be a non-empty array like [{"type": "hd", "path": "disk.img"}]'],
    [{ slots: [{ slot: 3, emulation: 'ahci', ports: [{ type: 'hd', path: 'a' }, { type: 'fd', path: 'b' }] }] },
      "vm.json: slots[0].ports[1].type: must be hd or cd (got 'fd')"],
    [{ slots: [{ slot: 3, emulation: 'ahci', ports: [{ type: 'hd' }] }] }, 'vm.json: slots[0].ports[0].path: is required'],
    [{ slots: [{ slot: 3, emulation: 'ahci', ports: [{ type: 'hd', path: 'a', cache: 'none' }] }] },
      'vm.json: slots[0].ports[0].cache: is not a field of an AHCI port (type, path, ro, snapshot, format)'],
    [{ slots: [{ slot: 3, emulation: 'ahci', ports: Array.from({ length: 33 }, () => ({ type: 'hd', path: 'a' })) }] },
      'vm.json: slots[0].ports: must have at most 32 ports'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net' }] }, "vm.json: slots[0].backend: must be user, socket or tap (got 'undefined')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', mac: '52:54:00:12:34' }] },
      "vm.json: slots[0].mac: must be six hex bytes like 52:54:00:12:34:56 (got '52:54:00:12:34')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', mac: '53:54:00:12:34:56' }] },
      "vm.json: slots[0].mac: must be unicast: the low bit of the first byte is set (got '53:54:00:12:34:56')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', mac: '00:00:00:00:00:00' }] },
      'vm.json: slots[0].mac: must not be all zeros'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', ifname: 'tap0' }] },
      'vm.json: slots[0].ifname: is not an option of virtio-net with backend user'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: 'tcp::1-:2' }] },
      'vm.json: slots[0].hostfwd: must be an array like ["tcp:127.0.0.1:2222-:22"]'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp::22-:22', 'tcp:0.0.0.0:23-:23'] }] },
      "vm.json: slots[0].hostfwd[1]: must listen on 127.0.0.1, the loopback address (got '0.0.0.0')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['udp::53-:53'] }] },
      "vm.json: slots[0].hostfwd[0]: must forward tcp, the only protocol here (got 'udp')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp::70000-:22'] }] },
      "vm.json: slots[0].hostfwd[0]: port must be 1-65535 (got 'tcp::70000-:22')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp::22-guest:22'] }] },
      "vm.json: slots[0].hostfwd[0]: has a guest address that is not IPv4 (got 'guest')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['ssh'] }] },
      "vm.json: slots[0].hostfwd[0]: must be tcp:127.0.0.1:HOSTPORT-:GUESTPORT (got 'ssh')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', restrict: 'on' }] }, 'vm.json: slots[0].restrict: must be true or false'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'socket' }] },
      'vm.json: slots[0]: needs either listen=127.0.0.1:PORT or connect=127.0.0.1:PORT'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'socket', listen: '127.0.0.1:1', connect: '127.0.0.1:2' }] },
      'vm.json: slots[0]: needs either listen=127.0.0.1:PORT or connect=127.0.0.1:PORT'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'socket', listen: '0.0.0.0:5555' }] },
      "vm.json: slots[0].listen: must be on 127.0.0.1, the loopback address: nothing authenticates a peer (got '0.0.0.0')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'socket', connect: '5555' }] },
      "vm.json: slots[0].connect: must be 127.0.0.1:PORT (got '5555')"],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'tap' }] }, 'vm.json: slots[0].ifname: is required'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'tap', ifname: 'a-very-long-name0' }] },
      "vm.json: slots[0].ifname: must be an interface name of 1-15 letters, digits, '_', '.' or '-' (got 'a-very-long-name0')"],
    [{ slots: [{ slot: 5, emulation: 'hostbridge' }, { slot: 6, emulation: 'hostbridge' }] },
      'vm.json: hostbridge is at 5:0 and 6:0, but a machine has one'],
    [{ slots: [{ slot: 1, emulation: 'lpc' }, { slot: 2, emulation: 'lpc' }] }, 'vm.json: lpc is at 1:0 and 2:0, but a machine has one'],
    [{ slots: [{ slot: 0, emulation: 'ahci-hd', path: 'a' }] },
      'vm.json: 0:0 holds ahci-hd, where the hostbridge goes unless given a slot of its own'],
    [{ slots: [{ slot: 1, emulation: 'ahci-hd', path: 'a' }] }, 'vm.json: 1:0 holds ahci-hd, where the lpc goes unless given a slot of its own'],
    [{ slots: [{ slot: 3, func: 2, emulation: 'ahci-hd', path: 'a' }] },
      'vm.json: 3:2 (ahci-hd) needs a function at 3:0: PCI finds a device through function 0'],
    [{ slots: [{ slot: 3, emulation: 'virtio-net', backend: 'user', mac: '52:54:00:00:00:01' }, { slot: 4, emulation: 'virtio-net', backend: 'tap', ifname: 't', mac: '52:54:00:00:00:01' }] },
      'vm.json: 3:0 and 4:0 have the same mac 52:54:00:00:00:01'],
    [{ serial: 'stdio' }, 'vm.json: serial: must be an object like {"com1": "stdio"}'],
    [{ serial: { com5: 'stdio' } }, 'vm.json: serial.com5: is not a port (com1-com4)'],
    [{ serial: { com1: 1 } }, 'vm.json: serial.com1: must be a string: stdio, null, file:PATH or tcp:127.0.0.1:PORT'],
    [{ serial: { com1: 'pty' } }, "vm.json: serial.com1: must be stdio, null, file:PATH or tcp:127.0.0.1:PORT (got 'pty')"],
    [{ serial: { com1: 'file:' } }, 'vm.json: serial.com1: must name a file: file:PATH'],
    [{ serial: { com1: 'tcp:localhost:4444' } },
      "vm.json: serial.com1: must be on 127.0.0.1, the loopback address: nothing authenticates a peer (got 'localhost')"],
    [{ serial: { com1: 'tcp:127.0.0.1:0' } }, "vm.json: serial.com1: port must be 1-65535 (got '127.0.0.1:0')"],
    [{ serial: { com1: 'tcp:127.0.0.1' } }, "vm.json: serial.com1: must be tcp:127.0.0.1:PORT (got '127.0.0.1')"],
    [{ serial: { com1: 'stdio', com2: 'stdio' } }, 'vm.json: com1 and com2 use stdio, but only one port can'],
    [{ serial: { com1: 'tcp:127.0.0.1:4444', com2: 'tcp:127.0.0.1:4444' } }, 'vm.json: 127.0.0.1:4444 is used by both com1 and com2'],
    [{ serial: { com1: 'tcp:127.0.0.1:2222' }, slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp::2222-:22'] }] },
      'vm.json: 127.0.0.1:2222 is used by both com1 and 4:0 (hostfwd)'],
    [{ slots: [{ slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp::5555-:22'] }, { slot: 5, emulation: 'virtio-net', backend: 'socket', listen: '127.0.0.1:5555' }] },
      'vm.json: 127.0.0.1:5555 is used by both 4:0 (hostfwd) and 5:0 (socket listen)'],
  ])('refuses %j: %s', (json, message) => {
    expect(err(json)).toBe(message);
  });

  it('names the document "config" when no source is given', () => {
    expect((validateConfig({ cpus: 0 }) as ConfigError).message).toBe('config: cpus: must be 1-16');
  });
});

describe('configToJson', () => {
  it('writes a document that validateConfig reads back into the same machine', () => {
    const config = ok({
      memory: '100004K', cpus: 4, kernel: 'k', initrd: 'i', append: 'quiet', bios: 'b',
      slots: [
        { slot: 3, emulation: 'virtio-blk', path: 'disk.img', snapshot: true },
        { slot: 4, emulation: 'virtio-net', backend: 'user', hostfwd: ['tcp::2222-:22', 'tcp::80-10.0.2.15:8080'], mac: '52:54:00:00:00:02' },
        { slot: 5, emulation: 'virtio-net', backend: 'socket', listen: '127.0.0.1:5555' },
        { slot: 6, emulation: 'virtio-net', backend: 'tap', ifname: 'tap3' },
        { slot: 7, emulation: 'ahci', ports: [{ type: 'cd', path: 'x.iso' }] },
        { slot: 7, func: 1, emulation: 'ahci-hd', path: 'y' },
        { slot: 8, emulation: 'ahci-cd', path: 'z' },
      ],
      serial: { com1: 'tcp:127.0.0.1:4444', com2: 'file:log', com3: 'stdio', com4: 'null' },
      jit: false, logUd: true,
    });
    const json = JSON.parse(JSON.stringify(configToJson(config))) as unknown;
    expect(ok(json)).toEqual(config);
    expect(ok(configToJson(ok({})))).toEqual(ok({}));
  });
});

describe('mergeSpecs', () => {
  const spec = (json: unknown): MachineSpec => readConfigSpec(json) as MachineSpec;

  it('lets the second spec win field by field, slot by slot:func and port by port', () => {
    const file = spec({
      memory: '512M', kernel: 'k', append: 'quiet', jit: false,
      slots: [{ slot: 3, emulation: 'virtio-blk', path: 'a.img' }, { slot: 4, emulation: 'ahci-cd', path: 'b.iso' }],
      serial: { com1: 'stdio', com2: 'null' },
    });
    const flags = spec({
      memory: '1G', append: 'single',
      slots: [{ slot: 3, emulation: 'ahci-hd', path: 'c.img' }],
      serial: { com2: 'file:log' },
    });
    const merged = completeSpec(mergeSpecs(file, flags)) as MachineConfig;
    expect(merged.memoryBytes).toBe(1024 * MiB);
    expect(merged.kernel).toBe('k');
    expect(merged.append).toBe('single');
    expect(merged.jit).toBe(false);
    expect(merged.slots.map((s) => `${s.slot}:${s.func} ${s.emulation}`)).toEqual(['0:0 hostbridge', '1:0 lpc', '3:0 ahci-hd', '4:0 ahci-cd']);
    expect(merged.serial).toEqual({ com1: { kind: 'stdio' }, com2: { kind: 'file', path: 'log' } });
  });

  it('reports errors between fields without a source when none is given', () => {
    expect((completeSpec(spec({ initrd: 'i' })) as ConfigError).message).toBe('an initrd needs a kernel (the default guest brings its own)');
  });
});
