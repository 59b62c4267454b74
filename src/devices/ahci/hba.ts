// An AHCI 1.3 SATA host bus adapter as a PCI function (bhyve's pci_ahci.c is the model): the generic host
// control registers in ABAR (BAR5, AHCI 1.3.1 §3.1), up to 32 ports (port.ts) with a disk (ata.ts) or an ATAPI
// drive (atapi.ts) each, INTx and single-message MSI. It carries the IDs of Intel's ICH9 AHCI controller
// (8086:2922, as QEMU's ich9-ahci), which Linux's `ahci` driver binds to, and class 01/06/01 (AHCI 1.0).
//
// The PCI core owns config space and where ABAR sits; the HBA sees (bar, offset, size). Devices complete
// asynchronously (block backends return promises), between CPU slices: after a completion the HBA updates its
// interrupt and calls `wake` so the machine looks at it.
import type { AccessSize } from '../device';
import type { PciFunction } from '../pci';
import { BarKind, CMD_BUS_MASTER, IntxPin, PciConfig } from '../pci-config';
import type { GuestMemory } from '../../machine/dma';
import type { SataDevice } from './ata';
import { AhciPort, PORT_REGS_BYTES } from './port';

/** ABAR is BAR5 (AHCI 1.3.1 §2.1.11). */
export const AHCI_ABAR = 5;
/** Generic registers (100h bytes) plus 32 ports of 80h = 1100h, as a power of two. */
export const AHCI_ABAR_SIZE = 0x2000;
export const AHCI_MAX_PORTS = 32;
export const AHCI_DEFAULT_PORTS = 6;
const PORTS_BASE = 0x100;

export const ICH9_AHCI_VENDOR = 0x8086;
export const ICH9_AHCI_DEVICE = 0x2922;
/** Mass storage (01h), SATA (06h), AHCI 1.0 programming interface (01h) (PCI Code and ID Assignment Specification). */
export const AHCI_CLASS = 0x01_06_01;

/** Generic host control registers (AHCI 1.3.1 §3.1). */
export const enum HbaReg {
  Cap = 0x00,
  Ghc = 0x04,
  Is = 0x08,
  Pi = 0x0c,
  Vs = 0x10,
  CccCtl = 0x14,
  CccPorts = 0x18,
  EmLoc = 0x1c,
  EmCtl = 0x20,
  Cap2 = 0x24,
  Bohc = 0x28,
}

// CAP (§3.1.1).
export const CAP_S64A = 1 << 31;
export const CAP_SNCQ = 1 << 30;
export const CAP_SCLO = 1 << 24;
const CAP_ISS_SHIFT = 20;
const CAP_ISS_GEN1 = 1;
export const CAP_SAM = 1 << 18;
const CAP_NCS_SHIFT = 8;
const COMMAND_SLOTS = 32;

// GHC (§3.1.2).
export const GHC_HR = 1 << 0;
export const GHC_IE = 1 << 1;
export const GHC_AE = 1 << 31;

/** VS (§3.1.5): 1.3 is 0001_0300h. */
export const AHCI_VERSION_1_3 = 0x0001_0300;

export interface AhciOptions {
  /** Guest RAM the ports DMA into (command lists, FIS areas, PRDT buffers). */
  memory: GuestMemory;
  /** The device on each port; undefined (or a short array) leaves ports empty. */
  devices: ReadonlyArray<SataDevice | undefined>;
  /** Ports implemented, 1..32 (default: 6 like ICH9, or more when more devices are given). */
  ports?: number;
  /** Called after a completion raised an interrupt or changed registers, between CPU slices. */
  wake: () => void;
}

export class AhciHba implements PciFunction {
  readonly config: PciConfig;
  readonly ports: readonly AhciPort[];
  private readonly cap: number;
  private readonly pi: number;
  private ghc = GHC_AE;
  private is = 0;
  private level = false;
  private readonly wake: () => void;

  constructor(options: AhciOptions) {
    const count = options.ports ?? Math.max(AHCI_DEFAULT_PORTS, options.devices.length);
    if (!Number.isInteger(count) || count < 1 || count > AHCI_MAX_PORTS || options.devices.length > count) {
      throw new RangeError(`wasmpc: ahci: ${count} ports cannot hold ${options.devices.length} devices (1..32 ports)`);
    }
    this.wake = options.wake;
    const c = new PciConfig({
      vendorId: ICH9_AHCI_VENDOR, deviceId: ICH9_AHCI_DEVICE, classCode: AHCI_CLASS, revision: 0x02,
      subsystemVendorId: 0x1af4, subsystemId: 0x1100, interruptPin: IntxPin.IntA,
    });
    c.declareBar(AHCI_ABAR, { kind: BarKind.Mem32, size: AHCI_ABAR_SIZE });
    // One message for the whole HBA (AHCI 1.3.1 §2.3: MSI with MME = 0 means every port shares vector 0).
    c.addMsi({ vectors: 1, address64: true });
    this.config = c;
    // 64-bit addressing, NCQ, command list override, Gen1, AHCI-only, 32 slots, NP = ports - 1.
    this.cap = (CAP_S64A | CAP_SNCQ | CAP_SCLO | (CAP_ISS_GEN1 << CAP_ISS_SHIFT) | CAP_SAM |
      ((COMMAND_SLOTS - 1) << CAP_NCS_SHIFT) | (count - 1)) >>> 0;
    this.pi = count === AHCI_MAX_PORTS ? 0xffff_ffff : (1 << count) - 1;
    const host = {
      portInterrupt: (rising: boolean) => this.updateInterrupt(rising),
      canMaster: () => (this.config.command & CMD_BUS_MASTER) !== 0,
      wake: () => this.wake(),
    };
    const ports: AhciPort[] = [];
    for (let i = 0; i < count; i++) ports.push(new AhciPort(options.memory, options.devices[i], host));
    this.ports = ports;
  }

  barRead(bar: number, offset: number, size: AccessSize): number {
    if (bar !== AHCI_ABAR || offset < 0 || offset >= AHCI_ABAR_SIZE) return 0;
    const value = this.read32(offset & ~3);
    return (value >>> ((offset & 3) * 8)) >>> 0;
  }

  barWrite(bar: number, offset: number, size: AccessSize, value: number): void {
    if (bar !== AHCI_ABAR || offset < 0 || offset >= AHCI_ABAR_SIZE) return;
    const shift = (offset & 3) * 8;
    const lanes = size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
    this.write32(offset & ~3, (value << shift) >>> 0, (lanes << shift) >>> 0);
  }

  /** RST#: an HBA reset. */
  reset(): void {
    this.level = false;  // the core has already deasserted INTx with the config space
    this.hbaReset();
  }

  private read32(reg: number): number {
    if (reg >= PORTS_BASE) {
      const port = this.ports[(reg - PORTS_BASE) / PORT_REGS_BYTES | 0];
      return port ? port.read((reg - PORTS_BASE) % PORT_REGS_BYTES) : 0;
    }
    switch (reg) {
      case HbaReg.Cap: return this.cap;
      case HbaReg.Ghc: return this.ghc >>> 0;
      case HbaReg.Is: return this.is >>> 0;
      case HbaReg.Pi: return this.pi >>> 0;
      case HbaReg.Vs: return AHCI_VERSION_1_3;
      // No command completion coalescing, enclosure management, CAP2 features or BIOS/OS handoff
      // (CAP.CCCS = CAP.EMS = 0, CAP2.BOH = 0): those registers are reserved and read 0.
      default: return 0;
    }
  }

  private write32(reg: number, value: number, mask: number): void {
    if (reg >= PORTS_BASE) {
      const port = this.ports[(reg - PORTS_BASE) / PORT_REGS_BYTES | 0];
      port?.write((reg - PORTS_BASE) % PORT_REGS_BYTES, value, mask);
      return;
    }
    const v = value & mask;
    if (reg === HbaReg.Ghc) {
      // §3.1.2: HR resets the HBA and reads 1 until done (here at once); AE is read-only 1 with CAP.SAM.
      if (v & GHC_HR) return this.hbaReset();
      const before = this.ghc;
      this.ghc = ((this.ghc & ~(mask & GHC_IE)) | (v & GHC_IE) | GHC_AE) >>> 0;
      this.updateInterrupt(!(before & GHC_IE) && (this.ghc & GHC_IE) !== 0);
    } else if (reg === HbaReg.Is) {
      // §3.1.3: write 1 to clear; a port that still has an enabled status bit sets its bit again.
      this.is = (this.is & ~v) >>> 0;
      this.updateInterrupt(false);
    }
  }

  /** §10.4.3: GHC.HR resets GHC (but AE), IS and every port, and each port COMRESETs its device. */
  private hbaReset(): void {
    this.ghc = GHC_AE;
    this.is = 0;
    for (const p of this.ports) p.reset();
    this.updateInterrupt(false);
  }

  /**
   * The interrupt output (§3.1.3): IS collects the ports whose PxIS has a bit PxIE enables; INTx is
   * asserted while GHC.IE and IS are set. An MSI message goes out whenever a port gains a new enabled status
   * bit, so no event is lost between the guest reading IS and clearing it.
   */
  private updateInterrupt(rising: boolean): void {
    this.ports.forEach((p, i) => { if (p.pending) this.is = (this.is | (1 << i)) >>> 0; });
    const level = (this.ghc & GHC_IE) !== 0 && this.is !== 0;
    if (level !== this.level) {
      this.level = level;
      if (level) this.config.intx.raise(); else this.config.intx.lower();
    }
    if (level && rising) this.config.msi?.notify(0);
  }
}
