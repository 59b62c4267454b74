// The Intel 82441FX PCI and Memory Controller (PMC) of the 440FX chipset as host bridge 00:00.0: what QEMU's
// `-M pc` presents, and what SeaBIOS and Linux expect (Intel 440FX PCIset datasheet, order 290549).
//
// Config mechanism #1 itself lives in the PCI core (pci.ts). This function holds the PMC's registers: the
// PAM registers (59h-5Fh) that steer the BIOS areas 0xC0000-0xFFFFF between DRAM and the PCI bus, which the
// machine maps through onPamChange, and SMRAM (72h). The other device-specific registers are stored, as
// QEMU does: software reads back what it wrote.
import type { AccessSize } from './device';
import type { PciFunction } from './pci';
import { PCI_HEADER_END, PciConfig, PciReg, STS_DEVSEL_MEDIUM, STS_FAST_B2B, CMD_MEM, CMD_BUS_MASTER } from './pci-config';

export const I440FX_VENDOR_ID = 0x8086;
export const I440FX_DEVICE_ID = 0x1237;
/** Base class 06 (bridge), subclass 00 (host bridge). */
export const I440FX_CLASS = 0x06_00_00;
/** QEMU reports revision 02. */
export const I440FX_REVISION = 0x02;

/** Device-specific registers of the 82441FX (datasheet, "PMC Configuration Registers"). */
export const enum I440fxReg {
  /** PMC Configuration. */
  Pmccfg = 0x50,
  Deturbo = 0x51,
  /** DRAM Control, DRAM Timing. */
  Dramc = 0x57,
  Dramt = 0x58,
  /** Programmable Attribute Map registers PAM0..PAM6. */
  Pam0 = 0x59,
  /** DRAM Row Boundary registers DRB0..DRB7. */
  Drb0 = 0x60,
  /** System Management RAM Control. */
  Smram = 0x72,
}

export const PAM_COUNT = 7;
/** PAM0 only has the high nibble (0xF0000-0xFFFFF); PAM1..6 have two fields, bits 5:4 and 1:0. */
const PAM0_WRITABLE = 0b0011_0000;
const PAM_WRITABLE = 0b0011_0011;
const DRB_COUNT = 8;
/** DRB power-on value 01h. */
const DRB_DEFAULT = 0x01;
/** SMRAM: C_BASE_SEG (bits 2:0) is hardwired to 010b (the 0xA0000 segment). */
export const SMRAM_C_BASE_SEG = 0b0000_0010;
export const SMRAM_G_SMRAME = 0b0000_1000;
export const SMRAM_D_LCK = 0b0001_0000;
export const SMRAM_D_CLS = 0b0010_0000;
export const SMRAM_D_OPEN = 0b0100_0000;
const SMRAM_WRITABLE = SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_CLS | SMRAM_D_OPEN;
/** SMRAM: once D_LCK is set, D_OPEN is cleared and D_LCK, D_OPEN and G_SMRAME become read-only; D_CLS
 *  stays writable. Only a reset clears the lock. */
const SMRAM_WRITABLE_LOCKED = SMRAM_D_CLS;

/** A PAM field: where reads and writes to its range go. */
export const enum PamAccess {
  /** DRAM disabled: reads and writes go to the PCI bus (the BIOS ROM). */
  Pci = 0b00,
  ReadOnly = 0b01,
  WriteOnly = 0b10,
  ReadWrite = 0b11,
}

export interface PamRange {
  base: number;
  length: number;
  access: PamAccess;
}

/**
 * The ranges a PAM register value controls: PAM0 bits 5:4 cover 0xF0000-0xFFFFF; PAMn
 * (n = 1..6) bits 1:0 cover 0xC0000 + (n - 1) * 0x8000 and bits 5:4 the 16 KiB above it.
 */
export function pamRanges(index: number, value: number): PamRange[] {
  const hi = ((value >>> 4) & 0b11) as PamAccess;
  if (index === 0) return [{ base: 0xf0000, length: 0x10000, access: hi }];
  const base = 0xc0000 + (index - 1) * 0x8000;
  return [
    { base, length: 0x4000, access: (value & 0b11) as PamAccess },
    { base: base + 0x4000, length: 0x4000, access: hi },
  ];
}

export interface I440fxWiring {
  /** PAM register `index` (0..6) now holds `value`; the machine remaps the shadow RAM (see pamRanges). */
  onPamChange?: (index: number, value: number) => void;
  /** The SMRAM register changed (the machine maps 0xA0000-0xBFFFF to SMRAM when D_OPEN is set). */
  onSmramChange?: (value: number) => void;
}

export class I440fxHostBridge implements PciFunction {
  readonly config: PciConfig;
  /** Last values reported through the callbacks, to report changes only. */
  private readonly pam = new Uint8Array(PAM_COUNT);
  private smram = SMRAM_C_BASE_SEG;

  constructor(private readonly wiring: I440fxWiring = {}) {
    const c = new PciConfig({
      vendorId: I440FX_VENDOR_ID, deviceId: I440FX_DEVICE_ID, classCode: I440FX_CLASS, revision: I440FX_REVISION,
    });
    // PCICMD default 0006h (memory access and bus master enabled), PCISTS 0280h.
    c.set16(PciReg.Command, CMD_MEM | CMD_BUS_MASTER);
    c.set16(PciReg.Status, STS_FAST_B2B | STS_DEVSEL_MEDIUM);
    c.setWritable(PCI_HEADER_END, 0x100 - PCI_HEADER_END);
    for (let i = 0; i < PAM_COUNT; i++) c.setWritable(I440fxReg.Pam0 + i, 1, i === 0 ? PAM0_WRITABLE : PAM_WRITABLE);
    for (let i = 0; i < DRB_COUNT; i++) c.set8(I440fxReg.Drb0 + i, DRB_DEFAULT);
    c.set8(I440fxReg.Smram, SMRAM_C_BASE_SEG);
    c.setWritable(I440fxReg.Smram, 1, SMRAM_WRITABLE);
    this.config = c;
  }

  /** The host bridge has no BARs. */
  barRead(): number { return 0xffff_ffff; }
  barWrite(): void {}

  /** The core has restored config space; tell the machine the PAM and SMRAM defaults are back. */
  reset(): void {
    for (let i = 0; i < PAM_COUNT; i++) this.reportPam(i);
    this.reportSmram();
  }

  configWritten(offset: number, size: AccessSize): void {
    for (let at = offset; at < offset + size; at++) {
      const pam = at - I440fxReg.Pam0;
      if (pam >= 0 && pam < PAM_COUNT) this.reportPam(pam);
      if (at === I440fxReg.Smram) this.writeSmram();
    }
  }

  pamValue(index: number): number { return this.config.get8(I440fxReg.Pam0 + index); }

  private writeSmram(): void {
    const c = this.config;
    let v = c.get8(I440fxReg.Smram);
    if (v & SMRAM_D_LCK) {
      v &= ~SMRAM_D_OPEN;
      c.set8(I440fxReg.Smram, v);
      c.setWritable(I440fxReg.Smram, 1, SMRAM_WRITABLE_LOCKED);
    }
    this.reportSmram();
  }

  private reportPam(index: number): void {
    const v = this.pamValue(index);
    if (v === this.pam[index]) return;
    this.pam[index] = v;
    this.wiring.onPamChange?.(index, v);
  }

  private reportSmram(): void {
    const v = this.config.get8(I440fxReg.Smram);
    if (v === this.smram) return;
    this.smram = v;
    this.wiring.onSmramChange?.(v);
  }
}
