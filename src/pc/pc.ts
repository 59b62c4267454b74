// The PC: the machine with its chipset and firmware. An i440FX host bridge and PIIX3 LPC bridge on PCI bus 0,
// the legacy ISA chips behind the LPC (8259A pair, 8254, MC146818, i8042, 16550A UARTs), a local APIC and an
// I/O APIC, ACPI power management, and direct boot of a Linux bzImage or Multiboot kernel through the
// firmware tables in bios/ — or a raw firmware image at the reset vector.
import * as L from '../layout/memory';
import type { IrqLine } from '../devices/device';
import { Machine, type HostScheduler, type MachineExit } from '../machine/machine';
import type { TimeSource } from '../machine/clock';
import type { JitOptions } from '../machine/jit';
import { DualPic8259 } from '../devices/pic8259';
import { Pit8254, SystemControlPortB } from '../devices/pit8254';
import { RtcCmos } from '../devices/rtc-cmos';
import { I8042, Port92 } from '../devices/i8042';
import { Uart16550 } from '../devices/uart16550';
import { PciBus } from '../devices/pci';
import { I440fxHostBridge } from '../devices/pci-hostbridge';
import { Piix3Lpc } from '../devices/pci-lpc';
import { Lapic, LAPIC_BASE, LAPIC_SIZE, DestMode, DeliveryMode } from '../devices/lapic';
import { IoApic } from '../devices/ioapic';
import { InterruptRouter } from '../devices/interrupt-router';
import { AcpiPm, ACPI_PM_BLOCK_LENGTH, SLP_TYP_S5 } from '../devices/acpi-pm';
import { Hpet, HPET_MMIO_SIZE } from '../devices/hpet';
import { HPET_BASE, HPET_ROUTE_PINS } from '../../bios/acpi/platform';
import { DebugExit, DEBUG_EXIT_LENGTH } from '../devices/debug-exit';
import { PostCodePort } from '../devices/debug-port';
import type { AtapiCdrom } from '../devices/ahci/atapi';
import { buildFirmware, type Firmware } from '../../bios';
import { applyEntryState } from './entry';
import { SharedIrq, fanOut } from './irq';

export const IOAPIC_BASE = 0xfec0_0000;
/**
 * The PCI hole starts at 3.5 GiB: the ECAM window (MCFG, bus 0 only) and then the 32-bit PCI MMIO window the
 * host bridge forwards, up to the I/O APIC. RAM of up to 3.5 GiB fits below it, so none goes above 4 GiB.
 */
export const ECAM_BASE = 0xe000_0000;
export const ECAM_BUSES = 1;
export const PCI_MMIO_BASE = 0xe010_0000;
export const PCI_MMIO_SIZE = 0xfec0_0000 - PCI_MMIO_BASE;
/** Largest RAM: everything below the PCI hole. */
export const MAX_RAM = ECAM_BASE;

const COM_BASES = [0x3f8, 0x2f8, 0x3e8, 0x2e8] as const;
const COM_IRQS = [4, 3, 4, 3] as const;
/** Where the PIC-mode PCI links LNKA..LNKD point (bios/acpi/dsdt.ts), level-triggered through the ELCR. */
const PIRQ_IRQS = [10, 10, 11, 11] as const;
const SCI_IRQ = 9;

export type Boot =
  | { kind: 'kernel'; kernel: Uint8Array; initrd?: Uint8Array; cmdline: string }
  | { kind: 'bios'; image: Uint8Array };

export interface PcOptions {
  module: WebAssembly.Module;
  memoryBytes: number;
  /** The host's clock, or 'icount' (see MachineOptions). */
  time: TimeSource | 'icount';
  scheduler: HostScheduler;
  boot: Boot;
  /** Guest output of COM1..COM4 (undefined: the port exists but its output goes nowhere). */
  serialOut: Array<((byte: number) => void) | undefined>;
  /** QEMU's isa-debug-exit at port 0xF4: a guest write ends the run with this status. */
  debugExit?: boolean;
  /** Translate hot guest code to wasm (default true; false: --no-jit; options: --jit-check). */
  jit?: boolean | JitOptions;
}

export class Pc {
  readonly machine: Machine;
  readonly uarts: Uart16550[] = [];
  readonly pic: DualPic8259;
  readonly pit: Pit8254;
  readonly rtc: RtcCmos;
  readonly pci: PciBus;
  readonly lapic: Lapic;
  readonly ioapic: IoApic;
  readonly acpiPm: AcpiPm;
  readonly hpet: Hpet;
  readonly post = new PostCodePort();
  firmware: Firmware | undefined;
  /** The CD drives on AHCI ports, by slot, function and port (see cdrom()). */
  private readonly cdroms = new Map<string, AtapiCdrom>();
  private readonly router = new InterruptRouter();
  private a20Kbd = true;
  private a20Port92 = false;

  constructor(private readonly opts: PcOptions) {
    const romBytes = opts.boot.kind === 'bios' ? romSize(opts.boot.image.length) : 0;
    const m = new Machine({ module: opts.module, memoryBytes: opts.memoryBytes, romBytes, time: opts.time, scheduler: opts.scheduler, jit: opts.jit ?? true });
    this.machine = m;
    const io = m.io;

    // Interrupt controllers: the 8259A pair reaches the CPU through the local APIC's LINT0 (virtual wire).
    const router = this.router;
    let pic!: DualPic8259;
    let ioapic!: IoApic;
    this.lapic = new Lapic({
      id: 0,
      bsp: true,
      clock: m.clock,
      extInt: { acknowledge: () => pic.acknowledge() },
      onIntr: (level) => m.setIntr(level),
      onNmi: () => m.raiseNmi(),
      onEoi: (v) => ioapic.eoi(v),
      sendIpi: (from, ipi) => router.sendIpi(from, ipi),
    });
    pic = new DualPic8259((level) => this.lapic.setLint0(level));
    ioapic = new IoApic((d, dm, mode, v, t) => router.deliver(d, dm, mode, v, t));
    this.pic = pic;
    this.ioapic = ioapic;
    router.attach(this.lapic);
    m.interruptController = this.lapic;
    m.mmio.insert(this.lapic, LAPIC_BASE, LAPIC_SIZE, 'lapic');
    m.mmio.insert(ioapic, IOAPIC_BASE, 0x1000, 'ioapic');
    io.insert(pic.master, 0x20, 2, 'pic-master');
    io.insert(pic.slave, 0xa0, 2, 'pic-slave');
    io.insert(pic.elcr, 0x4d0, 2, 'elcr');

    // ISA IRQ n goes to 8259A input n and to I/O APIC pin n, except IRQ 0 which the MADT overrides to pin 2.
    const isa: SharedIrq[] = [];
    for (let irq = 0; irq < 16; irq++) isa.push(new SharedIrq(fanOut(pic.irqLine(irq), ioapic.irqLine(irq === 0 ? 2 : irq))));
    const isaIrq = (irq: number): IrqLine => isa[irq]!.source();

    this.pit = new Pit8254(m.clock, isaIrq(0));
    io.insert(this.pit, 0x40, 4, 'pit');
    io.insert(new SystemControlPortB(this.pit, m.clock), 0x61, 1, 'port-b');
    this.rtc = new RtcCmos(m.clock, isaIrq(8));
    io.insert(this.rtc, 0x70, 2, 'rtc');
    const kbd = new I8042({
      irq1: isaIrq(1),
      irq12: isaIrq(12),
      onA20: (on) => { this.a20Kbd = on; this.updateA20(); },
      onReset: () => m.requestReset(),
    });
    // The i8042's offsets are relative to 0x60: data at 0, status/command at 4 (0x61 is port B).
    io.insert({ read: (o, s) => kbd.read(o, s), write: (o, s, v) => kbd.write(o, s, v) }, 0x60, 1, 'i8042-data');
    io.insert({ read: (_o, s) => kbd.read(4, s), write: (_o, s, v) => kbd.write(4, s, v) }, 0x64, 1, 'i8042-cmd');
    const port92 = new Port92((on) => { this.a20Port92 = on; this.updateA20(); }, () => m.requestReset());
    io.insert(port92, 0x92, 1, 'port92');

    for (let i = 0; i < 4; i++) {
      const out = opts.serialOut[i];
      const uart = new Uart16550(isaIrq(COM_IRQS[i]!), out ?? (() => {}));
      this.uarts.push(uart);
      io.insert(uart, COM_BASES[i]!, 8, `com${i + 1}`);
    }

    // PCI: host bridge 00:00.0, ISA bridge 00:01.0; PIRQA..D go to I/O APIC pins 16..19 and, as routed by
    // the PIIX3, to the 8259A.
    const lpc = new Piix3Lpc({
      isaIrq: (irq) => isaIrq(irq),
      apicPirq: (p) => ioapic.irqLine(16 + p),
      onReset: () => m.requestReset(),
    });
    this.pci = new PciBus({
      io,
      mmio: m.mmio,
      msiSink: (address, data) => this.msi(address, data),
      pirq: lpc.pirqLines,
      resetControl: lpc.resetControl,
    });
    io.insert(this.pci.configAddress, 0xcf8, 4, 'pci-config-address');
    io.insert(this.pci.configData, 0xcfc, 4, 'pci-config-data');
    m.mmio.insert(this.pci.ecam(ECAM_BUSES), ECAM_BASE, ECAM_BUSES * 0x10_0000, 'pci-ecam');
    this.pci.attach(0, 0, new I440fxHostBridge(), 'i440FX');
    this.pci.attach(1, 0, lpc, 'PIIX3');

    // ACPI power management at 0x600 (the FADT's blocks); S5 powers off.
    this.acpiPm = new AcpiPm(m.clock, isaIrq(SCI_IRQ), (type) => {
      if (type === SLP_TYP_S5) m.requestExit({ kind: 'poweroff' });
    });
    io.insert(this.acpiPm, 0x600, ACPI_PM_BLOCK_LENGTH, 'acpi-pm');
    // The HPET: a clocksource on virtual time (no legacy replacement; its comparators route to pins 20-23).
    this.hpet = new Hpet({ clock: m.clock, ioapicPin: (pin) => ioapic.irqLine(pin), routeCapability: HPET_ROUTE_PINS });
    m.mmio.insert(this.hpet, HPET_BASE, HPET_MMIO_SIZE, 'hpet');
    io.insert(this.post, 0x80, 1, 'post');
    if (opts.debugExit) {
      io.insert(new DebugExit((status) => m.requestExit({ kind: 'debug-exit', status: status & 0xff })), 0xf4, DEBUG_EXIT_LENGTH, 'debug-exit');
    }

    // The x87's FERR# (CR0.NE = 0) drives IRQ 13 (the legacy DOS-compatible path, SDM 8.7).
    const irq13 = isaIrq(13);
    let ferr = false;
    m.afterSlice.push(() => {
      const now = m.core.cpuView().getUint32(L.CPU_FPU_FERR, true) !== 0;
      if (now === ferr) return;
      ferr = now;
      if (now) irq13.raise(); else irq13.lower();
    });

    m.resetHandlers.push(() => this.resetPlatform());
    this.resetPlatform();
  }

  /**
   * The CD drive on AHCI port `port` of the controller at `slot`:`func`, for media changes while the guest
   * runs: `insert(backend)` closes the tray on a new disc, `eject()` takes the disc out (the guest sees UNIT
   * ATTENTION and a media event; src/devices/ahci/atapi.ts). Undefined if that port holds no CD drive.
   */
  cdrom(slot: number, port = 0, func = 0): AtapiCdrom | undefined { return this.cdroms.get(`${slot}.${func}.${port}`); }

  /** Called by assemblePc for each CD drive it attaches. */
  addCdrom(slot: number, func: number, port: number, drive: AtapiCdrom): void { this.cdroms.set(`${slot}.${func}.${port}`, drive); }

  /** Run until power-off or a fatal stop. */
  run(): Promise<MachineExit> { return this.machine.run(); }

  private updateA20(): void {
    const on = this.a20Kbd || this.a20Port92;
    this.machine.core.cpuView().setUint32(L.CPU_A20, on ? 1 : 0, true);
    this.machine.core.invalidateTranslations();
  }

  /** An MSI write to 0xFEEx_xxxx: destination in address bits 19:12, vector and mode in the data (SDM 10.11). */
  private msi(address: number, data: number): void {
    if ((address >>> 20) !== 0xfee) return;
    const dest = (address >>> 12) & 0xff;
    const destMode = (address & 0b100) !== 0 ? DestMode.Logical : DestMode.Physical;
    const mode = ((data >>> 8) & 0b111) as DeliveryMode;
    this.router.deliver(dest, destMode, mode, data & 0xff, (data & 0x8000) !== 0 ? 'level' : 'edge');
  }

  /** Power-on and every reset: chips, chipset programming the firmware would do, then the boot image. */
  private resetPlatform(): void {
    const m = this.machine;
    for (const u of this.uarts) u.reset();
    this.pic.reset();
    this.pit.reset();
    this.rtc.reset();
    this.lapic.reset();
    this.ioapic.reset();
    this.pci.reset();
    this.acpiPm.reset();
    this.hpet.reset();
    this.a20Kbd = true;
    this.a20Port92 = false;
    this.updateA20();
    // What a BIOS leaves behind that the firmware tables describe: PIRQ routing and level triggering for the
    // PCI links and the SCI (PIIX3 PIRQRC at 0x60-0x63; ELCR at 0x4D0/0x4D1).
    for (let p = 0; p < 4; p++) this.pciConfigWrite8(0, 1, 0, 0x60 + p, PIRQ_IRQS[p]!);
    let elcr = 1 << SCI_IRQ;
    for (const irq of PIRQ_IRQS) elcr |= 1 << irq;
    m.io.write(0x4d0, 1, elcr & 0xff);
    m.io.write(0x4d1, 1, elcr >> 8);
    this.rtc.setMemorySize(this.opts.memoryBytes);
    // IA32_APIC_BASE: enabled, BSP, at 0xFEE00000 (the core keeps the MSR; see the note in the closing summary).
    m.core.cpuView().setBigUint64(L.CPU_MSR + 8, BigInt(this.lapic.readBaseMsr() >>> 0), true);
    this.loadBoot();
  }

  private pciConfigWrite8(bus: number, slot: number, fn: number, reg: number, value: number): void {
    const io = this.machine.io;
    io.write(0xcf8, 4, (0x8000_0000 | (bus << 16) | (slot << 11) | (fn << 8) | (reg & 0xfc)) >>> 0);
    io.write(0xcfc + (reg & 3), 1, value);
  }

  private loadBoot(): void {
    const core = this.machine.core;
    const boot = this.opts.boot;
    if (boot.kind === 'bios') {
      // The image ends at 4 GiB; its last 128 KiB are also visible at 0xE0000-0xFFFFF (the legacy BIOS area).
      const rom = core.rom();
      rom.fill(0);
      rom.set(boot.image, rom.length - boot.image.length);
      core.mapRom(2 ** 32 - rom.length, 0, rom.length);
      const low = Math.min(rom.length, 0x20000);
      core.mapRom(0x10_0000 - low, rom.length - low, low);
      return;
    }
    this.firmware = buildFirmware({
      ram: core.ram,
      ramBytes: this.opts.memoryBytes,
      ncpus: 1,
      kernel: boot.kernel,
      ...(boot.initrd ? { initrd: boot.initrd } : {}),
      cmdline: boot.cmdline,
      ecamBase: ECAM_BASE,
      ecamEndBus: ECAM_BUSES - 1,
      pciMmioBase: PCI_MMIO_BASE,
      pciMmioSize: PCI_MMIO_SIZE,
      hpet: true,
    });
    applyEntryState(core, this.firmware.entry);
  }
}

/** The ROM area for a firmware image: a power of two of at least 64 KiB. */
function romSize(bytes: number): number {
  let size = 0x1_0000;
  while (size < bytes) size *= 2;
  return size;
}
