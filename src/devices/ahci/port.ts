// One AHCI port (AHCI 1.3.1 §3.3): the port registers, the command list engine that fetches command headers,
// FISes and PRDTs from guest memory (§4.2.2, §4.2.3), the received-FIS area (§4.2.1), and the link to one
// SATA device (ata.ts, atapi.ts). As in bhyve's pci_ahci.c the port is the DMA engine: devices see a task file
// and a DataBuffer over the PRDT, never guest addresses.
//
// Everything the guest wrote is untrusted: a pointer outside RAM sets PxIS.HBFS, a short PRDT PxIS.OFS, a
// malformed FIS PxIS.IFS, and the port halts as §6.1 describes until software clears PxCMD.ST. Devices
// answer asynchronously; a port stop or reset bumps `generation`, so a late answer — and the DataBuffer it
// would still write through — is dropped.
import { DmaError, type GuestMemory } from '../../machine/dma';
import {
  ATA_STS_BSY, ATA_STS_DRQ, ATA_STS_ERR, AtaCmd, DmaStatus, dmaFault,
  type AtaResult, type AtaTaskFile, type DataBuffer, type SataDevice,
} from './ata';

/** Port register offsets from the port's base, ABAR + 100h + port * 80h (AHCI 1.3.1 §3.3). */
export const enum PortReg {
  Clb = 0x00,
  Clbu = 0x04,
  Fb = 0x08,
  Fbu = 0x0c,
  Is = 0x10,
  Ie = 0x14,
  Cmd = 0x18,
  Tfd = 0x20,
  Sig = 0x24,
  Ssts = 0x28,
  Sctl = 0x2c,
  Serr = 0x30,
  Sact = 0x34,
  Ci = 0x38,
  Sntf = 0x3c,
}
export const PORT_REGS_BYTES = 0x80;

// PxIS / PxIE (§3.3.5, §3.3.6): the bits this port raises. The others (DMA Setup, unknown FIS, descriptor
// processed, connect and PhyRdy changes, cold presence) belong to features it does not model.
export const PXIS_DHRS = 1 << 0;
export const PXIS_PSS = 1 << 1;
export const PXIS_SDBS = 1 << 3;
export const PXIS_OFS = 1 << 24;
export const PXIS_IFS = 1 << 27;
export const PXIS_HBFS = 1 << 29;
export const PXIS_TFES = 1 << 30;
/** §3.3.6: PxIE has an enable for every PxIS bit; reserved bits read 0. */
const PXIE_WRITABLE = 0xfdc0_00ff;

// PxCMD (§3.3.7).
export const PXCMD_ST = 1 << 0;
export const PXCMD_SUD = 1 << 1;
export const PXCMD_POD = 1 << 2;
export const PXCMD_CLO = 1 << 3;
export const PXCMD_FRE = 1 << 4;
const PXCMD_CCS_SHIFT = 8;
const PXCMD_CCS_MASK = 0b1_1111 << PXCMD_CCS_SHIFT;
export const PXCMD_FR = 1 << 14;
export const PXCMD_CR = 1 << 15;
export const PXCMD_ATAPI = 1 << 24;
const PXCMD_DLAE = 1 << 25;
/** SUD and POD read 1: no staggered spin-up and no cold presence detection (CAP.SSS = 0, PxCMD.CPD = 0). */
const PXCMD_WRITABLE = PXCMD_ST | PXCMD_FRE | PXCMD_ATAPI | PXCMD_DLAE;

// PxSSTS / PxSCTL (§3.3.10, §3.3.11): DET 3:0, SPD 7:4, IPM 11:8.
const DET_MASK = 0b1111;
const SCTL_DET_COMRESET = 1;
const SCTL_DET_OFFLINE = 4;
/** DET = 3 (device present, Phy communication established), SPD = Gen1, IPM = active. */
const SSTS_LINK_UP = 0x113;
const SSTS_OFFLINE = 0x4;
const SCTL_WRITABLE = 0x000f_ffff;
/** After reset and while no device answers, PxTFD.STS reads 7Fh (§10.4.2) and PxSIG all ones (§3.3.9). */
const TFD_NO_DEVICE = 0x7f;
const SIG_NONE = 0xffff_ffff;
/** §3.3.1, §3.3.3: the command list is 1 KiB aligned, the received-FIS area 256-byte aligned. */
const CLB_ADDR_MASK = 0xffff_fc00;
const FB_ADDR_MASK = 0xffff_ff00;

// Command header (§4.2.2): DW0 = PRDTL 31:16, PMP 15:12, C 10, B 9, R 8, P 7, W 6, A 5, CFL 4:0; DW1 = PRDBC;
// DW2/DW3 = CTBA (128-byte aligned) / CTBAU.
const CMD_HEADER_BYTES = 32;
const HDR_ATAPI = 1 << 5;
const CTBA_MASK = 0xffff_ff80;
// Command table (§4.2.3): CFIS at 00h (up to 64 bytes), ACMD at 40h, PRDT at 80h of 16-byte entries:
// DBA (bit 0 reserved), DBAU, reserved, DW3 = I 31, DBC 21:0 (byte count - 1).
const CT_CFIS_BYTES = 64;
const CT_ACMD = 0x40;
const ACMD_BYTES = 16;
const CT_PRDT = 0x80;
const PRD_BYTES = 16;
const PRD_DBC_MASK = 0x3f_ffff;
// Received-FIS area (§4.2.1).
const RFIS_PIO_SETUP = 0x20;
const RFIS_D2H = 0x40;
const RFIS_SDB = 0x58;

/** FIS types (SATA 2.6 §10.3). */
export const enum FisType {
  RegH2D = 0x27,
  RegD2H = 0x34,
  SetDeviceBits = 0xa1,
  PioSetup = 0x5f,
}
const FIS_H2D_C = 0x80;
const FIS_I = 0x40;
const FIS_PIO_D2H = 0x20;
/** Device Control register in byte 15 of a control H2D FIS: SRST (ATA8-ACS, Device Control field). */
const CONTROL_SRST = 0b100;
const TWO_32 = 2 ** 32;

/** What the port needs from the HBA. */
export interface PortHost {
  /** PxIS & PxIE may have changed; `rising` when bits became newly set and enabled. */
  portInterrupt(rising: boolean): void;
  /** PCI COMMAND.BME: without it the port cannot fetch or move data. */
  canMaster(): boolean;
  /** A completion changed state between CPU slices: let the machine run (an interrupt may be pending). */
  wake(): void;
}

export class AhciPort {
  private clb = 0; private clbu = 0; private fb = 0; private fbu = 0;
  private is = 0; private ie = 0; private cmd = 0; private tfd = TFD_NO_DEVICE; private sig = SIG_NONE;
  private ssts = 0; private sctl = 0; private serr = 0; private sact = 0; private ci = 0;
  /** Slots in PxCI already handed to the device. */
  private started = 0;
  /** NCQ tags the device holds. */
  private queued = 0;
  /** The slot of the running non-queued command, or -1. */
  private active = -1;
  /** A fatal error stopped the command list (§6.1.2) until PxCMD.ST is cleared. */
  private halted = false;
  private srst = false;
  private generation = 0;

  constructor(private readonly mem: GuestMemory, readonly device: SataDevice | undefined, private readonly host: PortHost) {
    this.reset();
  }

  /** Whether this port asks for an interrupt: any PxIS bit that PxIE enables. */
  get pending(): boolean { return (this.is & this.ie) !== 0; }

  /** HBA reset (§10.4.3) and power-on: every register to its default, then a COMRESET of the link. */
  reset(): void {
    this.clb = this.clbu = this.fb = this.fbu = 0;
    this.is = this.ie = this.serr = this.sctl = 0;
    this.cmd = PXCMD_SUD | PXCMD_POD;
    this.stop();
    this.comreset();
    this.comresetDone();
  }

  read(reg: number): number {
    switch (reg) {
      case PortReg.Clb: return this.clb;
      case PortReg.Clbu: return this.clbu;
      case PortReg.Fb: return this.fb;
      case PortReg.Fbu: return this.fbu;
      case PortReg.Is: return this.is >>> 0;
      case PortReg.Ie: return this.ie >>> 0;
      case PortReg.Cmd: return this.cmd >>> 0;
      case PortReg.Tfd: return this.tfd;
      case PortReg.Sig: return this.sig >>> 0;
      case PortReg.Ssts: return this.ssts;
      case PortReg.Sctl: return this.sctl;
      case PortReg.Serr: return this.serr >>> 0;
      case PortReg.Sact: return this.sact >>> 0;
      case PortReg.Ci: return this.ci >>> 0;
      default: return 0;
    }
  }

  /** A write of `value` under byte-lane `mask` (sub-dword accesses touch only their lanes). */
  write(reg: number, value: number, mask: number): void {
    const v = value & mask;
    const merge = (old: number, writable: number) => ((old & ~(mask & writable)) | (v & writable)) >>> 0;
    switch (reg) {
      case PortReg.Clb: this.clb = merge(this.clb, CLB_ADDR_MASK); break;
      case PortReg.Clbu: this.clbu = merge(this.clbu, 0xffff_ffff); break;
      case PortReg.Fb: this.fb = merge(this.fb, FB_ADDR_MASK); break;
      case PortReg.Fbu: this.fbu = merge(this.fbu, 0xffff_ffff); break;
      case PortReg.Is:
        this.is = (this.is & ~v) >>> 0;
        this.host.portInterrupt(false);
        break;
      case PortReg.Ie: {
        const before = this.is & this.ie;
        this.ie = merge(this.ie, PXIE_WRITABLE);
        this.host.portInterrupt(((this.is & this.ie) & ~before) !== 0);
        break;
      }
      case PortReg.Cmd: this.writeCmd(merge(this.cmd, PXCMD_WRITABLE), v); break;
      case PortReg.Sctl: this.writeSctl(merge(this.sctl, SCTL_WRITABLE)); break;
      case PortReg.Serr: this.serr = (this.serr & ~v) >>> 0; break;
      case PortReg.Sact:
        // §3.3.13: software sets bits; only the device's Set Device Bits FIS clears them.
        if (this.cmd & PXCMD_ST) this.sact = (this.sact | v) >>> 0;
        break;
      case PortReg.Ci:
        // §3.3.14: software sets bits while PxCMD.ST = 1; the HBA clears them.
        if (this.cmd & PXCMD_ST) {
          this.ci = (this.ci | v) >>> 0;
          this.kick();
        }
        break;
      default:
        break;
    }
  }

  private writeCmd(next: number, written: number): void {
    const was = this.cmd;
    // §3.3.7: FR follows FRE, CR follows ST; ICC and CLO act and read back 0.
    this.cmd = next & ~(PXCMD_FR | PXCMD_CR);
    if (next & PXCMD_FRE) this.cmd |= PXCMD_FR;
    if (written & PXCMD_CLO) this.tfd &= ~(ATA_STS_BSY | ATA_STS_DRQ);
    if (next & PXCMD_ST) {
      this.cmd |= PXCMD_CR | (was & PXCMD_CCS_MASK);
      if (!(was & PXCMD_ST)) this.kick();
    } else if (was & PXCMD_ST) {
      this.stop();
    }
  }

  /** PxCMD.ST 1 -> 0 (§3.3.7): PxCI and PxSACT clear, outstanding commands are abandoned. */
  private stop(): void {
    this.generation++;
    this.ci = this.sact = this.started = this.queued = 0;
    this.active = -1;
    this.halted = false;
    this.cmd &= ~(PXCMD_ST | PXCMD_CR | PXCMD_CCS_MASK);
  }

  /** §10.4.2: DET = 1 starts a COMRESET (PxTFD.STS = 7Fh, PxSSTS.DET = 0); DET = 0 ends it and the device
   *  answers with its signature; DET = 4 takes the link offline. */
  private writeSctl(next: number): void {
    const before = this.sctl & DET_MASK;
    this.sctl = next;
    const det = next & DET_MASK;
    if (det === SCTL_DET_COMRESET) this.comreset();
    else if (det === SCTL_DET_OFFLINE) { this.comreset(); this.ssts = SSTS_OFFLINE; }
    else if (det === 0 && before !== 0) this.comresetDone();
  }

  private comreset(): void {
    this.generation++;
    this.ci = this.sact = this.started = this.queued = 0;
    this.active = -1;
    this.halted = false;
    this.srst = false;
    this.ssts = 0;
    this.tfd = TFD_NO_DEVICE;
    this.sig = SIG_NONE;
  }

  private comresetDone(): void {
    if (this.device) {
      this.ssts = SSTS_LINK_UP;
      this.deviceReset();
    }
  }

  /** The device resets and sends its signature in a D2H Register FIS (SATA 2.6; ATA8-ACS signatures). */
  private deviceReset(): void {
    const d = this.device!;
    d.reset();
    this.sig = d.signature;
    this.postD2H({ status: d.resetStatus, error: 1, bytes: 0, pioIn: false, lba: d.signature >>> 8, count: d.signature & 0xff, fault: DmaStatus.Ok }, false);
  }

  // ---- the command list engine ----

  private get clbAddress(): number { return this.clbu * TWO_32 + this.clb; }
  private get fbAddress(): number { return this.fbu * TWO_32 + this.fb; }

  /** Issue every slot in PxCI not yet started, lowest first. Queued (NCQ) commands overlap; a non-queued
   *  command waits for the device to be idle and holds the rest back. */
  private kick(): void {
    if (!(this.cmd & PXCMD_ST) || this.halted || !this.device || (this.ssts & DET_MASK) !== 3) return;
    for (let slot = 0; slot < 32 && this.active < 0 && !this.halted; slot++) {
      const bit = (1 << slot) >>> 0;
      if (!(this.ci & bit) || (this.started & bit)) continue;
      this.started = (this.started | bit) >>> 0;
      this.issue(slot);
    }
  }

  private fetch(phys: number, length: number): Uint8Array | undefined {
    if (!this.host.canMaster()) return undefined;
    const r = this.mem.read(phys, length);
    return r instanceof DmaError ? undefined : r;
  }

  private issue(slot: number): void {
    const header = this.fetch(this.clbAddress + slot * CMD_HEADER_BYTES, CMD_HEADER_BYTES);
    if (!header) return this.fatal(PXIS_HBFS, slot);
    const h = new DataView(header.buffer);
    const dw0 = h.getUint32(0, true);
    const table = h.getUint32(12, true) * TWO_32 + ((h.getUint32(8, true) & CTBA_MASK) >>> 0);
    const cfis = this.fetch(table, CT_CFIS_BYTES);
    if (!cfis) return this.fatal(PXIS_HBFS, slot);
    // A FIS the device would reject (R_ERR) is an interface error (§6.1).
    if (cfis[0] !== FisType.RegH2D) return this.fatal(PXIS_IFS, slot);
    if (!(cfis[1]! & FIS_H2D_C)) return this.control(slot, cfis[15]!);
    const tf: AtaTaskFile = {
      command: cfis[2]!,
      features: cfis[3]! | (cfis[11]! << 8),
      lba: cfis[4]! + cfis[5]! * 0x100 + cfis[6]! * 0x1_0000 + cfis[8]! * 0x100_0000 + cfis[9]! * TWO_32 + cfis[10]! * 2 ** 40,
      device: cfis[7]!,
      count: cfis[12]! | (cfis[13]! << 8),
    };
    let packet: Uint8Array = new Uint8Array(ACMD_BYTES);
    if (dw0 & HDR_ATAPI || tf.command === AtaCmd.Packet) {
      const acmd = this.fetch(table + CT_ACMD, ACMD_BYTES);
      if (!acmd) return this.fatal(PXIS_HBFS, slot);
      packet = acmd;
    }
    const prdtl = dw0 >>> 16;
    const prdt = prdtl === 0 ? new Uint8Array(0) : this.fetch(table + CT_PRDT, prdtl * PRD_BYTES);
    if (!prdt) return this.fatal(PXIS_HBFS, slot);
    const generation = this.generation;
    const data = new Prdt(this.mem, prdt, () => this.generation === generation, () => this.host.canMaster());
    const device = this.device!;
    const failed = () => dmaFault(DmaStatus.HostBus);
    this.cmd = (this.cmd & ~PXCMD_CCS_MASK) | (slot << PXCMD_CCS_SHIFT);

    if (device.ncq && (tf.command === AtaCmd.ReadFpdmaQueued || tf.command === AtaCmd.WriteFpdmaQueued)) {
      // SATA 2.6 §13.6: the device accepts the command with a D2H FIS clearing BSY, so the HBA frees the slot
      // at once; the data and the Set Device Bits FIS naming the tag follow whenever the device is done.
      const tag = (tf.count >>> 3) & 0x1f;
      const tagBit = (1 << tag) >>> 0;
      this.ci = (this.ci & ~(1 << slot)) >>> 0;
      this.started = (this.started & ~(1 << slot)) >>> 0;
      if (this.queued & tagBit) return this.fatal(PXIS_TFES, slot);  // a tag already in use (SATA 2.6 §13.6)
      this.queued = (this.queued | tagBit) >>> 0;
      device.execute(tf, packet, data).then((r) => this.completeQueued(generation, tag, r), () => this.completeQueued(generation, tag, failed()));
      return;
    }
    this.active = slot;
    this.tfd |= ATA_STS_BSY;
    const isPacket = tf.command === AtaCmd.Packet;
    device.execute(tf, packet, data).then((r) => this.complete(generation, slot, isPacket, r), () => this.complete(generation, slot, isPacket, failed()));
  }

  /** A control FIS (C = 0): SRST set then cleared is a software reset (§10.4.1). The HBA
   *  frees the slot once the FIS is sent (header C bit, "clear busy upon R_OK"). */
  private control(slot: number, deviceControl: number): void {
    const srst = (deviceControl & CONTROL_SRST) !== 0;
    this.ci = (this.ci & ~(1 << slot)) >>> 0;
    this.started = (this.started & ~(1 << slot)) >>> 0;
    if (this.srst && !srst) {
      this.generation++;
      this.queued = 0;
      this.deviceReset();
    }
    this.srst = srst;
  }

  /**
   * A non-queued command ended: PRDBC, the ending FIS, PxCI (the port state machine, §5.3). An
   * ATA PIO data-in command ends with its PIO Setup FIS; a PACKET command with data-in still ends with a D2H
   * Register FIS after the data (SATA 2.6, the PIO data-in and PACKET protocols).
   */
  private complete(generation: number, slot: number, isPacket: boolean, r: AtaResult): void {
    if (generation !== this.generation) return;
    this.active = -1;
    if (r.fault !== DmaStatus.Ok) return this.faulted(slot, r.fault);
    const prdbc = new Uint8Array(4);
    new DataView(prdbc.buffer).setUint32(0, r.bytes, true);
    if (this.host.canMaster()) this.mem.write(this.clbAddress + slot * CMD_HEADER_BYTES + 4, prdbc);
    const pio = r.pioIn && !(r.status & ATA_STS_ERR);
    if (pio) this.postPioSetup(r);
    if (!pio || isPacket) this.postD2H(r, true);
    if (r.status & ATA_STS_ERR) {
      // §6.1: the failing slot stays set in PxCI and the port halts until software recovers.
      this.setIs(PXIS_TFES);
      this.halted = true;
    } else {
      this.ci = (this.ci & ~(1 << slot)) >>> 0;
      this.started = (this.started & ~(1 << slot)) >>> 0;
    }
    this.host.wake();
    this.kick();
  }

  /** A queued command ended: a Set Device Bits FIS with its tag in SActive, or an error (SATA 2.6 §13.6). */
  private completeQueued(generation: number, tag: number, r: AtaResult): void {
    if (generation !== this.generation) return;
    const tagBit = (1 << tag) >>> 0;
    this.queued = (this.queued & ~tagBit) >>> 0;
    if (r.fault !== DmaStatus.Ok) return this.faulted(tag, r.fault);
    if (r.status & ATA_STS_ERR) {
      this.postSdb(r.status, r.error, 0);
      this.setIs(PXIS_TFES);
      this.halted = true;
    } else {
      this.postSdb(r.status, 0, tagBit);
    }
    this.host.wake();
    this.kick();
  }

  private faulted(slot: number, fault: DmaStatus): void {
    if (fault === DmaStatus.Cancelled) return;
    this.fatal(fault === DmaStatus.Overflow ? PXIS_OFS : PXIS_HBFS, slot);
    this.host.wake();
  }

  /** §6.1: a fatal error latches in PxIS, PxCMD.CCS names the slot, and the port stops issuing commands. */
  private fatal(bit: number, slot: number): void {
    this.halted = true;
    this.cmd = (this.cmd & ~PXCMD_CCS_MASK) | ((slot & 0x1f) << PXCMD_CCS_SHIFT);
    this.setIs(bit);
  }

  private setIs(bits: number): void {
    const before = this.is & this.ie;
    this.is = (this.is | bits) >>> 0;
    this.host.portInterrupt(((this.is & this.ie) & ~before) !== 0);
  }

  // ---- the received-FIS area (§4.2.1); written only while PxCMD.FRE = 1 ----

  private postFis(offset: number, fis: Uint8Array): void {
    if (!(this.cmd & PXCMD_FRE) || !this.host.canMaster()) return;
    if (this.mem.write(this.fbAddress + offset, fis) instanceof DmaError) this.setIs(PXIS_HBFS);
  }

  /** A D2H Register FIS (SATA 2.6 §10.3): it updates PxTFD and, with I set, raises PxIS.DHRS. */
  private postD2H(r: AtaResult, interrupt: boolean): void {
    const fis = new Uint8Array(20);
    fis[0] = FisType.RegD2H;
    fis[1] = interrupt ? FIS_I : 0;
    fis[2] = r.status; fis[3] = r.error;
    putLba(fis, r.lba);
    fis[12] = r.count & 0xff; fis[13] = (r.count >>> 8) & 0xff;
    this.tfd = (r.error << 8) | r.status;
    this.postFis(RFIS_D2H, fis);
    if (interrupt) this.setIs(PXIS_DHRS);
  }

  /** A PIO Setup FIS (SATA 2.6 §10.3) for the last data block of a PIO data-in command: E_Status is the
   *  ending status that PxTFD takes (AHCI 1.3.1 §5.3). */
  private postPioSetup(r: AtaResult): void {
    const fis = new Uint8Array(20);
    fis[0] = FisType.PioSetup;
    fis[1] = FIS_PIO_D2H | FIS_I;
    fis[2] = r.status | ATA_STS_DRQ; fis[3] = r.error;
    putLba(fis, r.lba);
    fis[12] = r.count & 0xff; fis[13] = (r.count >>> 8) & 0xff;
    fis[15] = r.status;
    const chunk = Math.min(r.bytes, 0xffff);
    fis[16] = chunk & 0xff; fis[17] = chunk >>> 8;
    this.tfd = (r.error << 8) | r.status;
    this.postFis(RFIS_PIO_SETUP, fis);
    this.setIs(PXIS_PSS);
  }

  /** A Set Device Bits FIS (SATA 2.6 §10.3): status bits 6:4 and 2:0, the error, and the tags to retire
   *  from PxSACT (AHCI 1.3.1 §5.3). I is set, so PxIS.SDBS. */
  private postSdb(status: number, error: number, sactive: number): void {
    const fis = new Uint8Array(8);
    fis[0] = FisType.SetDeviceBits;
    fis[1] = FIS_I;
    fis[2] = status & 0x77; fis[3] = error;
    new DataView(fis.buffer).setUint32(4, sactive, true);
    this.tfd = (error << 8) | (this.tfd & 0x88) | (status & 0x77);
    this.sact = (this.sact & ~sactive) >>> 0;
    this.postFis(RFIS_SDB, fis);
    this.setIs(PXIS_SDBS);
  }
}

function putLba(fis: Uint8Array, lba: number): void {
  fis[4] = lba & 0xff; fis[5] = (lba >>> 8) & 0xff; fis[6] = (lba >>> 16) & 0xff;
  const hi = Math.floor(lba / 0x100_0000);
  fis[8] = hi & 0xff; fis[9] = (hi >>> 8) & 0xff; fis[10] = (hi >>> 16) & 0xff;
}

/**
 * The PRDT of one command as a DataBuffer. Entries are read once at issue time; each piece of a transfer is
 * copied through GuestMemory, which refuses anything outside RAM. Once the command is abandoned (`live` turns
 * false) nothing moves any more.
 */
class Prdt implements DataBuffer {
  readonly capacity: number;
  private readonly addresses: number[] = [];
  private readonly lengths: number[] = [];

  constructor(private readonly mem: GuestMemory, table: Uint8Array, private readonly live: () => boolean,
              private readonly master: () => boolean) {
    const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
    let total = 0;
    for (let at = 0; at + PRD_BYTES <= table.length; at += PRD_BYTES) {
      this.addresses.push(v.getUint32(at + 4, true) * TWO_32 + ((v.getUint32(at, true) & ~1) >>> 0));
      const length = (v.getUint32(at + 12, true) & PRD_DBC_MASK) + 1;
      this.lengths.push(length);
      total += length;
    }
    this.capacity = total;
  }

  scatter(at: number, data: Uint8Array): DmaStatus {
    return this.walk(at, data.length, (phys, from, length) => {
      const r = this.mem.write(phys, data.subarray(from, from + length));
      return r instanceof DmaError ? DmaStatus.HostBus : DmaStatus.Ok;
    });
  }

  gather(at: number, length: number): Uint8Array | DmaStatus {
    const out = new Uint8Array(Math.max(0, Math.min(length, this.capacity)));
    const st = this.walk(at, length, (phys, from, n) => {
      const r = this.mem.view(phys, n);
      if (r instanceof DmaError) return DmaStatus.HostBus;
      out.set(r, from);
      return DmaStatus.Ok;
    });
    return st === DmaStatus.Ok ? out : st;
  }

  /** Visit the pieces of [at, at + length) of the transfer in PRD order. */
  private walk(at: number, length: number, piece: (phys: number, from: number, length: number) => DmaStatus): DmaStatus {
    if (!this.live()) return DmaStatus.Cancelled;
    if (!this.master()) return DmaStatus.HostBus;
    if (at < 0 || at + length > this.capacity) return DmaStatus.Overflow;
    let skip = at, done = 0;
    for (let i = 0; i < this.lengths.length && done < length; i++) {
      const len = this.lengths[i]!;
      if (skip >= len) { skip -= len; continue; }
      const n = Math.min(len - skip, length - done);
      const st = piece(this.addresses[i]! + skip, done, n);
      if (st !== DmaStatus.Ok) return st;
      done += n;
      skip = 0;
    }
    return DmaStatus.Ok;
  }
}
