// The PCI core: bus 0 with 32 slots of 8 functions, reached through configuration mechanism #1 (0xCF8/0xCFC,
// PCI Local Bus Specification 3.0 §3.2.2.3.2) and PCIe ECAM (PCI Express Base Specification 2.0 §7.2.2).
//
// As in bhyve's pci_emul.c, the core owns config space and BAR placement: when the guest moves a BAR or
// toggles COMMAND.IO/MEM, the core removes the old range from the IoBus/MmioBus and inserts the new one with
// an adapter that calls the function's barRead(bar, offset, size). A function never learns its addresses.
// The core also wires INTx# through the PIRQ swizzle and turns MSI/MSI-X into calls of the machine's sink.
import type { AccessSize, IoDevice, IrqLine } from './device';
import type { IoBus, MmioBus } from '../machine/bus';
import {
  BarKind, CMD_IO, CMD_MEM, HEADER_MULTI_FUNCTION, IntxPin, PCI_BAR_COUNT, PCI_ROM_BAR, PciReg,
  BAR_IO_ADDR_MASK, BAR_MEM_ADDR_MASK, ROM_ADDR_MASK, ROM_ENABLE, type PciConfig,
} from './pci-config';

/** The device side of a PCI function (bhyve's pe_barread / pe_barwrite / reset). */
export interface PciFunction {
  readonly config: PciConfig;
  /** Access to BAR `bar` (0..5, or 6 for the expansion ROM) at `offset` from its start. */
  barRead(bar: number, offset: number, size: AccessSize): number;
  barWrite(bar: number, offset: number, size: AccessSize, value: number): void;
  /** RST#: the core has already restored the config space. */
  reset(): void;
  /** A guest config write was stored (through the masks); device-specific registers react here. */
  configWritten?(offset: number, size: AccessSize): void;
}

export const PCI_SLOTS = 32;
export const PCI_FUNCTIONS = 8;
export const PCI_CONFIG_ADDRESS_PORT = 0xcf8;
export const PCI_CONFIG_DATA_PORT = 0xcfc;
/** PIIX3 Reset Control register, inside the CONFIG_ADDRESS dword (see Piix3ResetControl in pci-lpc.ts). */
export const PCI_RESET_CONTROL_PORT = 0xcf9;
/** ECAM: 1 MiB per bus, 4 KiB per function (PCIe 2.0 §7.2.2, Table 7-1). */
export const ECAM_BYTES_PER_BUS = 1 << 20;
export const ECAM_BYTES_PER_FUNCTION = 1 << 12;

// CONFIG_ADDRESS (PCI 3.0 §3.2.2.3.2, Figure 3-2).
//  31   30..24    23..16   15..11   10..8    7..2     1..0
// [En][reserved][ bus  ][device][function][register][ 00 ]
export const CONFIG_ADDRESS_ENABLE = 0x8000_0000;
/** Reserved bits 30:24 and bits 1:0 read back as 0. */
const CONFIG_ADDRESS_WRITABLE = 0x80ff_fffc;
const configAddressBus = (a: number) => (a >>> 16) & 0xff;
const configAddressDevice = (a: number) => (a >>> 11) & 0x1f;
const configAddressFunction = (a: number) => (a >>> 8) & 0x7;
const configAddressRegister = (a: number) => a & 0xfc;

/** I/O space a BAR can reach on a PC (the 64 KiB port space), and the MMIO bus (32-bit physical). */
const IO_SPACE_END = 0x1_0000;
const MEM_SPACE_END = 2 ** 32;
const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffff_ffff] as const;
const PIRQ_COUNT = 4;

/**
 * The PIRQ (0 = PIRQA .. 3 = PIRQD) that INTx `pin` (IntxPin, 1 = INTA#) of a device in `slot` drives on
 * bus 0: (slot + pin - 1) mod 4 with pin counted from 0, as QEMU's i440FX/PIIX3 wires it (piix3
 * pci_slot_get_pirq) and as SeaBIOS and the _PRT it generates assume. Slot 1 INTA# is PIRQA.
 */
export function pirqForPin(slot: number, pin: IntxPin): number {
  return (slot + (pin - 1) - 1) & 3;
}

export interface PciBusOptions {
  io: IoBus;
  mmio: MmioBus;
  /** An MSI/MSI-X message: the machine routes writes to 0xFEEx_xxxx to the LAPIC. */
  msiSink: (address: number, data: number) => void;
  /** PIRQA..PIRQD outputs (shared, level, wired-OR here); e.g. Piix3Lpc.pirqLines. */
  pirq?: readonly IrqLine[];
  /** The 0xCF9 register: byte accesses to 0xCF9 go here, since it sits inside the CONFIG_ADDRESS dword. */
  resetControl?: IoDevice;
  /** A guest did something the core refused (a BAR over another range); for a log, never fatal. */
  onWarning?: (message: string) => void;
}

export interface PciBarInfo {
  index: number;
  kind: BarKind;
  size: number;
  prefetchable: boolean;
  /** Decoded address while mapped, else undefined. */
  base: number | undefined;
}

export interface PciDeviceInfo {
  /** "bb:dd.f" as lspci prints it. */
  address: string;
  bus: number;
  slot: number;
  fn: number;
  name: string;
  vendorId: number;
  deviceId: number;
  classCode: number;
  revision: number;
  interruptPin: IntxPin;
  interruptLine: number;
  /** PIRQ index the pin drives, undefined without a pin. */
  pirq: number | undefined;
  bars: PciBarInfo[];
}

interface Mapping {
  space: 'io' | 'mem';
  base: number;
  length: number;
}

/** One attached function and where its BARs currently decode. */
interface Attached {
  readonly slot: number;
  readonly fn: number;
  readonly device: PciFunction;
  readonly name: string;
  readonly pirq: number | undefined;
  /** One IoDevice per BAR, so the bus can remove exactly this BAR. */
  readonly adapters: IoDevice[];
  readonly mapped: Array<Mapping | undefined>;
  /** A placement the guest asked for that the bus refused; retried when some range is freed. */
  readonly refused: Array<Mapping | undefined>;
  intx: boolean;
}

export class PciBus {
  /** 0xCF8..0xCFB: CONFIG_ADDRESS (dword accesses only). Insert with length 4. */
  readonly configAddress: IoDevice;
  /** 0xCFC..0xCFF: CONFIG_DATA. Insert with length 4. */
  readonly configData: IoDevice;
  /** BAR placements refused because the range was taken or outside the space. */
  barConflicts = 0;
  private address = 0;
  private readonly functions: Array<Attached | undefined> = new Array(PCI_SLOTS * PCI_FUNCTIONS).fill(undefined);
  private readonly pirqAsserted = new Array<number>(PIRQ_COUNT).fill(0);

  constructor(private readonly opts: PciBusOptions) {
    this.configAddress = {
      read: (offset, size) => this.readConfigAddress(offset, size),
      write: (offset, size, value) => this.writeConfigAddress(offset, size, value),
    };
    this.configData = {
      read: (offset, size) => this.readConfigData(offset, size),
      write: (offset, size, value) => this.writeConfigData(offset, size, value),
    };
  }

  /** Put `device` at 00:slot.fn. Host configuration: a taken or invalid address throws. */
  attach(slot: number, fn: number, device: PciFunction, name = ''): void {
    if (!Number.isInteger(slot) || !Number.isInteger(fn) || slot < 0 || slot >= PCI_SLOTS || fn < 0 || fn >= PCI_FUNCTIONS) {
      throw new RangeError(`wasmpc: pci: no slot ${slot} function ${fn} (slots 0..31, functions 0..7)`);
    }
    const index = slot * PCI_FUNCTIONS + fn;
    if (this.functions[index]) {
      throw new Error(`wasmpc: pci: 00:${hex2(slot)}.${fn} is taken by ${this.functions[index]!.name}; pick another slot`);
    }
    const pin = device.config.interruptPin;
    const rec: Attached = {
      slot, fn, device,
      name: name || `${hex4(device.config.vendorId)}:${hex4(device.config.deviceId)}`,
      pirq: pin >= IntxPin.IntA && pin <= IntxPin.IntD ? pirqForPin(slot, pin) : undefined,
      adapters: [],
      mapped: new Array(PCI_BAR_COUNT + 1).fill(undefined),
      refused: new Array(PCI_BAR_COUNT + 1).fill(undefined),
      intx: false,
    };
    for (let bar = 0; bar <= PCI_BAR_COUNT; bar++) {
      rec.adapters.push({
        read: (offset, size) => this.barRead(rec, bar, offset, size),
        write: (offset, size, value) => this.barWrite(rec, bar, offset, size, value),
      });
    }
    this.functions[index] = rec;
    // §6.2.1: function 0 reports a multi-function device, or software will not look at functions 1..7.
    if (fn !== 0) this.markMultiFunction(slot);
    else if (this.functions.slice(index + 1, index + PCI_FUNCTIONS).some((f) => f)) this.markMultiFunction(slot);
    device.config.attach({
      intx: (asserted) => this.setIntx(rec, asserted),
      msi: (address, data) => this.opts.msiSink(address, data),
    });
    this.updateBars(rec);
  }

  /** The function at 00:slot.fn, if any. */
  functionAt(slot: number, fn: number): PciFunction | undefined {
    return this.lookup(0, slot, fn)?.device;
  }

  /** A config read as the host bridge would do it: absent functions read all ones (master abort). */
  readConfig(bus: number, slot: number, fn: number, offset: number, size: AccessSize): number {
    const rec = this.lookup(bus, slot, fn);
    if (!rec) return ALL_ONES[size];
    return rec.device.config.read(offset, size);
  }

  writeConfig(bus: number, slot: number, fn: number, offset: number, size: AccessSize, value: number): void {
    const rec = this.lookup(bus, slot, fn);
    if (!rec) return;
    const config = rec.device.config;
    config.write(offset, size, value);
    if (touches(offset, size, PciReg.Command, 2) || touches(offset, size, PciReg.Bar0, 4 * PCI_BAR_COUNT) ||
        touches(offset, size, PciReg.ExpansionRom, 4)) {
      this.updateBars(rec);
    }
    rec.device.configWritten?.(offset, size);
  }

  /**
   * The ECAM window for buses 0..busCount-1: insert it on the MMIO bus with length busCount * 1 MiB
   * (e.g. at 0xB0000000). Only bus 0 is populated; other buses read all ones.
   */
  ecam(busCount: number): IoDevice {
    if (!Number.isInteger(busCount) || busCount < 1 || busCount > 256) {
      throw new RangeError(`wasmpc: pci: ECAM covers 1..256 buses, not ${busCount}`);
    }
    const decode = (offset: number) => ({
      bus: offset >>> 20,
      slot: (offset >>> 15) & 0x1f,
      fn: (offset >>> 12) & 0x7,
      reg: offset & (ECAM_BYTES_PER_FUNCTION - 1),
    });
    const crosses = (offset: number, size: number) =>
      (offset & (ECAM_BYTES_PER_FUNCTION - 1)) + size > ECAM_BYTES_PER_FUNCTION;
    const device: IoDevice = {
      read: (offset, size) => {
        if (crosses(offset, size)) return splitRead(device, offset, size);
        const a = decode(offset);
        return this.readConfig(a.bus, a.slot, a.fn, a.reg, size);
      },
      write: (offset, size, value) => {
        if (crosses(offset, size)) return splitWrite(device, offset, size, value);
        const a = decode(offset);
        this.writeConfig(a.bus, a.slot, a.fn, a.reg, size, value);
      },
    };
    return device;
  }

  /** RST#: every function back to power-on, every BAR unmapped, CONFIG_ADDRESS cleared. */
  reset(): void {
    this.address = 0;
    for (const rec of this.functions) {
      if (!rec) continue;
      rec.device.config.reset();
      rec.device.reset();
      rec.refused.fill(undefined);
      this.updateBars(rec);
    }
  }

  /** The functions on bus 0 in lspci order, with their decoded BARs. */
  listDevices(): PciDeviceInfo[] {
    const out: PciDeviceInfo[] = [];
    for (const rec of this.functions) {
      if (!rec) continue;
      const c = rec.device.config;
      const bars: PciBarInfo[] = [];
      c.bars.forEach((spec, index) => {
        if (!spec) return;
        bars.push({
          index, kind: spec.kind, size: spec.size, prefetchable: spec.prefetchable ?? false,
          base: rec.mapped[index]?.base,
        });
      });
      out.push({
        address: `00:${hex2(rec.slot)}.${rec.fn}`, bus: 0, slot: rec.slot, fn: rec.fn, name: rec.name,
        vendorId: c.vendorId, deviceId: c.deviceId, classCode: c.classCode, revision: c.revision,
        interruptPin: c.interruptPin, interruptLine: c.interruptLine, pirq: rec.pirq, bars,
      });
    }
    return out;
  }

  // ---- configuration mechanism #1 ----

  /** §3.2.2.3.2: only a dword access to 0xCF8 is CONFIG_ADDRESS; anything else passes through as ordinary I/O,
   *  where the only other register is the PIIX3 reset control at 0xCF9. */
  private readConfigAddress(offset: number, size: AccessSize): number {
    if (offset === 0 && size === 4) return this.address >>> 0;
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.passThroughRead(offset + i) << (8 * i);
    return value >>> 0;
  }

  private writeConfigAddress(offset: number, size: AccessSize, value: number): void {
    if (offset === 0 && size === 4) {
      this.address = (value & CONFIG_ADDRESS_WRITABLE) >>> 0;
      return;
    }
    for (let i = 0; i < size; i++) {
      if (offset + i === PCI_RESET_CONTROL_PORT - PCI_CONFIG_ADDRESS_PORT) {
        this.opts.resetControl?.write(0, 1, (value >>> (8 * i)) & 0xff);
      }
    }
  }

  private passThroughRead(offset: number): number {
    const rc = this.opts.resetControl;
    if (rc && offset === PCI_RESET_CONTROL_PORT - PCI_CONFIG_ADDRESS_PORT) return rc.read(0, 1) & 0xff;
    return 0xff;
  }

  /** CONFIG_DATA: any width at any offset within the dword selects register + offset. */
  private readConfigData(offset: number, size: AccessSize): number {
    const a = this.address;
    if (!(a & CONFIG_ADDRESS_ENABLE)) return ALL_ONES[size];
    return this.readConfig(configAddressBus(a), configAddressDevice(a), configAddressFunction(a),
      configAddressRegister(a) + offset, size);
  }

  private writeConfigData(offset: number, size: AccessSize, value: number): void {
    const a = this.address;
    if (!(a & CONFIG_ADDRESS_ENABLE)) return;
    this.writeConfig(configAddressBus(a), configAddressDevice(a), configAddressFunction(a),
      configAddressRegister(a) + offset, size, value);
  }

  private lookup(bus: number, slot: number, fn: number): Attached | undefined {
    if (bus !== 0 || slot < 0 || slot >= PCI_SLOTS || fn < 0 || fn >= PCI_FUNCTIONS) return undefined;
    return this.functions[slot * PCI_FUNCTIONS + fn];
  }

  private markMultiFunction(slot: number): void {
    const f0 = this.functions[slot * PCI_FUNCTIONS];
    if (!f0) return;
    const c = f0.device.config;
    c.set8(PciReg.HeaderType, c.headerType | HEADER_MULTI_FUNCTION);
  }

  // ---- BAR placement ----

  /**
   * Where BAR `bar` should decode now, or undefined. Following QEMU's pci_bar_address: address 0 and a range
   * that reaches the top of its space (what all-ones sizing leaves behind) count as unassigned; a 64-bit BAR
   * above 4 GiB cannot be placed on the 32-bit MMIO bus.
   */
  private wanted(rec: Attached, bar: number): Mapping | undefined {
    const c = rec.device.config;
    const spec = c.bars[bar];
    if (!spec) return undefined;
    const cmd = c.command;
    if (bar === PCI_ROM_BAR) {
      const reg = c.get32(PciReg.ExpansionRom);
      if (!(cmd & CMD_MEM) || !(reg & ROM_ENABLE)) return undefined;
      return memRange((reg & ROM_ADDR_MASK) >>> 0, spec.size);
    }
    const reg = PciReg.Bar0 + 4 * bar;
    if (spec.kind === BarKind.Io) {
      const base = (c.get32(reg) & BAR_IO_ADDR_MASK) >>> 0;
      if (!(cmd & CMD_IO) || base === 0 || base + spec.size > IO_SPACE_END) return undefined;
      return { space: 'io', base, length: spec.size };
    }
    if (!(cmd & CMD_MEM)) return undefined;
    if (spec.kind === BarKind.Mem64 && c.get32(reg + 4) !== 0) return undefined;
    return memRange((c.get32(reg) & BAR_MEM_ADDR_MASK) >>> 0, spec.size);
  }

  private updateBars(rec: Attached): void {
    let freed = false;
    for (let bar = 0; bar <= PCI_BAR_COUNT; bar++) {
      const want = this.wanted(rec, bar);
      const cur = rec.mapped[bar];
      if (sameMapping(cur, want)) continue;
      if (cur) {
        this.bus(cur.space).remove(rec.adapters[bar]!, cur.base);
        rec.mapped[bar] = undefined;
        freed = true;
      }
      if (!want) {
        rec.refused[bar] = undefined;
      } else if (!sameMapping(rec.refused[bar], want)) {
        rec.refused[bar] = undefined;
        if (!this.place(rec, bar, want)) {
          rec.refused[bar] = want;
          this.barConflicts++;
        }
      }
    }
    if (freed) this.retryRefused();
  }

  /** Insert one BAR; false when the bus refuses (overlap or out of range). Guest input never throws out. */
  private place(rec: Attached, bar: number, m: Mapping): boolean {
    const what = `00:${hex2(rec.slot)}.${rec.fn} ${rec.name} ${bar === PCI_ROM_BAR ? 'ROM' : `BAR${bar}`}`;
    try {
      this.bus(m.space).insert(rec.adapters[bar]!, m.base, m.length, what);
    } catch (e) {
      this.opts.onWarning?.(`wasmpc: pci: ${what} left unmapped: ${(e as Error).message}`);
      return false;
    }
    rec.mapped[bar] = m;
    return true;
  }

  private retryRefused(): void {
    for (const rec of this.functions) {
      if (!rec) continue;
      for (let bar = 0; bar <= PCI_BAR_COUNT; bar++) {
        const m = rec.refused[bar];
        if (m && this.free(m) && this.place(rec, bar, m)) rec.refused[bar] = undefined;
      }
    }
  }

  private free(m: Mapping): boolean {
    return !this.bus(m.space).list().some((r) => m.base < r.base + r.length && r.base < m.base + m.length);
  }

  private bus(space: 'io' | 'mem'): IoBus | MmioBus {
    return space === 'io' ? this.opts.io : this.opts.mmio;
  }

  /** The MSI-X table and PBA live in a BAR but belong to the core (they are part of the capability). */
  private barRead(rec: Attached, bar: number, offset: number, size: AccessSize): number {
    const msix = rec.device.config.msix;
    if (msix) {
      const [table, pba] = msix.claims;
      if (within(table!, bar, offset)) return msix.tableRead(offset - table!.offset, size);
      if (within(pba!, bar, offset)) return msix.pbaRead(offset - pba!.offset, size);
    }
    return (rec.device.barRead(bar, offset, size) & ALL_ONES[size]) >>> 0;
  }

  private barWrite(rec: Attached, bar: number, offset: number, size: AccessSize, value: number): void {
    const msix = rec.device.config.msix;
    if (msix) {
      const [table, pba] = msix.claims;
      if (within(table!, bar, offset)) return msix.tableWrite(offset - table!.offset, size, value);
      if (within(pba!, bar, offset)) return;
    }
    rec.device.barWrite(bar, offset, size, value);
  }

  // ---- INTx ----

  /** PIRQ lines are shared and level-triggered: high while any function on them asserts (wired-OR). */
  private setIntx(rec: Attached, asserted: boolean): void {
    if (rec.intx === asserted || rec.pirq === undefined) return;
    rec.intx = asserted;
    const p = rec.pirq;
    const before = this.pirqAsserted[p]!;
    this.pirqAsserted[p] = before + (asserted ? 1 : -1);
    const line = this.opts.pirq?.[p];
    if (asserted && before === 0) line?.raise();
    else if (!asserted && before === 1) line?.lower();
  }
}

function memRange(base: number, size: number): Mapping | undefined {
  if (base === 0 || base + size >= MEM_SPACE_END) return undefined;
  return { space: 'mem', base, length: size };
}

function sameMapping(a: Mapping | undefined, b: Mapping | undefined): boolean {
  if (!a || !b) return a === b;
  return a.space === b.space && a.base === b.base && a.length === b.length;
}

function touches(offset: number, size: number, reg: number, length: number): boolean {
  return offset < reg + length && reg < offset + size;
}

function within(claim: { bar: number; offset: number; length: number }, bar: number, offset: number): boolean {
  return claim.bar === bar && offset >= claim.offset && offset < claim.offset + claim.length;
}

function splitRead(device: IoDevice, offset: number, size: number): number {
  let value = 0;
  for (let i = 0; i < size; i++) value |= (device.read(offset + i, 1) & 0xff) << (8 * i);
  return value >>> 0;
}

function splitWrite(device: IoDevice, offset: number, size: number, value: number): void {
  for (let i = 0; i < size; i++) device.write(offset + i, 1, (value >>> (8 * i)) & 0xff);
}

function hex2(n: number): string { return n.toString(16).padStart(2, '0'); }
function hex4(n: number): string { return n.toString(16).padStart(4, '0'); }
