// The I/O APIC: Intel 82093AA data sheet (order 290566), in the version 0x20 form of the ICH south bridges (24
// redirection entries and a directed EOI register at offset 0x40, Intel ICH5 data sheet §9.5). Linux uses the
// EOI register for version >= 0x20 instead of toggling the trigger mode to clear remote IRR.
//
// The device sees offsets in its MMIO window (0xFEC00000 on a PC; the machine maps 4 KiB): IOREGSEL at 0x00
// selects a register that IOWIN at 0x10 reads and writes. IOREGSEL takes a write of any width (it is 8 bits);
// IOWIN and EOI take 32-bit writes only and ignore narrower ones; narrower reads return bytes of the register.
//
// Inputs are logical: IrqLine.raise() asserts a pin whatever its polarity bit says (the polarity of the board
// trace is implied; the bit is stored and read back). Delivery goes out through the `deliver` callback (the
// interrupt router), so the I/O APIC knows destinations, not local APIC objects.
import type { AccessSize, IoDevice, IrqLine } from "./device";
import { DeliveryMode, DestMode, type Trigger } from "./lapic";

/** Physical address of the window on a PC. */
export const IOAPIC_BASE = 0xfec0_0000;
export const IOAPIC_SIZE = 0x1000;
export const IOAPIC_VERSION = 0x20;
export const IOAPIC_PINS = 24;

/** MMIO offsets. */
export const enum IoApicReg {
  RegSel = 0x00,
  Window = 0x10,
  /** Version 0x20: writing a vector clears remote IRR of the level-triggered entries with that vector. */
  Eoi = 0x40,
}

/** IOREGSEL indices (82093AA §3.2). Entry n is at RedirectionTable + 2n (bits 31:0) and + 2n + 1 (63:32). */
export const enum IoApicIndex {
  Id = 0x00,
  Version = 0x01,
  Arbitration = 0x02,
  RedirectionTable = 0x10,
}

/** ID (and arbitration ID) in bits 27:24. */
const ID_MASK = 0x0f00_0000;
/** Version register: version in bits 7:0, maximum redirection entry in bits 23:16. */
const VERSION_VALUE = IOAPIC_VERSION | (IOAPIC_PINS - 1) << 16;

// Redirection entry, low dword (82093AA §3.2.4).
export const RTE_VECTOR = 0xff;
const RTE_MODE_SHIFT = 8;
const RTE_MODE_MASK = 0b111;
export const RTE_DEST_LOGICAL = 1 << 11;
/** Delivery status: always idle here, a message is delivered the moment it is sent. */
export const RTE_DELIVERY_STATUS = 1 << 12;
export const RTE_POLARITY_LOW = 1 << 13;
export const RTE_REMOTE_IRR = 1 << 14;
export const RTE_LEVEL = 1 << 15;
export const RTE_MASKED = 1 << 16;
const RTE_LOW_WRITABLE =
  RTE_VECTOR | RTE_MODE_MASK << RTE_MODE_SHIFT | RTE_DEST_LOGICAL | RTE_POLARITY_LOW | RTE_LEVEL | RTE_MASKED;
// High dword: the destination in bits 63:56.
const RTE_DEST_SHIFT = 24;
const RTE_HIGH_WRITABLE = 0xff00_0000;

/** Where the I/O APIC sends an interrupt message: the interrupt router. */
export type DeliverFn = (
  destination: number,
  destMode: DestMode,
  deliveryMode: DeliveryMode,
  vector: number,
  trigger: Trigger,
) => void;

export class IoApic implements IoDevice {
  private regSel = 0;
  private id = 0;
  private readonly low = new Uint32Array(IOAPIC_PINS);
  private readonly high = new Uint32Array(IOAPIC_PINS);
  /** Asserted pins, bit n for pin n. */
  private lines = 0;
  private readonly irqLines: IrqLine[] = [];

  constructor(private readonly deliverFn: DeliverFn) {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      this.irqLines.push({ raise: () => this.setLine(pin, true), lower: () => this.setLine(pin, false) });
    }
    this.reset();
  }

  /** 82093AA §3.2: ID 0, every entry masked. The pins keep their levels (they belong to the devices). */
  reset(): void {
    this.regSel = 0;
    this.id = 0;
    this.low.fill(RTE_MASKED);
    this.high.fill(0);
  }

  /** Input pin `pin` (0..23) for a device. */
  irqLine(pin: number): IrqLine {
    const line = this.irqLines[pin];
    if (line === undefined) throw new RangeError(`wasmpc: ioapic: no pin ${pin} (the I/O APIC has pins 0..${IOAPIC_PINS - 1})`);
    return line;
  }

  read(offset: number, size: AccessSize): number {
    let value = 0;
    if (offset >= IoApicReg.RegSel && offset < IoApicReg.RegSel + 4) value = this.regSel;
    else if (offset >= IoApicReg.Window && offset < IoApicReg.Window + 4) value = this.readIndexed(this.regSel);
    // The EOI register is write-only; the rest of the window reads 0.
    value >>>= 8 * (offset & 3);
    return size === 4 ? value >>> 0 : value & ((1 << (8 * size)) - 1);
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset === IoApicReg.RegSel) {
      this.regSel = value & 0xff;
    } else if (size === 4 && offset === IoApicReg.Window) {
      this.writeIndexed(this.regSel, value >>> 0);
    } else if (size === 4 && offset === IoApicReg.Eoi) {
      this.eoi(value & RTE_VECTOR);
    }
  }

  /**
   * EOI of `vector` (the local APIC's EOI broadcast, or the EOI register): level-triggered entries with this
   * vector clear remote IRR, and one whose pin is still asserted interrupts again (82093AA §3.2.4, bit 14).
   */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const entry = this.low[pin];
      if (!(entry & RTE_REMOTE_IRR) || (entry & RTE_VECTOR) !== vector) continue;
      this.low[pin] = entry & ~RTE_REMOTE_IRR;
      this.serviceLevel(pin);
    }
  }

  private setLine(pin: number, level: boolean): void {
    const bit = 1 << pin;
    const rising = level && !(this.lines & bit);
    if (level) this.lines |= bit;
    else this.lines &= ~bit;
    if (this.remoteIrrApplies(pin)) this.serviceLevel(pin);
    // 82093AA §3.2.4, mask: an edge on a masked pin is ignored, not held pending.
    else if (rising && !(this.low[pin] & RTE_MASKED)) this.send(pin);
  }

  /** Level-triggered fixed and lowest-priority entries use remote IRR; other delivery modes are edge-only. */
  private remoteIrrApplies(pin: number): boolean {
    const entry = this.low[pin];
    const mode = (entry >> RTE_MODE_SHIFT) & RTE_MODE_MASK;
    return (entry & RTE_LEVEL) !== 0 && (mode === DeliveryMode.Fixed || mode === DeliveryMode.LowestPriority);
  }

  /** A level-triggered pin interrupts while asserted, unmasked and not awaiting EOI; remote IRR then waits for it. */
  private serviceLevel(pin: number): void {
    const entry = this.low[pin];
    if (!(this.lines & (1 << pin)) || entry & (RTE_MASKED | RTE_REMOTE_IRR)) return;
    this.low[pin] = entry | RTE_REMOTE_IRR;
    this.send(pin);
  }

  private send(pin: number): void {
    const entry = this.low[pin];
    this.deliverFn(
      this.high[pin] >>> RTE_DEST_SHIFT,
      entry & RTE_DEST_LOGICAL ? DestMode.Logical : DestMode.Physical,
      ((entry >> RTE_MODE_SHIFT) & RTE_MODE_MASK) as DeliveryMode,
      entry & RTE_VECTOR,
      this.remoteIrrApplies(pin) ? "level" : "edge",
    );
  }

  private readIndexed(index: number): number {
    switch (index) {
      case IoApicIndex.Id: return this.id;
      case IoApicIndex.Version: return VERSION_VALUE;
      // The arbitration ID is loaded from the ID whenever the ID is written (82093AA §3.2.3).
      case IoApicIndex.Arbitration: return this.id;
      default: {
        const pin = (index - IoApicIndex.RedirectionTable) >> 1;
        if (index < IoApicIndex.RedirectionTable || pin >= IOAPIC_PINS) return 0;
        return index & 1 ? this.high[pin] : this.low[pin];
      }
    }
  }

  private writeIndexed(index: number, value: number): void {
    if (index === IoApicIndex.Id) {
      this.id = value & ID_MASK;
      return;
    }
    const pin = (index - IoApicIndex.RedirectionTable) >> 1;
    if (index < IoApicIndex.RedirectionTable || pin >= IOAPIC_PINS) return; // version, arbitration: read-only
    if (index & 1) {
      this.high[pin] = (value & RTE_HIGH_WRITABLE) >>> 0;
      return;
    }
    let entry = (value & RTE_LOW_WRITABLE) | (this.low[pin] & RTE_REMOTE_IRR);
    // Remote IRR is undefined for edge-triggered entries; switching to edge clears it (Linux relies on this
    // for I/O APICs without an EOI register).
    if (!(entry & RTE_LEVEL)) entry &= ~RTE_REMOTE_IRR;
    this.low[pin] = entry >>> 0;
    // Unmasking (or reprogramming) an asserted level-triggered pin interrupts.
    if (this.remoteIrrApplies(pin)) this.serviceLevel(pin);
  }
}
