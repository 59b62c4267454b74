// Configuration space of one PCI function (PCI Local Bus Specification 3.0, chapter 6): the type 0 header,
// the read-only/writable/write-1-to-clear masks that make it behave like hardware, BAR declarations, the
// capability list, and the MSI and MSI-X capabilities (§6.8).
//
// The PCI core (pci.ts) owns the guest's view: it routes config cycles here with read()/write(), and it places
// BARs on the buses from the values stored here. A device builds its PciConfig in its constructor (IDs, BARs,
// capabilities), raises `config.intx` for INTx#, and calls `config.msi.notify(v)` / `config.msix.notify(v)`.
import type { AccessSize, IrqLine } from './device';

/** Type 0 header registers (PCI 3.0 §6.1, Figure 6-1). */
export const enum PciReg {
  VendorId = 0x00,
  DeviceId = 0x02,
  Command = 0x04,
  Status = 0x06,
  RevisionId = 0x08,
  /** Programming interface; subclass at 0x0A, base class at 0x0B. */
  ClassCode = 0x09,
  CacheLineSize = 0x0c,
  LatencyTimer = 0x0d,
  HeaderType = 0x0e,
  Bist = 0x0f,
  Bar0 = 0x10,
  CardbusCis = 0x28,
  SubsystemVendorId = 0x2c,
  SubsystemId = 0x2e,
  ExpansionRom = 0x30,
  CapabilitiesPointer = 0x34,
  InterruptLine = 0x3c,
  InterruptPin = 0x3d,
  MinGnt = 0x3e,
  MaxLat = 0x3f,
}

/** Conventional config space; PCIe functions have 4 KiB (reached through ECAM only). */
export const PCI_CONFIG_SPACE_SIZE = 0x100;
export const PCIE_CONFIG_SPACE_SIZE = 0x1000;
/** First byte after the predefined header (PCI 3.0 §6.1): device-specific registers and capabilities. */
export const PCI_HEADER_END = 0x40;
/** Six BARs at 0x10..0x27, and the expansion ROM, which the core treats as BAR 6 (as bhyve does). */
export const PCI_BAR_COUNT = 6;
export const PCI_ROM_BAR = 6;

// Command register (PCI 3.0 §6.2.2).
export const CMD_IO = 0b0000_0000_0001;
export const CMD_MEM = 0b0000_0000_0010;
export const CMD_BUS_MASTER = 0b0000_0000_0100;
export const CMD_PARITY = 0b0000_0100_0000;
export const CMD_SERR = 0b0001_0000_0000;
export const CMD_INTX_DISABLE = 0b0100_0000_0000;
/** Special cycles, MWI, VGA snoop and fast back-to-back stay hardwired to 0, which §6.2.2 allows. */
const CMD_WRITABLE = CMD_IO | CMD_MEM | CMD_BUS_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_DISABLE;

// Status register (PCI 3.0 §6.2.3).
export const STS_INTERRUPT = 0b0000_0000_0000_1000;
export const STS_CAP_LIST = 0b0000_0000_0001_0000;
export const STS_FAST_B2B = 0b0000_0000_1000_0000;
export const STS_DEVSEL_MEDIUM = 0b0000_0010_0000_0000;
/** Master data parity error, signaled/received target abort, received master abort, SERR, parity: RW1C. */
const STS_WRITE_ONE_TO_CLEAR = 0b1111_1001_0000_0000;

/** Header type bit 7: the device has functions other than 0 (PCI 3.0 §6.2.1). */
export const HEADER_MULTI_FUNCTION = 0b1000_0000;

// Base address register low bits (PCI 3.0 §6.2.5.1) and the expansion ROM BAR (§6.2.5.2).
export const BAR_SPACE_IO = 0b0001;
export const BAR_MEM_TYPE_64 = 0b0100;
export const BAR_MEM_PREFETCH = 0b1000;
export const BAR_IO_ADDR_MASK = 0xffff_fffc;
export const BAR_MEM_ADDR_MASK = 0xffff_fff0;
export const ROM_ENABLE = 0b1;
export const ROM_ADDR_MASK = 0xffff_f800;

/** Capability IDs (PCI Code and ID Assignment Spec, and PCI 3.0 §6.8.1 / §6.8.2). */
export const enum CapId {
  PowerManagement = 0x01,
  Msi = 0x05,
  VendorSpecific = 0x09,
  PciExpress = 0x10,
  MsiX = 0x11,
}

/** INTx pin encoding of the Interrupt Pin register (PCI 3.0 §6.2.4): 0 = none, 1 = INTA# .. 4 = INTD#. */
export const enum IntxPin {
  None = 0,
  IntA = 1,
  IntB = 2,
  IntC = 3,
  IntD = 4,
}

export const enum BarKind {
  Io,
  Mem32,
  Mem64,
}

export interface BarSpec {
  kind: BarKind;
  /** Bytes decoded; a power of two, at least 4 for I/O and 16 for memory (§6.2.5.1). */
  size: number;
  prefetchable?: boolean;
}

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  /** Base class << 16 | subclass << 8 | programming interface (§6.2.1). */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  interruptPin?: IntxPin;
  /** 4 KiB of config space (a PCIe function); the bytes past 0xFF are only reachable through ECAM. */
  extended?: boolean;
}

/** Where a function's interrupts go: the core binds this when it attaches the function. */
export interface PciLink {
  /** The function's effective INTx# level (after Interrupt Disable and MSI enable) changed. */
  intx(asserted: boolean): void;
  /** A memory write of `data` (32-bit) to `address` (up to 64-bit): an MSI or MSI-X message. */
  msi(address: number, data: number): void;
}

/** A memory-mapped region a capability claims inside one of the function's BARs. */
interface BarClaim {
  bar: number;
  offset: number;
  length: number;
}

interface Snapshot {
  bytes: Uint8Array;
  wmask: Uint8Array;
  w1cmask: Uint8Array;
}

const TWO_32 = 2 ** 32;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

export class PciConfig {
  /** 256, or 4096 for a PCIe function. */
  readonly size: number;
  private readonly bytes: Uint8Array;
  /** Bits a guest config write may change. */
  private readonly wmask: Uint8Array;
  /** Bits a guest clears by writing 1 (status bits). */
  private readonly w1cmask: Uint8Array;
  private snapshot: Snapshot | undefined;
  /** Declared BARs by index; the upper half of a 64-bit BAR is undefined here. ROM at PCI_ROM_BAR. */
  readonly bars: Array<Readonly<BarSpec> | undefined> = new Array(PCI_BAR_COUNT + 1).fill(undefined);
  msi: MsiCapability | undefined;
  msix: MsixCapability | undefined;
  /** Where the next capability goes, and the byte that must point at it. */
  private capCursor = PCI_HEADER_END;
  private capLink: number = PciReg.CapabilitiesPointer;
  private link: PciLink | undefined;
  /** Level the device drives on its INTx# pin, and what was last reported to the core. */
  private intxLevel = false;
  private intxOut = false;

  /** The function's INTx# pin. Level semantics; masked by COMMAND.INTX_DISABLE and while MSI(-X) is on. */
  readonly intx: IrqLine = {
    raise: () => this.setIntx(true),
    lower: () => this.setIntx(false),
  };

  constructor(id: PciIdentity) {
    this.size = id.extended ? PCIE_CONFIG_SPACE_SIZE : PCI_CONFIG_SPACE_SIZE;
    this.bytes = new Uint8Array(this.size);
    this.wmask = new Uint8Array(this.size);
    this.w1cmask = new Uint8Array(this.size);
    this.set16(PciReg.VendorId, id.vendorId);
    this.set16(PciReg.DeviceId, id.deviceId);
    this.set8(PciReg.RevisionId, id.revision ?? 0);
    this.set8(PciReg.ClassCode, id.classCode & 0xff);
    this.set16(PciReg.ClassCode + 1, (id.classCode >>> 8) & 0xffff);
    this.set16(PciReg.SubsystemVendorId, id.subsystemVendorId ?? 0);
    this.set16(PciReg.SubsystemId, id.subsystemId ?? 0);
    this.set8(PciReg.InterruptPin, id.interruptPin ?? IntxPin.None);
    this.setWritable(PciReg.Command, 2, CMD_WRITABLE);
    this.w1cmask[PciReg.Status + 1] = STS_WRITE_ONE_TO_CLEAR >>> 8;
    this.setWritable(PciReg.CacheLineSize, 1);
    this.setWritable(PciReg.LatencyTimer, 1);
    this.setWritable(PciReg.InterruptLine, 1);
  }

  // ---- typed fields ----
  get vendorId(): number { return this.get16(PciReg.VendorId); }
  get deviceId(): number { return this.get16(PciReg.DeviceId); }
  get command(): number { return this.get16(PciReg.Command); }
  get status(): number { return this.get16(PciReg.Status); }
  get revision(): number { return this.get8(PciReg.RevisionId); }
  get classCode(): number { return this.get32(PciReg.RevisionId) >>> 8; }
  get headerType(): number { return this.get8(PciReg.HeaderType); }
  get interruptPin(): IntxPin { return this.get8(PciReg.InterruptPin) as IntxPin; }
  get interruptLine(): number { return this.get8(PciReg.InterruptLine); }

  // ---- device-side access: no masks ----
  get8(offset: number): number { return this.bytes[offset] ?? 0; }
  get16(offset: number): number { return this.get8(offset) | (this.get8(offset + 1) << 8); }
  get32(offset: number): number { return (this.get16(offset) | (this.get16(offset + 2) << 16)) >>> 0; }
  set8(offset: number, value: number): void { if (offset < this.size) this.bytes[offset] = value & 0xff; }
  set16(offset: number, value: number): void { this.set8(offset, value); this.set8(offset + 1, value >>> 8); }
  set32(offset: number, value: number): void { this.set16(offset, value); this.set16(offset + 2, value >>> 16); }

  /** Make `length` bytes at `offset` guest-writable through `mask` (little-endian, for up to 4 bytes; a longer
   *  run is writable throughout). */
  setWritable(offset: number, length: number, mask = 0xffff_ffff): void {
    for (let i = 0; i < length && offset + i < this.size; i++) {
      this.wmask[offset + i] = length > 4 ? 0xff : (mask >>> (8 * i)) & 0xff;
    }
  }

  /** Bits of the byte at `offset` that the guest may change. */
  writableMask(offset: number): number { return this.wmask[offset] ?? 0; }

  /** Set or clear a status bit the device reports (e.g. received master abort). */
  setStatus(bits: number, on: boolean): void {
    const s = this.status;
    this.set16(PciReg.Status, on ? s | bits : s & ~bits);
  }

  // ---- declarations (host configuration: errors here are programming errors and throw) ----

  /** Declare BAR `index` (0..5; a 64-bit BAR also takes index + 1). The core decides where it lives. */
  declareBar(index: number, spec: BarSpec): void {
    const minimum = spec.kind === BarKind.Io ? 4 : 16;
    const wide = spec.kind === BarKind.Mem64;
    if (!Number.isInteger(index) || index < 0 || index >= PCI_BAR_COUNT - (wide ? 1 : 0)) {
      throw new RangeError(`wasmpc: pci: BAR ${index} does not exist (0..5, a 64-bit BAR takes two)`);
    }
    if (!isPowerOfTwo(spec.size) || spec.size < minimum || (!wide && spec.size > TWO_32 / 2)) {
      throw new RangeError(`wasmpc: pci: BAR ${index} size ${spec.size} must be a power of two >= ${minimum}`);
    }
    if (this.bars[index] !== undefined || (wide && this.bars[index + 1] !== undefined) || this.isUpperHalf(index)) {
      throw new RangeError(`wasmpc: pci: BAR ${index} is declared twice`);
    }
    const reg = PciReg.Bar0 + 4 * index;
    let type: number;
    if (spec.kind === BarKind.Io) type = BAR_SPACE_IO;
    else type = (wide ? BAR_MEM_TYPE_64 : 0) | (spec.prefetchable ? BAR_MEM_PREFETCH : 0);
    this.set32(reg, type);
    const addrMask = spec.kind === BarKind.Io ? BAR_IO_ADDR_MASK : BAR_MEM_ADDR_MASK;
    // Sizing (§6.2.5.1): the bits below the size are read-only 0, so writing all ones reads back the size.
    const lowMask = spec.size >= TWO_32 ? 0 : (addrMask & ~(spec.size - 1)) >>> 0;
    this.setWritable(reg, 4, lowMask);
    if (wide) {
      const highMask = spec.size > TWO_32 ? ~(spec.size / TWO_32 - 1) >>> 0 : 0xffff_ffff;
      this.setWritable(reg + 4, 4, highMask);
    }
    this.bars[index] = { ...spec };
  }

  /** Declare an expansion ROM (§6.2.5.2) of `size` bytes (power of two, at least 2 KiB); reads go to BAR 6. */
  declareRom(size: number): void {
    if (!isPowerOfTwo(size) || size < 0x800 || size > 0x100_0000) {
      throw new RangeError(`wasmpc: pci: expansion ROM size ${size} must be a power of two in 2 KiB..16 MiB`);
    }
    this.setWritable(PciReg.ExpansionRom, 4, ((ROM_ADDR_MASK & ~(size - 1)) | ROM_ENABLE) >>> 0);
    this.bars[PCI_ROM_BAR] = { kind: BarKind.Mem32, size };
  }

  /** True when `index` is the upper dword of a 64-bit BAR. */
  isUpperHalf(index: number): boolean {
    return index > 0 && this.bars[index - 1]?.kind === BarKind.Mem64;
  }

  /**
   * Append a capability (§6.7) of `length` bytes with its ID and a zero next pointer, linked from the previous
   * one (or from the Capabilities Pointer); returns its offset. Capabilities are dword-aligned in 0x40..0xFF.
   */
  addCapability(id: number, length: number, at = this.capCursor): number {
    const offset = (at + 3) & ~3;
    if (offset < PCI_HEADER_END || offset + length > PCI_CONFIG_SPACE_SIZE || length < 2) {
      throw new RangeError(`wasmpc: pci: capability 0x${id.toString(16)} of ${length} bytes does not fit at 0x${offset.toString(16)}`);
    }
    this.set8(offset, id);
    this.set8(offset + 1, 0);
    this.set8(this.capLink, offset);
    this.capLink = offset + 1;
    this.capCursor = offset + length;
    this.setStatus(STS_CAP_LIST, true);
    return offset;
  }

  addMsi(options: MsiOptions): MsiCapability {
    if (this.msi) throw new RangeError('wasmpc: pci: a function has one MSI capability');
    this.msi = new MsiCapability(this, options);
    return this.msi;
  }

  addMsix(options: MsixOptions): MsixCapability {
    if (this.msix) throw new RangeError('wasmpc: pci: a function has one MSI-X capability');
    this.msix = new MsixCapability(this, options);
    return this.msix;
  }

  // ---- the core's side ----

  /** Called by the core when it attaches the function: records power-on state and connects interrupts. */
  attach(link: PciLink): void {
    this.snapshot = { bytes: this.bytes.slice(), wmask: this.wmask.slice(), w1cmask: this.w1cmask.slice() };
    this.link = link;
    this.intxOut = false;
    this.updateIntx();
  }

  /** Back to the state at attach (RST#): registers, masks, MSI/MSI-X state, INTx deasserted. */
  reset(): void {
    if (this.snapshot) {
      this.bytes.set(this.snapshot.bytes);
      this.wmask.set(this.snapshot.wmask);
      this.w1cmask.set(this.snapshot.w1cmask);
    }
    this.msix?.reset();
    this.intxLevel = false;
    this.updateIntx();
  }

  /** A guest config read. Past the end of the space (extended space of a conventional function): all ones. */
  read(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      value |= (at < this.size ? this.bytes[at]! : 0xff) << (8 * i);
    }
    return value >>> 0;
  }

  /** A guest config write through the masks, then the side effects of the registers it touched. */
  write(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      if (at >= this.size) break;
      const b = (value >>> (8 * i)) & 0xff;
      const wm = this.wmask[at]!;
      this.bytes[at] = ((this.bytes[at]! & ~wm) | (b & wm)) & ~(b & this.w1cmask[at]!);
    }
    const end = offset + size;
    if (this.msi && offset < this.msi.offset + this.msi.length && this.msi.offset < end) this.msi.written();
    if (this.msix && offset < this.msix.offset + this.msix.length && this.msix.offset < end) this.msix.written();
    this.updateIntx();
  }

  /** Send a message if the function may master the bus (§6.2.2: MSI writes are bus-master requests). */
  deliver(address: number, data: number): boolean {
    if (!(this.command & CMD_BUS_MASTER) || !this.link) return false;
    this.link.msi(address, data >>> 0);
    return true;
  }

  /** The BAR ranges the MSI-X table and PBA occupy: the core serves these itself. */
  barClaims(): readonly BarClaim[] {
    return this.msix ? this.msix.claims : [];
  }

  private setIntx(level: boolean): void {
    if (this.interruptPin === IntxPin.None) return;
    this.intxLevel = level;
    this.setStatus(STS_INTERRUPT, level);
    this.updateIntx();
  }

  /** §6.2.3: INTx# is asserted only when Interrupt Status is 1 and Interrupt Disable is 0; §6.8.1.3 / §6.8.2:
   *  a function with MSI or MSI-X enabled must not use INTx#. */
  private updateIntx(): void {
    const out = this.intxLevel && !(this.command & CMD_INTX_DISABLE) && !this.msi?.enabled && !this.msix?.enabled;
    if (out === this.intxOut) return;
    this.intxOut = out;
    this.link?.intx(out);
  }
}

// ---- MSI (PCI 3.0 §6.8.1) ----

// Message Control (PCI 3.0 §6.8.1.3).
export const MSI_CTRL_ENABLE = 0b0000_0000_0001;
const MSI_CTRL_MMC_SHIFT = 1;
const MSI_CTRL_MME_SHIFT = 4;
const MSI_CTRL_MME_MASK = 0b0111_0000;
export const MSI_CTRL_64BIT = 0b0000_1000_0000;
export const MSI_CTRL_PER_VECTOR_MASK = 0b0001_0000_0000;
/** §6.8.1.4: the message address is dword-aligned; bits 1:0 are read-only 0. */
const MSI_ADDR_MASK = 0xffff_fffc;

export type MsiVectorCount = 1 | 2 | 4 | 8 | 16 | 32;

export interface MsiOptions {
  /** Multiple Message Capable. */
  vectors: MsiVectorCount;
  address64?: boolean;
  perVectorMask?: boolean;
  /** The guest changed the capability (enable, message count, address, data, masks). */
  onChange?: (msi: MsiCapability) => void;
}

export class MsiCapability {
  readonly offset: number;
  readonly length: number;
  private readonly addrHi: number | undefined;
  private readonly dataReg: number;
  private readonly maskReg: number | undefined;
  private readonly pendingReg: number | undefined;
  private readonly capable: number;
  private readonly onChange: ((msi: MsiCapability) => void) | undefined;

  constructor(private readonly config: PciConfig, options: MsiOptions) {
    const wide = options.address64 ?? false;
    const masking = options.perVectorMask ?? false;
    if (!isPowerOfTwo(options.vectors) || options.vectors > 32) {
      throw new RangeError(`wasmpc: pci: MSI vector count ${options.vectors} must be 1, 2, 4, 8, 16 or 32`);
    }
    // §6.8.1 (capability structure layouts): 32-bit 0x0C / 0x14 bytes, 64-bit 0x10 / 0x18 bytes, without /
    // with the Mask and Pending Bits.
    this.length = (wide ? 0x10 : 0x0c) + (masking ? 8 : 0);
    this.offset = config.addCapability(CapId.Msi, this.length);
    this.capable = options.vectors;
    this.onChange = options.onChange;
    const o = this.offset;
    this.addrHi = wide ? o + 8 : undefined;
    this.dataReg = wide ? o + 0x0c : o + 8;
    this.maskReg = masking ? this.dataReg + 4 : undefined;
    this.pendingReg = masking ? this.dataReg + 8 : undefined;
    const mmc = Math.log2(options.vectors) << MSI_CTRL_MMC_SHIFT;
    config.set16(o + 2, mmc | (wide ? MSI_CTRL_64BIT : 0) | (masking ? MSI_CTRL_PER_VECTOR_MASK : 0));
    config.setWritable(o + 2, 2, MSI_CTRL_ENABLE | MSI_CTRL_MME_MASK);
    config.setWritable(o + 4, 4, MSI_ADDR_MASK);
    if (this.addrHi !== undefined) config.setWritable(this.addrHi, 4);
    config.setWritable(this.dataReg, 2, 0xffff);
    if (this.maskReg !== undefined) config.setWritable(this.maskReg, 4, vectorBits(options.vectors));
  }

  get enabled(): boolean { return (this.config.get16(this.offset + 2) & MSI_CTRL_ENABLE) !== 0; }

  /** Vectors the guest allocated (Multiple Message Enable), never more than the function is capable of. */
  get enabledVectors(): number {
    const mme = (this.config.get16(this.offset + 2) & MSI_CTRL_MME_MASK) >>> MSI_CTRL_MME_SHIFT;
    return Math.min(1 << Math.min(mme, 5), this.capable);
  }

  get address(): number {
    const hi = this.addrHi === undefined ? 0 : this.config.get32(this.addrHi);
    return hi * TWO_32 + this.config.get32(this.offset + 4);
  }

  get data(): number { return this.config.get16(this.dataReg); }

  isMasked(vector: number): boolean {
    return this.maskReg !== undefined && ((this.config.get32(this.maskReg) >>> vector) & 1) === 1;
  }

  isPending(vector: number): boolean {
    return this.pendingReg !== undefined && ((this.config.get32(this.pendingReg) >>> vector) & 1) === 1;
  }

  /**
   * Signal `vector`. §6.8.1.3 (Multiple Message Enable) and §6.8.1.6: with several vectors allocated the
   * function sets the low bits of the message data to the vector number. A masked vector becomes pending
   * (§6.8.1.7, §6.8.1.8). Returns whether a message went out.
   */
  notify(vector: number): boolean {
    if (!this.enabled || !Number.isInteger(vector) || vector < 0 || vector >= this.enabledVectors) return false;
    if (this.isMasked(vector)) {
      this.setPending(vector, true);
      return false;
    }
    return this.send(vector);
  }

  /** The core routes guest writes that touch the capability here. */
  written(): void {
    if (this.pendingReg !== undefined && this.enabled) {
      // §6.8.1.8 (Pending Bits): a pending message whose vector is unmasked is sent then.
      for (let v = 0; v < this.enabledVectors; v++) {
        if (this.isPending(v) && !this.isMasked(v) && this.send(v)) this.setPending(v, false);
      }
    }
    this.onChange?.(this);
  }

  private send(vector: number): boolean {
    const n = this.enabledVectors;
    const data = (this.data & ~(n - 1)) | (vector & (n - 1));
    return this.config.deliver(this.address, data);
  }

  private setPending(vector: number, on: boolean): void {
    if (this.pendingReg === undefined) return;
    const bits = this.config.get32(this.pendingReg);
    this.config.set32(this.pendingReg, on ? bits | (1 << vector) : bits & ~(1 << vector));
  }
}

function vectorBits(n: number): number {
  return n >= 32 ? 0xffff_ffff : (1 << n) - 1;
}

// ---- MSI-X (PCI 3.0 §6.8.2) ----

// Message Control (§6.8.2.3).
export const MSIX_CTRL_TABLE_SIZE_MASK = 0x07ff;
export const MSIX_CTRL_FUNCTION_MASK = 0x4000;
export const MSIX_CTRL_ENABLE = 0x8000;
/** §6.8.2.4 / §6.8.2.5: Table and PBA Offset/BIR: the BAR indicator in bits 2:0, a qword-aligned offset above. */
const MSIX_BIR_MASK = 0b111;
/** §6.8.2.6..§6.8.2.9: each table entry is 16 bytes: address low, address high, data, vector control. */
export const MSIX_ENTRY_SIZE = 16;
const MSIX_ENTRY_ADDR_LO = 0;
const MSIX_ENTRY_ADDR_HI = 4;
const MSIX_ENTRY_DATA = 8;
const MSIX_ENTRY_VECTOR_CONTROL = 12;
/** §6.8.2.9: vector control bit 0 masks the vector; it is set at reset. */
export const MSIX_VECTOR_MASKED = 0b1;
const MSIX_ENTRY_WRITABLE = [0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, MSIX_VECTOR_MASKED, 0, 0, 0];
const MSIX_CAP_LENGTH = 12;
const MSIX_MAX_VECTORS = 2048;

export interface MsixOptions {
  /** Table size: 1..2048 vectors. */
  vectors: number;
  /** BAR (a memory BAR the device declared) holding the table, and its qword-aligned offset. */
  tableBar: number;
  tableOffset: number;
  /** BAR and qword-aligned offset of the Pending Bit Array. */
  pbaBar: number;
  pbaOffset: number;
  /** The guest changed the enable or function mask (vector undefined) or table entry `vector`. */
  onChange?: (msix: MsixCapability, vector: number | undefined) => void;
}

export class MsixCapability {
  readonly offset: number;
  readonly length = MSIX_CAP_LENGTH;
  readonly vectors: number;
  readonly claims: readonly BarClaim[];
  private readonly table: Uint8Array;
  private readonly pending: Uint8Array;
  private readonly onChange: ((msix: MsixCapability, vector: number | undefined) => void) | undefined;

  constructor(private readonly config: PciConfig, options: MsixOptions) {
    const { vectors, tableBar, tableOffset, pbaBar, pbaOffset } = options;
    if (!Number.isInteger(vectors) || vectors < 1 || vectors > MSIX_MAX_VECTORS) {
      throw new RangeError(`wasmpc: pci: MSI-X table size ${vectors} must be 1..${MSIX_MAX_VECTORS}`);
    }
    const tableBytes = vectors * MSIX_ENTRY_SIZE;
    const pbaBytes = Math.ceil(vectors / 64) * 8;
    for (const [what, bar, offset, bytes] of [['table', tableBar, tableOffset, tableBytes], ['PBA', pbaBar, pbaOffset, pbaBytes]] as const) {
      const spec = config.bars[bar];
      if (bar >= PCI_BAR_COUNT || spec === undefined || spec.kind === BarKind.Io || offset % 8 !== 0 || offset + bytes > spec.size) {
        throw new RangeError(`wasmpc: pci: MSI-X ${what} at BAR ${bar} + 0x${offset.toString(16)} (${bytes} bytes) needs a declared memory BAR that holds it, qword-aligned`);
      }
    }
    this.offset = config.addCapability(CapId.MsiX, MSIX_CAP_LENGTH);
    this.vectors = vectors;
    this.onChange = options.onChange;
    this.claims = [
      { bar: tableBar, offset: tableOffset, length: tableBytes },
      { bar: pbaBar, offset: pbaOffset, length: pbaBytes },
    ];
    this.table = new Uint8Array(tableBytes);
    this.pending = new Uint8Array(pbaBytes);
    config.set16(this.offset + 2, vectors - 1);
    config.setWritable(this.offset + 2, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_FUNCTION_MASK);
    config.set32(this.offset + 4, (tableOffset | (tableBar & MSIX_BIR_MASK)) >>> 0);
    config.set32(this.offset + 8, (pbaOffset | (pbaBar & MSIX_BIR_MASK)) >>> 0);
    this.reset();
  }

  get enabled(): boolean { return (this.config.get16(this.offset + 2) & MSIX_CTRL_ENABLE) !== 0; }
  get functionMasked(): boolean { return (this.config.get16(this.offset + 2) & MSIX_CTRL_FUNCTION_MASK) !== 0; }

  entryAddress(vector: number): number {
    const e = vector * MSIX_ENTRY_SIZE;
    return this.word(e + MSIX_ENTRY_ADDR_HI) * TWO_32 + this.word(e + MSIX_ENTRY_ADDR_LO);
  }

  entryData(vector: number): number { return this.word(vector * MSIX_ENTRY_SIZE + MSIX_ENTRY_DATA); }

  isMasked(vector: number): boolean {
    return (this.table[vector * MSIX_ENTRY_SIZE + MSIX_ENTRY_VECTOR_CONTROL]! & MSIX_VECTOR_MASKED) !== 0;
  }

  isPending(vector: number): boolean { return ((this.pending[vector >>> 3]! >>> (vector & 7)) & 1) === 1; }

  /** Signal `vector`: sent now, or left pending while it or the function is masked (§6.8.2.3, §6.8.2.9, §6.8.2.10). */
  notify(vector: number): boolean {
    if (!this.enabled || !Number.isInteger(vector) || vector < 0 || vector >= this.vectors) return false;
    if (this.functionMasked || this.isMasked(vector)) {
      this.setPending(vector, true);
      return false;
    }
    return this.config.deliver(this.entryAddress(vector), this.entryData(vector));
  }

  /** All entries masked, no pending bits (§6.8.2.9: the mask bit is set on reset). */
  reset(): void {
    this.table.fill(0);
    this.pending.fill(0);
    for (let v = 0; v < this.vectors; v++) this.table[v * MSIX_ENTRY_SIZE + MSIX_ENTRY_VECTOR_CONTROL] = MSIX_VECTOR_MASKED;
  }

  /** The guest wrote the capability: enable or function mask may have changed. */
  written(): void {
    this.deliverPending();
    this.onChange?.(this, undefined);
  }

  /** A read of the table; `offset` is relative to the table start. */
  tableRead(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= (this.table[offset + i] ?? 0) << (8 * i);
    return value >>> 0;
  }

  tableWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      if (at >= this.table.length) break;
      const wm = MSIX_ENTRY_WRITABLE[at % MSIX_ENTRY_SIZE]!;
      this.table[at] = (this.table[at]! & ~wm) | ((value >>> (8 * i)) & wm);
    }
    const vector = Math.floor(offset / MSIX_ENTRY_SIZE);
    if (vector >= this.vectors) return;
    this.deliverPending();
    this.onChange?.(this, vector);
  }

  /** The Pending Bit Array is read-only (§6.8.2.10); writes are ignored. */
  pbaRead(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= (this.pending[offset + i] ?? 0) << (8 * i);
    return value >>> 0;
  }

  private deliverPending(): void {
    if (!this.enabled || this.functionMasked) return;
    for (let v = 0; v < this.vectors; v++) {
      if (this.isPending(v) && !this.isMasked(v) &&
          this.config.deliver(this.entryAddress(v), this.entryData(v))) this.setPending(v, false);
    }
  }

  private setPending(vector: number, on: boolean): void {
    const bit = 1 << (vector & 7);
    const i = vector >>> 3;
    this.pending[i] = on ? this.pending[i]! | bit : this.pending[i]! & ~bit;
  }

  private word(at: number): number {
    const t = this.table;
    return (t[at]! | (t[at + 1]! << 8) | (t[at + 2]! << 16) | (t[at + 3]! << 24)) >>> 0;
  }
}
