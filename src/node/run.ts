// `wasmpc run`: build the PC from the configuration, connect the serial consoles, and run until the guest
// powers off. Exit status: 0 on power-off, the guest's status through --debug-exit, 1 with a one-line reason
// when the machine stops otherwise, 2 on bad usage or input.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as L from '../layout/memory';
import { parseRunArgs } from './args';
import { openConsoles, ConsoleOpenError, type ConsoleBackend } from './console';
import { packageRoot, loadCoreModule } from './core-module';
import { NodeScheduler } from './scheduler';
import { hostTime } from '../machine/clock';
import { Pc, MAX_RAM, type Boot } from '../pc/pc';
import { formatJitStats } from '../machine/jit';
import { FirmwareError } from '../../bios';
import type { MachineConfig, SerialPortName } from '../machine/config';
import type { BlockBackend } from '../block/backend';
import { openDiskImage } from './block-image';
import type { AhciPort, DiskImageOptions } from '../machine/config';
import { AhciHba } from '../devices/ahci/hba';
import { AtaDisk, type SataDevice } from '../devices/ahci/ata';
import { AtapiCdrom } from '../devices/ahci/atapi';
import { VirtioBlk } from '../devices/virtio/blk';
import { VirtioPci } from '../devices/virtio/pci';
import { GuestMemory } from '../machine/dma';
import { VirtioNet } from '../devices/virtio/net';
import type { NetBackend } from '../net/backend';
import { parseMac } from '../net/wire';
import { openNetBackend } from './net-backends';

const PORTS: readonly SerialPortName[] = ['com1', 'com2', 'com3', 'com4'];
const DEFAULT_APPEND = 'console=ttyS0';

class UsageError extends Error {}

function fail(message: string): never { throw new UsageError(message); }

function readInput(what: string, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    return fail(`wasmpc: ${what} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** The default guest, built by `npm run images` when it is missing. */
function defaultGuest(): { kernel: string; initrd: string } {
  const dir = join(packageRoot(), 'images', 'debian-i686');
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');
  if (!existsSync(kernel) || !existsSync(initrd)) {
    process.stderr.write('wasmpc: the default guest is missing; building it with `npm run images`\n');
    const r = spawnSync(process.execPath, [join(packageRoot(), 'build', 'node', 'images.js')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building the default guest failed (see above)');
  }
  return { kernel, initrd };
}

function bootFrom(config: MachineConfig): Boot {
  if (config.bios !== undefined) return { kind: 'bios', image: readInput('--bios', config.bios) };
  const guest = config.kernel === undefined ? defaultGuest() : undefined;
  const kernelPath = config.kernel ?? guest!.kernel;
  const initrdPath = config.initrd ?? guest?.initrd;
  return {
    kind: 'kernel',
    kernel: readInput('--kernel', kernelPath),
    ...(initrdPath !== undefined ? { initrd: readInput('--initrd', initrdPath) } : {}),
    cmdline: config.append ?? (guest ? DEFAULT_APPEND : ''),
  };
}

function checkSupported(config: MachineConfig): void {
  if (config.cpus !== 1) fail(`wasmpc: -c ${config.cpus}: only one vCPU is supported so far`);
  if (config.memoryBytes > MAX_RAM) fail(`wasmpc: -m: at most ${MAX_RAM >>> 20} MiB of RAM fits below the PCI hole`);
}

/** Open a disk image for a device; a bad image is a usage error naming the -s flag. */
async function openDisk(where: string, path: string, opts: DiskImageOptions, disks: BlockBackend[]): Promise<BlockBackend> {
  let disk: BlockBackend;
  try {
    disk = await openDiskImage(path, { readOnly: opts.ro ?? false, snapshot: opts.snapshot ?? false, ...(opts.format ? { format: opts.format } : {}) });
  } catch (e) {
    return fail(`wasmpc: ${where}: ${(e as Error).message.replace(/^wasmpc: /, '')}`);
  }
  disks.push(disk);
  return disk;
}

/** The ports of an ahci, ahci-hd or ahci-cd slot. */
function ahciPorts(s: MachineConfig['slots'][number]): AhciPort[] {
  if (s.emulation === 'ahci') return s.ports;
  if (s.emulation === 'ahci-hd') return [{ type: 'hd', path: s.path, ro: s.ro, snapshot: s.snapshot, format: s.format }];
  if (s.emulation === 'ahci-cd') return [{ type: 'cd', path: s.path }];
  return [];
}

function logUd(pc: Pc): void {
  const v = pc.machine.core.cpuView();
  const rows: string[] = [];
  for (let i = 0; i < L.CPU_UD_COUNT_LEN; i++) {
    const n = v.getUint32(L.CPU_UD_COUNT + i * 4, true);
    if (!n) continue;
    const what = i < 0x100 ? `opcode ${i.toString(16).padStart(2, '0')}` : i < 0x200 ? `opcode 0f ${(i & 0xff).toString(16).padStart(2, '0')}` : `far transfer through system descriptor type ${i & 0xf}`;
    rows.push(`  ${what}: ${n}`);
  }
  process.stderr.write(rows.length ? `wasmpc: unimplemented instructions raised #UD:\n${rows.join('\n')}\n` : 'wasmpc: no unimplemented instruction was executed\n');
}

export async function runMain(argv: string[]): Promise<number> {
  const cmd = parseRunArgs(argv);
  if (cmd.kind === 'help') { process.stdout.write(cmd.text); return 0; }
  if (cmd.kind === 'error') { process.stderr.write(`${cmd.message}\n`); return 2; }
  const config = cmd.config;
  let consoles: Partial<Record<SerialPortName, ConsoleBackend>> = {};
  const disks: BlockBackend[] = [];
  const nets: NetBackend[] = [];
  let pc: Pc | undefined;
  try {
    checkSupported(config);
    const boot = bootFrom(config);
    const scheduler = new NodeScheduler();
    let quit: (() => void) | undefined;
    consoles = await openConsoles(config.serial, { onQuit: () => quit?.() });
    pc = new Pc({
      module: loadCoreModule(),
      memoryBytes: config.memoryBytes,
      time: hostTime,
      scheduler,
      boot,
      serialOut: PORTS.map((p) => { const c = consoles[p]; return c ? (b: number) => c.write(b) : undefined; }),
      debugExit: config.debugExit,
      jit: config.jit,
    });
    const machine = pc.machine;
    quit = () => machine.requestExit({ kind: 'stopped' });
    // PCI devices from -s (the host bridge and the LPC bridge are always there).
    const mem = new GuestMemory(machine.core);
    for (const s of config.slots) {
      if (s.emulation !== 'virtio-blk') continue;
      const disk = await openDisk(`-s ${s.slot}:${s.func},virtio-blk,${s.path}`, s.path, s, disks);
      pc.pci.attach(s.slot, s.func, new VirtioPci({ device: new VirtioBlk(disk), mem, wake: () => scheduler.wake() }), `virtio-blk ${s.path}`);
    }
    // AHCI controllers: one port per disk or CD, in the order given. CDs are read-only; a CD port without a
    // path is an empty drive.
    for (const s of config.slots) {
      const ports = ahciPorts(s);
      if (ports.length === 0) continue;
      const devices: SataDevice[] = [];
      for (const p of ports) {
        const where = `-s ${s.slot}:${s.func},${s.emulation},${p.type}:${p.path ?? ''}`;
        if (p.type === 'hd') devices.push(new AtaDisk(await openDisk(where, p.path!, p, disks)));
        else devices.push(new AtapiCdrom(p.path === undefined ? undefined : await openDisk(where, p.path, { ...p, ro: true }, disks)));
      }
      pc.pci.attach(s.slot, s.func, new AhciHba({ memory: mem, devices, wake: () => scheduler.wake() }), `ahci ${ports.map((p) => `${p.type}:${p.path ?? ''}`).join(',')}`);
    }
    // virtio-net NICs; without mac=, QEMU's 52:54:00:12:34:56 with the last byte counting up per NIC.
    for (const [i, s] of config.slots.filter((x) => x.emulation === 'virtio-net').entries()) {
      if (s.emulation !== 'virtio-net') continue;
      const mac = parseMac(s.mac ?? `52:54:00:12:34:${(0x56 + i).toString(16)}`)!;
      const where = `-s ${s.slot}:${s.func},virtio-net,${s.backend.kind}`;
      let net: NetBackend;
      try {
        net = await openNetBackend(s.backend, { mac, log: (m) => process.stderr.write(`wasmpc: ${where}: ${m}\n`) });
      } catch (e) {
        return fail(`wasmpc: ${where}: ${(e as Error).message}`);
      }
      nets.push(net);
      pc.pci.attach(s.slot, s.func, new VirtioPci({ device: new VirtioNet(net, { mac }), mem, wake: () => scheduler.wake() }), `virtio-net ${s.backend.kind}`);
    }
    PORTS.forEach((p, i) => consoles[p]?.attach(pc!.uarts[i]!, () => scheduler.wake()));
    const all = Object.values(consoles);
    machine.afterSlice.push(() => { for (const c of all) c.pump(); });
    process.once('SIGTERM', () => machine.requestExit({ kind: 'stopped' }));
    const exit = await pc.run();
    if (config.logUd) logUd(pc);
    if (config.jitStats) {
      const total = pc.machine.core.cpuView().getBigUint64(L.CPU_INSN_COUNT, true);
      process.stderr.write(`${formatJitStats(pc.machine.core.jit.getStats(), total)}\n`);
    }
    switch (exit.kind) {
      case 'poweroff': return 0;
      case 'debug-exit': return exit.status;
      case 'stopped': return 0;
      case 'shutdown':
        process.stderr.write(`\nwasmpc: the machine stopped: ${exit.reason}\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConsoleOpenError) { process.stderr.write(`${e.message}\n`); return 2; }
    if (e instanceof FirmwareError) { process.stderr.write(`wasmpc: ${e.message}\n`); return 2; }
    throw e;
  } finally {
    await Promise.all(Object.values(consoles).map((c) => c.close()));
    await Promise.all(disks.map((d) => d.close()));
    await Promise.all(nets.map((n) => n.close()));
  }
}
