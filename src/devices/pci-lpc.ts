// Function 0 of the Intel 82371SB PIIX3 at 00:01.0: the PCI-to-ISA bridge of QEMU's `-M pc` (PIIX3 data
// sheet, order 290550, "PCI to ISA/EIDE Bridge Configuration Registers (Function 0)"), and its Reset Control
// register at I/O 0xCF9.
//
// What the chipset does with interrupts: PCI INTx# lines are wired-ORed onto PIRQA#..PIRQD# (the PCI core
// applies the slot swizzle), and the PIRQ Route Control registers PIRQRC[A:D] (60h-63h) steer each PIRQ to
// one ISA IRQ of the 8259 pair (which must be level-triggered in the ELCR, a register of the PIC model). Here
// the bridge drives that ISA IRQ line through `isaIrq(irq)`, and optionally an IOAPIC input per PIRQ.
// The other registers (ISA clock, X-bus chip select, top of memory, APIC base, SMI control) are stored.
import type { AccessSize, IoDevice, IrqLine } from './device';
import type { PciFunction } from './pci';
import { CMD_BUS_MASTER, CMD_IO, CMD_MEM, PCI_HEADER_END, PciConfig, PciReg, STS_DEVSEL_MEDIUM } from './pci-config';

export const PIIX3_VENDOR_ID = 0x8086;
export const PIIX3_DEVICE_ID = 0x7000;
/** Base class 06 (bridge), subclass 01 (ISA bridge). */
export const PIIX3_CLASS = 0x06_01_00;

/** Function 0 registers with power-on values other than 0 (data sheet register summary; as QEMU's piix3_reset). */
export const enum Piix3Reg {
  /** ISA I/O Recovery Timer, default 4Dh. */
  Iort = 0x4c,
  /** X-Bus Chip Select Enable, default 03h (BIOS and keyboard controller decode). */
  Xbcs = 0x4e,
  /** PIRQ Route Control PIRQRC[A:D], one byte each, default 80h (routing disabled). */
  PirqRouteA = 0x60,
  /** Top of Memory, default 02h. */
  Tom = 0x69,
  /** Motherboard Device IRQ Route Control 0 and 1, default 80h. */
  Mbirq0 = 0x70,
  Mbirq1 = 0x71,
  /** Motherboard Device DMA Control 0 and 1, default 0Ch. */
  Mbdma0 = 0x76,
  Mbdma1 = 0x77,
  /** Programmable Chip Select Control, default 0002h. */
  Pcsc = 0x78,
  /** APIC Base Address Relocation. */
  ApicBase = 0x80,
  /** SMI Control, default 08h. */
  Smicntl = 0xa0,
  /** Fast Off Timer, default 0Fh. */
  Ftmr = 0xa8,
}

export const PIRQ_COUNT = 4;
// PIRQRC[A:D]: bit 7 IRQROUTEN (1 = not routed), bits 6:4 reserved, bits 3:0 IRQROUTE.
export const PIRQRC_DISABLE = 0b1000_0000;
const PIRQRC_IRQ_MASK = 0b0000_1111;
const PIRQRC_WRITABLE = PIRQRC_DISABLE | PIRQRC_IRQ_MASK;
/** IRQROUTE values that name an IRQ; 0-2, 8 and 13 are reserved (IRQ0/1/2/8/13 are on-board functions). */
const PIRQ_ROUTABLE_IRQS = 0b1101_1110_1111_1000;

const POWER_ON: ReadonlyArray<readonly [number, number]> = [
  [Piix3Reg.Iort, 0x4d], [Piix3Reg.Xbcs, 0x03],
  [Piix3Reg.PirqRouteA, PIRQRC_DISABLE], [Piix3Reg.PirqRouteA + 1, PIRQRC_DISABLE],
  [Piix3Reg.PirqRouteA + 2, PIRQRC_DISABLE], [Piix3Reg.PirqRouteA + 3, PIRQRC_DISABLE],
  [Piix3Reg.Tom, 0x02], [Piix3Reg.Mbirq0, 0x80], [Piix3Reg.Mbirq1, 0x80],
  [Piix3Reg.Mbdma0, 0x0c], [Piix3Reg.Mbdma1, 0x0c], [Piix3Reg.Pcsc, 0x02],
  [Piix3Reg.Smicntl, 0x08], [Piix3Reg.Ftmr, 0x0f],
];

/** The ISA IRQ a PIRQRC value routes to, or undefined when routing is off or the value is reserved. */
export function pirqRouteTarget(value: number): number | undefined {
  if (value & PIRQRC_DISABLE) return undefined;
  const irq = value & PIRQRC_IRQ_MASK;
  return (PIRQ_ROUTABLE_IRQS >>> irq) & 1 ? irq : undefined;
}

export interface Piix3Wiring {
  /** ISA IRQ `irq` (3..15): the 8259 input (and whatever else the machine ties to that IRQ). */
  isaIrq: (irq: number) => IrqLine;
  /** A line asserted whenever PIRQ `pirq` is, whatever the routing: e.g. IOAPIC inputs 16..19. */
  apicPirq?: (pirq: number) => IrqLine | undefined;
  /** PIRQRC of `pirq` changed its target (undefined: not routed). */
  onPirqRoute?: (pirq: number, irq: number | undefined) => void;
  /** The Reset Control register at 0xCF9 asked for a reset: hard (SRST = 1) or soft (CPU INIT). */
  onReset: (hard: boolean) => void;
}

// Reset Control register (PIIX3 data sheet "RC—Reset Control Register", I/O address CF9h).
/** System Reset: with RCPU, a hard reset (PCIRST# and CPURST) instead of a soft reset (INIT). */
export const RC_SRST = 0b0000_0010;
/** Reset CPU: writing 1 starts the reset selected by SRST. */
export const RC_RCPU = 0b0000_0100;

/**
 * The one-byte register at 0xCF9. It sits inside the CONFIG_ADDRESS dword, so the PCI core forwards byte
 * accesses to it (pass the device as PciBusOptions.resetControl). Like QEMU, only SRST is kept; any write
 * with RCPU set requests the reset (Linux's reboot=pci writes 02h then 06h).
 */
export class Piix3ResetControl implements IoDevice {
  private value = 0;

  constructor(private readonly onReset: (hard: boolean) => void) {}

  reset(): void {
    this.value = 0;
  }

  read(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= (offset + i === 0 ? this.value : 0xff) << (8 * i);
    return v >>> 0;
  }

  write(offset: number, _size: AccessSize, value: number): void {
    if (offset !== 0) return;
    this.value = value & RC_SRST;
    if (value & RC_RCPU) this.onReset((value & RC_SRST) !== 0);
  }
}

export class Piix3Lpc implements PciFunction {
  readonly config: PciConfig;
  readonly resetControl: Piix3ResetControl;
  /** PIRQA#..PIRQD#: give these to the PCI core (PciBusOptions.pirq). */
  readonly pirqLines: readonly IrqLine[];
  private readonly level = new Array<boolean>(PIRQ_COUNT).fill(false);
  private readonly route = new Array<number | undefined>(PIRQ_COUNT).fill(undefined);
  /** How many asserted PIRQs drive each ISA IRQ: the route makes them share it (wired-OR). */
  private readonly isaDrivers = new Array<number>(16).fill(0);

  constructor(private readonly wiring: Piix3Wiring) {
    const c = new PciConfig({ vendorId: PIIX3_VENDOR_ID, deviceId: PIIX3_DEVICE_ID, classCode: PIIX3_CLASS });
    // PCICMD default 0007h: the bridge decodes I/O and memory and masters the ISA DMA; PCISTS 0200h.
    c.set16(PciReg.Command, CMD_IO | CMD_MEM | CMD_BUS_MASTER);
    c.set16(PciReg.Status, STS_DEVSEL_MEDIUM);
    c.setWritable(PCI_HEADER_END, 0x100 - PCI_HEADER_END);
    for (const [reg, value] of POWER_ON) c.set8(reg, value);
    for (let p = 0; p < PIRQ_COUNT; p++) c.setWritable(Piix3Reg.PirqRouteA + p, 1, PIRQRC_WRITABLE);
    this.config = c;
    this.resetControl = new Piix3ResetControl(wiring.onReset);
    this.pirqLines = Array.from({ length: PIRQ_COUNT }, (_, p): IrqLine => ({
      raise: () => this.setPirq(p, true),
      lower: () => this.setPirq(p, false),
    }));
  }

  /** No BARs: the ISA side is decoded subtractively. */
  barRead(): number { return 0xffff_ffff; }
  barWrite(): void {}

  /** The core restored config space (routing disabled); the PIRQ inputs keep their levels. */
  reset(): void {
    this.resetControl.reset();
    this.updateRoutes();
  }

  configWritten(offset: number, size: AccessSize): void {
    if (offset < Piix3Reg.PirqRouteA + PIRQ_COUNT && Piix3Reg.PirqRouteA < offset + size) this.updateRoutes();
  }

  /** Where PIRQ `pirq` goes now (undefined: nowhere on the 8259s). */
  routeOf(pirq: number): number | undefined {
    return this.route[pirq];
  }

  private setPirq(pirq: number, level: boolean): void {
    if (this.level[pirq] === level) return;
    this.level[pirq] = level;
    const apic = this.wiring.apicPirq?.(pirq);
    if (level) apic?.raise();
    else apic?.lower();
    const irq = this.route[pirq];
    if (irq !== undefined) this.drive(irq, level);
  }

  private updateRoutes(): void {
    for (let p = 0; p < PIRQ_COUNT; p++) {
      const next = pirqRouteTarget(this.config.get8(Piix3Reg.PirqRouteA + p));
      const prev = this.route[p];
      if (next === prev) continue;
      if (this.level[p] && prev !== undefined) this.drive(prev, false);
      this.route[p] = next;
      if (this.level[p] && next !== undefined) this.drive(next, true);
      this.wiring.onPirqRoute?.(p, next);
    }
  }

  private drive(irq: number, assert: boolean): void {
    const before = this.isaDrivers[irq]!;
    this.isaDrivers[irq] = before + (assert ? 1 : -1);
    if (assert && before === 0) this.wiring.isaIrq(irq).raise();
    else if (!assert && before === 1) this.wiring.isaIrq(irq).lower();
  }
}
