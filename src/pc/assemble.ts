// A PC built from a MachineConfig, the same on every host: the chipset (src/pc/pc.ts), the consoles on its
// UARTs, and the PCI devices of the config's slots around backends the host opens. The host — `wasmpc run` in
// Node, the browser Worker — reads the boot images, opens the consoles and supplies the openers; nothing here
// touches files, sockets or the DOM.
import { Pc, MAX_RAM, type Boot } from './pc';
import type { SerialConsole } from './serial-console';
import type { HostScheduler } from '../machine/machine';
import type { TimeSource } from '../machine/clock';
import { SERIAL_PORTS, type AhciPort, type DiskImageOptions, type MachineConfig, type NetBackend as NetBackendConfig, type PciSlotConfig, type SerialPortName } from '../machine/config';
import type { BlockBackend } from '../block/backend';
import type { NetBackend } from '../net/backend';
import { parseMac } from '../net/wire';
import { GuestMemory } from '../machine/dma';
import { AhciHba } from '../devices/ahci/hba';
import { AtaDisk, type SataDevice } from '../devices/ahci/ata';
import { AtapiCdrom } from '../devices/ahci/atapi';
import { VirtioBlk } from '../devices/virtio/blk';
import { VirtioNet } from '../devices/virtio/net';
import { VirtioPci } from '../devices/virtio/pci';

/** A configuration this PC or this host cannot run; the message is one line for a person. */
export class AssemblyError extends Error {}

export interface PcHost {
  module: WebAssembly.Module;
  time: TimeSource;
  scheduler: HostScheduler;
  /** The console of each UART in the config (a port without one has a UART whose output goes nowhere). */
  consoles: Partial<Record<SerialPortName, SerialConsole>>;
  /**
   * Open a disk image for a device; `where` names the slot (`-s 3:0,virtio-blk,disk.img`) for the opener's
   * errors. Absent: this host cannot open disks, and a config with one is refused.
   */
  openDisk?(path: string, opts: DiskImageOptions, where: string): Promise<BlockBackend>;
  /** Open and start a NIC's network backend. Absent: this host has no network. */
  openNet?(backend: NetBackendConfig, mac: Uint8Array, where: string): Promise<NetBackend>;
}

/** Refuse what the PC does not model yet. */
export function checkSupported(config: MachineConfig): void {
  if (config.cpus !== 1) throw new AssemblyError(`wasmpc: -c ${config.cpus}: only one vCPU is supported so far`);
  if (config.memoryBytes > MAX_RAM) throw new AssemblyError(`wasmpc: -m: at most ${MAX_RAM >>> 20} MiB of RAM fits below the PCI hole`);
}

/** The PC of `config`, booting `boot`, with its consoles attached and its PCI devices in their slots. */
export async function assemblePc(config: MachineConfig, boot: Boot, host: PcHost): Promise<Pc> {
  checkSupported(config);
  const { scheduler, consoles } = host;
  const pc = new Pc({
    module: host.module,
    memoryBytes: config.memoryBytes,
    time: config.icount ? 'icount' : host.time,
    scheduler,
    boot,
    serialOut: SERIAL_PORTS.map((p) => { const c = consoles[p]; return c ? (b: number) => c.write(b) : undefined; }),
    debugExit: config.debugExit,
    jit: config.jit && config.jitCheck ? { check: config.jitCheck } : config.jit,
  });
  const mem = new GuestMemory(pc.machine.core);
  const wake = () => scheduler.wake();
  const openDisk = (path: string, opts: DiskImageOptions, where: string): Promise<BlockBackend> => {
    if (!host.openDisk) throw new AssemblyError(`wasmpc: ${where}: this host cannot open disk images yet`);
    return host.openDisk(path, opts, where);
  };
  // PCI devices from the slots (the host bridge and the LPC bridge are always there).
  for (const s of config.slots) {
    if (s.emulation !== 'virtio-blk') continue;
    const disk = await openDisk(s.path, s, `-s ${s.slot}:${s.func},virtio-blk,${s.path}`);
    pc.pci.attach(s.slot, s.func, new VirtioPci({ device: new VirtioBlk(disk), mem, wake }), `virtio-blk ${s.path}`);
  }
  // AHCI controllers: one port per disk or CD, in the order given. CDs are read-only; a CD port without a
  // path is an empty drive.
  for (const s of config.slots) {
    const ports = ahciPorts(s);
    if (ports.length === 0) continue;
    const devices: SataDevice[] = [];
    for (const [port, p] of ports.entries()) {
      const where = `-s ${s.slot}:${s.func},${s.emulation},${p.type}:${p.path ?? ''}`;
      if (p.type === 'hd') { devices.push(new AtaDisk(await openDisk(p.path!, p, where))); continue; }
      const cd = new AtapiCdrom(p.path === undefined ? undefined : await openDisk(p.path, { ...p, ro: true }, where));
      pc.addCdrom(s.slot, s.func, port, cd);
      devices.push(cd);
    }
    pc.pci.attach(s.slot, s.func, new AhciHba({ memory: mem, devices, wake }), `ahci ${ports.map((p) => `${p.type}:${p.path ?? ''}`).join(',')}`);
  }
  // virtio-net NICs; without mac=, QEMU's 52:54:00:12:34:56 with the last byte counting up per NIC.
  for (const [i, s] of config.slots.filter((x) => x.emulation === 'virtio-net').entries()) {
    if (s.emulation !== 'virtio-net') continue;
    const mac = parseMac(s.mac ?? `52:54:00:12:34:${(0x56 + i).toString(16)}`)!;
    const where = `-s ${s.slot}:${s.func},virtio-net,${s.backend.kind}`;
    if (!host.openNet) throw new AssemblyError(`wasmpc: ${where}: this host has no network backends yet`);
    const net = await host.openNet(s.backend, mac, where);
    pc.pci.attach(s.slot, s.func, new VirtioPci({ device: new VirtioNet(net, { mac }), mem, wake }), `virtio-net ${s.backend.kind}`);
  }
  SERIAL_PORTS.forEach((p, i) => consoles[p]?.attach(pc.uarts[i]!, wake));
  const all = Object.values(consoles);
  pc.machine.afterSlice.push(() => { for (const c of all) c.pump(); });
  return pc;
}

/** The ports of an ahci, ahci-hd or ahci-cd slot. */
function ahciPorts(s: PciSlotConfig): AhciPort[] {
  if (s.emulation === 'ahci') return s.ports;
  if (s.emulation === 'ahci-hd') return [{ type: 'hd', path: s.path, ro: s.ro, snapshot: s.snapshot, format: s.format }];
  if (s.emulation === 'ahci-cd') return [{ type: 'cd', path: s.path }];
  return [];
}
