// The local APIC of one vCPU in xAPIC (MMIO) mode: Intel SDM Vol. 3A chapter 10 "Advanced Programmable
// Interrupt Controller (APIC)". The register set is that of a Pentium 4 / Xeon xAPIC: version 0x14 with six LVT
// entries (timer, thermal, performance, LINT0, LINT1, error; no CMCI) and no TSC-deadline timer mode.
//
// The device sees offsets within its 4 KiB page (IA32_APIC_BASE, 0xFEE00000 after reset). Registers are 32 bits
// at 16-byte strides (SDM Table 10-1). A read narrower than 4 bytes returns those bytes of the containing
// register; bytes 4..15 of a slot read 0. SDM 10.4.1 makes narrower accesses model specific: here writes narrower
// than 4 bytes are ignored, as KVM does. An access to a reserved slot logs ESR "illegal register address".
// While the APIC is globally disabled the window reads as open bus (all ones) and ignores writes.
//
// The timer counts a 1 GHz bus clock (one tick per virtual nanosecond, as QEMU's APIC does), the same rate as the
// core's TSC, so a guest that calibrates one against the other gets a whole ratio.
//
// The interrupt path to the CPU:
//   IA32_APIC_BASE[11] = 0  the APIC is off (SDM 10.4.3): LINT0 is the CPU's INTR pin (the 8259A's output) and
//                           LINT1 its NMI pin; INTA goes to the 8259A.
//   otherwise               INTR is raised by an IRR vector whose priority class beats PPR, or by an ExtINT
//                           source (LINT0 programmed as ExtINT, or an ExtINT message from an I/O APIC), which
//                           goes around the IRR/ISR: INTA then reads the vector from the 8259A (SDM 10.5.1).
import type { AccessSize, Clock, IoDevice, VirtualTimer } from "./device";

/** Physical address of the APIC page after reset (IA32_APIC_BASE bits 35:12). */
export const LAPIC_BASE = 0xfee0_0000;
/** Bytes of the MMIO window. */
export const LAPIC_SIZE = 0x1000;
/** Timer input: the bus clock, one tick per virtual nanosecond (the divide configuration divides it). */
export const APIC_BUS_HZ = 1_000_000_000;
const NS_PER_BUS_TICK = 1e9 / APIC_BUS_HZ;
/**
 * A periodic timer interrupts at most this often (ns). The current count still follows the programmed period;
 * only interrupts closer together than this are merged, so a guest programming a 1-tick period cannot stall the
 * host (KVM applies a similar floor, min_timer_period_us).
 */
export const MIN_PERIODIC_INTERRUPT_NS = 100_000;

/** Register offsets (SDM Table 10-1 "Local APIC Register Address Map"). */
export const enum LapicReg {
  Id = 0x020,
  Version = 0x030,
  Tpr = 0x080,
  Apr = 0x090,
  Ppr = 0x0a0,
  Eoi = 0x0b0,
  Rrd = 0x0c0,
  Ldr = 0x0d0,
  Dfr = 0x0e0,
  Svr = 0x0f0,
  /** ISR bits 31..0 at 0x100, 63..32 at 0x110, ... 255..224 at 0x170; TMR and IRR likewise. */
  Isr = 0x100,
  Tmr = 0x180,
  Irr = 0x200,
  Esr = 0x280,
  IcrLow = 0x300,
  IcrHigh = 0x310,
  LvtTimer = 0x320,
  LvtThermal = 0x330,
  LvtPerf = 0x340,
  LvtLint0 = 0x350,
  LvtLint1 = 0x360,
  LvtError = 0x370,
  TimerInitialCount = 0x380,
  TimerCurrentCount = 0x390,
  TimerDivide = 0x3e0,
}

/** LVT entries in address order: index = (offset - LvtTimer) / 16. */
export const enum Lvt {
  Timer,
  Thermal,
  Perf,
  Lint0,
  Lint1,
  Error,
}
const LVT_COUNT = 6;

/** Delivery mode: LVT bits 10:8, ICR bits 10:8, I/O APIC redirection entry bits 10:8 (0b011 is reserved). */
export const enum DeliveryMode {
  Fixed = 0b000,
  LowestPriority = 0b001,
  Smi = 0b010,
  Nmi = 0b100,
  Init = 0b101,
  /** SIPI; in an LVT or I/O APIC entry this encoding is reserved. */
  StartUp = 0b110,
  /** LVT LINT0/LINT1 and I/O APIC entries only; reserved in the ICR. */
  ExtInt = 0b111,
}

/** ICR bit 11 and I/O APIC redirection entry bit 11. */
export const enum DestMode {
  Physical = 0,
  Logical = 1,
}

/** ICR bits 19:18. */
export const enum Shorthand {
  None = 0b00,
  Self = 0b01,
  AllIncludingSelf = 0b10,
  AllExcludingSelf = 0b11,
}

export type Trigger = "edge" | "level";

/** An interprocessor interrupt as written to the ICR. */
export interface Ipi {
  /** ICR bits 63:56: an APIC ID (physical) or a logical destination; 0xFF broadcasts. */
  destination: number;
  destMode: DestMode;
  deliveryMode: DeliveryMode;
  vector: number;
  trigger: Trigger;
  shorthand: Shorthand;
}

/** The 8259A side of an ExtINT: the INTA cycle that returns its vector. DualPic8259 fits. */
export interface ExtIntSource {
  acknowledge(): number;
}

export interface LapicOptions {
  /** APIC ID (bits 31:24 of the ID register after reset). */
  id: number;
  clock: Clock;
  /**
   * The bootstrap processor: IA32_APIC_BASE.BSP is set and, as QEMU resets it (hw/intc/apic_common.c), LINT0
   * starts unmasked in ExtINT mode (virtual wire), so the 8259A reaches the CPU before firmware programs the APIC.
   */
  bsp?: boolean;
  /** Where an ExtINT's INTA goes (the 8259A). Without one, INTA of an ExtINT returns -1. */
  extInt?: ExtIntSource;
  /** The CPU's INTR input (level). */
  onIntr(level: boolean): void;
  /** The CPU's NMI input (edge). */
  onNmi(): void;
  /** An INIT was received; the APIC has already reset itself (SDM 10.4.7.3). */
  onInit?(): void;
  /** A start-up IPI: the vector names the 4 KiB page the AP starts at. */
  onSipi?(vector: number): void;
  /** EOI of a level-triggered vector (TMR set): the I/O APICs clear remote IRR (SDM 10.8.5). */
  onEoi?(vector: number): void;
  /** A write to ICR low sent `ipi`; the router delivers it. */
  sendIpi?(from: Lapic, ipi: Ipi): void;
}

// IA32_APIC_BASE (SDM Figure 10-5).
export const APIC_BASE_BSP = 0b1_0000_0000;
export const APIC_BASE_ENABLE = 0b1000_0000_0000;
const APIC_BASE_LOW_BITS = 0x1000;
const PHYS_ADDR_LIMIT = 2 ** 36;

/** Version register: version 0x14 (integrated xAPIC) in bits 7:0, max LVT entry (5) in bits 23:16. */
export const LAPIC_VERSION = 0x14 | (LVT_COUNT - 1) << 16;

// LVT entry bits (SDM Figure 10-8).
export const LVT_VECTOR = 0xff;
const LVT_MODE_SHIFT = 8;
const THREE_BITS = 0b111;
const LVT_MODE = THREE_BITS << LVT_MODE_SHIFT;
export const LVT_POLARITY_LOW = 1 << 13;
export const LVT_REMOTE_IRR = 1 << 14;
export const LVT_LEVEL = 1 << 15;
export const LVT_MASKED = 1 << 16;
export const LVT_TIMER_PERIODIC = 1 << 17;
/** Writable bits per LVT: the timer has no delivery mode; LINT0/1 add polarity and trigger; the error LVT is fixed. */
const LVT_WRITABLE = [
  LVT_VECTOR | LVT_MASKED | LVT_TIMER_PERIODIC,
  LVT_VECTOR | LVT_MODE | LVT_MASKED,
  LVT_VECTOR | LVT_MODE | LVT_MASKED,
  LVT_VECTOR | LVT_MODE | LVT_POLARITY_LOW | LVT_LEVEL | LVT_MASKED,
  LVT_VECTOR | LVT_MODE | LVT_POLARITY_LOW | LVT_LEVEL | LVT_MASKED,
  LVT_VECTOR | LVT_MASKED,
];

// Spurious-interrupt vector register (SDM Figure 10-23). On a Pentium 4 all 8 vector bits are writable.
export const SVR_VECTOR = 0xff;
export const SVR_APIC_ENABLED = 1 << 8;
/** Focus processor checking disabled (0: enabled). */
export const SVR_FOCUS_DISABLED = 1 << 9;
const SVR_WRITABLE = 0x3ff;

// DFR: model in bits 31:28 (0b1111 flat, 0b0000 cluster), bits 27:0 read as 1.
export const DFR_MODEL_FLAT = 0xf;
const DFR_MODEL_SHIFT = 28;
const DFR_RESERVED_ONES = 0x0fff_ffff;
/** ID and LDR: an 8-bit value in bits 31:24. */
const ID_SHIFT = 24;
const ID_MASK = 0xff;

// ESR bits (SDM Figure 10-9). The P6-only APIC-bus checksum and accept errors do not arise on the xAPIC.
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

// ICR (SDM Figure 10-12).
const ICR_DEST_LOGICAL = 1 << 11;
/** Bit 14: assert (1) or de-assert (0). Only INIT level de-assert uses 0. */
const ICR_LEVEL_ASSERT = 1 << 14;
const ICR_TRIGGER_LEVEL = 1 << 15;
const ICR_SHORTHAND_SHIFT = 18;
const ICR_SHORTHAND_MASK = 0b11;
const ICR_LOW_WRITABLE = 0x000c_cfff;
const ICR_HIGH_WRITABLE = 0xff00_0000;

/** Divide configuration: bits 3, 1, 0 (SDM Figure 10-10). */
const DCR_WRITABLE = 0b1011;
const PRIORITY_CLASS = 0xf0;
/** Vectors 0..15 are reserved for exceptions: an APIC never accepts them (SDM 10.5.2). */
const FIRST_LEGAL_VECTOR = 16;

/** 256-bit vector sets (IRR, ISR, TMR) as 8 dwords, bit v of the set at word v >> 5, bit v & 31. */
function setBit(set: Uint32Array, v: number): void {
  set[v >>> 5] |= 1 << (v & 31);
}
function clearBit(set: Uint32Array, v: number): void {
  set[v >>> 5] &= ~(1 << (v & 31));
}
function testBit(set: Uint32Array, v: number): boolean {
  return (set[v >>> 5] & (1 << (v & 31))) !== 0;
}
/** The highest vector in the set, or -1. */
function highestBit(set: Uint32Array): number {
  for (let w = set.length - 1; w >= 0; w--) {
    if (set[w] !== 0) return (w << 5) + 31 - Math.clz32(set[w]);
  }
  return -1;
}

/** End of the register map; slots below it that name no register are reserved (SDM Table 10-1). */
const REGISTER_SPACE_END = 0x400;

export class Lapic implements IoDevice {
  private apicId: number;
  private baseMsr = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0;
  private svr = 0;
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly lvt = new Uint32Array(LVT_COUNT);
  /** ESR as last latched by a write, and the errors logged since (SDM 10.5.3). */
  private esr = 0;
  private esrPending = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private timerInitial = 0;
  private timerDivide = 0;
  /** The count was `timerInitial` at this time (ns): the start of the current period. */
  private timerStartNs = 0;
  /** Counting: an initial count was written and, in one-shot mode, has not yet reached zero. */
  private timerRunning = false;
  private readonly timer: VirtualTimer;
  /** Input levels of the LINT0 and LINT1 pins. */
  private lint0 = false;
  private lint1 = false;
  /** An ExtINT message (from an I/O APIC entry) waits for INTA. */
  private extIntMessage = false;
  private intr = false;

  constructor(private readonly opts: LapicOptions) {
    this.apicId = opts.id & ID_MASK;
    this.timer = opts.clock.timer((now) => this.timerExpired(now));
    this.reset();
  }

  /** Power-up or RESET (SDM 10.4.7.1): IA32_APIC_BASE back to 0xFEE00000 with the APIC globally enabled. */
  reset(): void {
    this.apicId = this.opts.id & ID_MASK;
    this.baseMsr = LAPIC_BASE + APIC_BASE_ENABLE + (this.opts.bsp ? APIC_BASE_BSP : 0);
    this.powerUpRegisters();
    this.update();
  }

  /** IA32_APIC_BASE as the CPU reads it. */
  readBaseMsr(): number {
    return this.baseMsr;
  }

  /** Physical address of the register page; the machine re-maps the MMIO window when it moves. */
  baseAddress(): number {
    return this.baseMsr - (this.baseMsr % APIC_BASE_LOW_BITS);
  }

  /**
   * WRMSR IA32_APIC_BASE: bits 35:12 move the page, bit 11 enables the APIC globally, bit 8 (BSP) is read-only.
   * SDM 10.4.3: clearing bit 11 may return the APIC to its power-up state; this model always does.
   */
  setBaseMsr(value: number): void {
    const low = value % APIC_BASE_LOW_BITS;
    const base = (value - low) % PHYS_ADDR_LIMIT;
    const wasEnabled = this.globallyEnabled();
    this.baseMsr = base + (low & APIC_BASE_ENABLE) + (this.baseMsr & APIC_BASE_BSP);
    if (wasEnabled && !this.globallyEnabled()) this.powerUpRegisters();
    this.update();
  }

  globallyEnabled(): boolean {
    return (this.baseMsr & APIC_BASE_ENABLE) !== 0;
  }

  softwareEnabled(): boolean {
    return (this.svr & SVR_APIC_ENABLED) !== 0;
  }

  /** Current APIC ID (the ID register is writable on this model). */
  id(): number {
    return this.apicId;
  }

  /** Logical APIC ID: LDR bits 31:24. */
  logicalId(): number {
    return this.ldr >>> ID_SHIFT;
  }

  /** DFR model: true for the flat model, false for cluster. */
  flatModel(): boolean {
    return this.dfr >>> DFR_MODEL_SHIFT === DFR_MODEL_FLAT;
  }

  /** Focus processor checking (SVR bit 9 clear) with `vector` already pending or in service (SDM 10.6.2.4). */
  isFocusFor(vector: number): boolean {
    return (this.svr & SVR_FOCUS_DISABLED) === 0 && (testBit(this.irr, vector) || testBit(this.isr, vector));
  }

  /** Processor priority (SDM 10.8.3.1): TPR, or the class of the highest in-service vector if that is higher. */
  ppr(): number {
    const isrv = Math.max(highestBit(this.isr), 0);
    return (this.tpr & PRIORITY_CLASS) >= (isrv & PRIORITY_CLASS) ? this.tpr : isrv & PRIORITY_CLASS;
  }

  /** Arbitration priority (SDM 10.6.2.4, Pentium 4 and Xeon). */
  apr(): number {
    const irrv = Math.max(highestBit(this.irr), 0);
    const isrv = Math.max(highestBit(this.isr), 0);
    const tprClass = this.tpr & PRIORITY_CLASS;
    if (tprClass >= (irrv & PRIORITY_CLASS) && tprClass > (isrv & PRIORITY_CLASS)) return this.tpr;
    return Math.max(tprClass, isrv & PRIORITY_CLASS, irrv & PRIORITY_CLASS);
  }

  /** A globally disabled APIC has no registers (SDM 10.4.3): the window reads as open bus and ignores writes. */
  read(offset: number, size: AccessSize): number {
    if (!this.globallyEnabled()) return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
    const shift = 8 * (offset & 3);
    const value = (offset & 0xf) < 4 ? this.readRegister(offset & ~0xf) >>> shift : 0;
    return size === 4 ? value >>> 0 : value & ((1 << (8 * size)) - 1);
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (!this.globallyEnabled() || size !== 4 || (offset & 0xf) !== 0) return;
    this.writeRegister(offset, value >>> 0);
    this.update();
  }

  /** Level of the LINT0 input (the 8259A's INTR on a PC). */
  setLint0(level: boolean): void {
    const rising = level && !this.lint0;
    this.lint0 = level;
    if (this.globallyEnabled()) this.lintInput(Lvt.Lint0, rising);
    this.update();
  }

  /** Level of the LINT1 input (the board's NMI source). */
  setLint1(level: boolean): void {
    const rising = level && !this.lint1;
    this.lint1 = level;
    if (!this.globallyEnabled()) {
      if (rising) this.opts.onNmi();
      return;
    }
    this.lintInput(Lvt.Lint1, rising);
    this.update();
  }

  /**
   * A message from the APIC bus (an IPI, an I/O APIC entry). A globally disabled APIC hears nothing; a software
   * disabled one still takes NMI, SMI, INIT and SIPI (SDM 10.4.7.2). SMI is dropped: the core has no SMM.
   */
  receive(mode: DeliveryMode, vector: number, trigger: Trigger): void {
    if (!this.globallyEnabled()) return;
    switch (mode) {
      case DeliveryMode.Fixed:
      case DeliveryMode.LowestPriority:
        this.accept(vector, trigger);
        break;
      case DeliveryMode.Nmi:
        this.opts.onNmi();
        break;
      case DeliveryMode.Init:
        this.initReset();
        break;
      case DeliveryMode.StartUp:
        this.opts.onSipi?.(vector);
        break;
      case DeliveryMode.ExtInt:
        this.extIntMessage = true;
        this.update();
        break;
      default:
        break;
    }
  }

  /**
   * A fixed interrupt arrives: IRR is set, and TMR set for level, cleared for edge (SDM 10.8.4). Vectors 0..15
   * are refused with ESR "receive illegal vector" (SDM 10.5.3). A software-disabled APIC drops it, as KVM does.
   */
  accept(vector: number, trigger: Trigger): void {
    vector &= 0xff;
    if (!this.globallyEnabled() || !this.softwareEnabled()) return;
    if (vector < FIRST_LEGAL_VECTOR) {
      this.logError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector);
    if (trigger === "level") setBit(this.tmr, vector);
    else clearBit(this.tmr, vector);
    this.update();
  }

  /** Level of the CPU's INTR input as this APIC drives it. */
  hasInterrupt(): boolean {
    if (!this.globallyEnabled()) return this.lint0;
    return this.extIntAsserted() || this.deliverableVector() >= 0;
  }

  /**
   * INTA. An ExtINT (or a disabled APIC) gets the vector from the 8259A. Otherwise the highest IRR vector above
   * PPR moves to ISR; if none is left (TPR was raised after INTR), the spurious vector, without ISR (SDM 10.9).
   */
  acknowledge(): number {
    if (!this.globallyEnabled() || this.extIntAsserted()) {
      this.extIntMessage = false;
      const vector = this.opts.extInt?.acknowledge() ?? -1;
      this.update();
      return vector;
    }
    const vector = this.deliverableVector();
    if (vector < 0) return this.svr & SVR_VECTOR;
    clearBit(this.irr, vector);
    setBit(this.isr, vector);
    this.update();
    return vector;
  }

  private powerUpRegisters(): void {
    this.resetRegisters();
    if (this.opts.bsp) this.lvt[Lvt.Lint0] = DeliveryMode.ExtInt << LVT_MODE_SHIFT;
  }

  /** SDM 10.4.7.1: everything but the ID to its reset value; all LVTs masked, SVR 0xFF (software disabled). */
  private resetRegisters(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffff_ffff;
    this.svr = SVR_VECTOR;
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.lvt.fill(LVT_MASKED);
    this.esr = 0;
    this.esrPending = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.timerInitial = 0;
    this.timerDivide = 0;
    this.timerRunning = false;
    this.timer.disarm();
    this.extIntMessage = false;
  }

  /** INIT (SDM 10.4.7.3): the power-up state except the APIC ID; then the CPU waits for SIPI. */
  private initReset(): void {
    this.resetRegisters();
    this.update();
    this.opts.onInit?.();
  }

  private readRegister(reg: number): number {
    if (reg >= LapicReg.Isr && reg < LapicReg.Isr + 0x80) return this.isr[(reg - LapicReg.Isr) >> 4];
    if (reg >= LapicReg.Tmr && reg < LapicReg.Tmr + 0x80) return this.tmr[(reg - LapicReg.Tmr) >> 4];
    if (reg >= LapicReg.Irr && reg < LapicReg.Irr + 0x80) return this.irr[(reg - LapicReg.Irr) >> 4];
    if (reg >= LapicReg.LvtTimer && reg <= LapicReg.LvtError) return this.lvt[(reg - LapicReg.LvtTimer) >> 4];
    switch (reg) {
      case LapicReg.Id: return this.apicId << ID_SHIFT >>> 0;
      case LapicReg.Version: return LAPIC_VERSION;
      case LapicReg.Tpr: return this.tpr;
      case LapicReg.Apr: return this.apr();
      case LapicReg.Ppr: return this.ppr();
      case LapicReg.Ldr: return this.ldr;
      case LapicReg.Dfr: return this.dfr;
      case LapicReg.Svr: return this.svr;
      case LapicReg.Esr: return this.esr;
      // Delivery status (bit 12) always reads idle: a send completes within the ICR write.
      case LapicReg.IcrLow: return this.icrLow;
      case LapicReg.IcrHigh: return this.icrHigh;
      case LapicReg.TimerInitialCount: return this.timerInitial;
      case LapicReg.TimerCurrentCount: return this.currentCount(this.opts.clock.nowNs());
      case LapicReg.TimerDivide: return this.timerDivide;
      // EOI is write-only; remote read (RRD) is not supported by the xAPIC and reads 0.
      case LapicReg.Eoi:
      case LapicReg.Rrd:
        return 0;
      default:
        if (reg < REGISTER_SPACE_END) this.logError(ESR_ILLEGAL_REGISTER);
        return 0;
    }
  }

  private writeRegister(reg: number, value: number): void {
    if (reg >= LapicReg.LvtTimer && reg <= LapicReg.LvtError) {
      this.writeLvt((reg - LapicReg.LvtTimer) >> 4, value);
      return;
    }
    if (reg >= LapicReg.Isr && reg < LapicReg.Esr) return; // ISR, TMR, IRR are read-only
    switch (reg) {
      case LapicReg.Id:
        this.apicId = value >>> ID_SHIFT;
        break;
      case LapicReg.Tpr:
        this.tpr = value & 0xff;
        break;
      case LapicReg.Eoi:
        this.eoi();
        break;
      case LapicReg.Ldr:
        this.ldr = (value & ID_MASK << ID_SHIFT) >>> 0;
        break;
      case LapicReg.Dfr:
        this.dfr = (value | DFR_RESERVED_ONES) >>> 0;
        break;
      case LapicReg.Svr:
        this.writeSvr(value);
        break;
      case LapicReg.Esr:
        // SDM 10.5.3: a write latches the errors logged since the previous write; the value written is ignored.
        this.esr = this.esrPending;
        this.esrPending = 0;
        break;
      case LapicReg.IcrLow:
        this.icrLow = value & ICR_LOW_WRITABLE;
        this.sendIpi();
        break;
      case LapicReg.IcrHigh:
        this.icrHigh = (value & ICR_HIGH_WRITABLE) >>> 0;
        break;
      case LapicReg.TimerInitialCount:
        this.writeInitialCount(value);
        break;
      case LapicReg.TimerDivide:
        this.writeDivide(value & DCR_WRITABLE);
        break;
      // Read-only: version, APR, PPR, RRD, current count. Writes are ignored.
      case LapicReg.Version:
      case LapicReg.Apr:
      case LapicReg.Ppr:
      case LapicReg.Rrd:
      case LapicReg.TimerCurrentCount:
        break;
      default:
        if (reg < REGISTER_SPACE_END) this.logError(ESR_ILLEGAL_REGISTER);
        break;
    }
  }

  /** SDM 10.4.7.2: clearing the software enable sets every LVT mask bit; they stay set until software clears them. */
  private writeSvr(value: number): void {
    this.svr = value & SVR_WRITABLE;
    if (!this.softwareEnabled()) {
      for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
    }
  }

  /**
   * Delivery status and remote IRR are read-only. While software-disabled the mask bit cannot be cleared. An
   * illegal vector is reported when the entry fires, not when written (SDM 10.5.2 makes the latter optional).
   */
  private writeLvt(index: number, value: number): void {
    const readOnly = this.lvt[index] & LVT_REMOTE_IRR;
    let entry = (value & LVT_WRITABLE[index]) | readOnly;
    if (!this.softwareEnabled()) entry |= LVT_MASKED;
    this.lvt[index] = entry >>> 0;
    if (index === Lvt.Timer) this.armTimer(this.opts.clock.nowNs());
    if (index === Lvt.Lint0 || index === Lvt.Lint1) this.lintInput(index, false);
  }

  /** EOI (SDM 10.8.5): retire the highest in-service vector; for a level-triggered one, tell the I/O APICs. */
  private eoi(): void {
    const vector = highestBit(this.isr);
    if (vector < 0) return;
    clearBit(this.isr, vector);
    if (!testBit(this.tmr, vector)) return;
    if ((this.lvt[Lvt.Lint0] & LVT_VECTOR) === vector) this.lvt[Lvt.Lint0] &= ~LVT_REMOTE_IRR;
    this.opts.onEoi?.(vector);
    // A level-triggered LINT input still asserted interrupts again.
    this.lintInput(Lvt.Lint0, false);
  }

  /** ICR low was written: send the IPI it describes (SDM 10.6.1). */
  private sendIpi(): void {
    const low = this.icrLow;
    const mode = (low >> LVT_MODE_SHIFT) & THREE_BITS;
    const vector = low & LVT_VECTOR;
    const levelTrigger = (low & ICR_TRIGGER_LEVEL) !== 0;
    // INIT level de-assert only resynchronised arbitration IDs on the P6 APIC bus; the xAPIC does not support it.
    if (mode === DeliveryMode.Init && levelTrigger && (low & ICR_LEVEL_ASSERT) === 0) return;
    if (mode === DeliveryMode.ExtInt || mode === 0b011) return; // reserved in the ICR
    if ((mode === DeliveryMode.Fixed || mode === DeliveryMode.LowestPriority) && vector < FIRST_LEGAL_VECTOR) {
      this.logError(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    // NMI, SMI, INIT and SIPI are always edge-triggered (SDM 10.6.1, trigger mode).
    const fixed = mode === DeliveryMode.Fixed || mode === DeliveryMode.LowestPriority;
    this.opts.sendIpi?.(this, {
      destination: this.icrHigh >>> ID_SHIFT,
      destMode: low & ICR_DEST_LOGICAL ? DestMode.Logical : DestMode.Physical,
      deliveryMode: mode as DeliveryMode,
      vector,
      trigger: fixed && levelTrigger ? "level" : "edge",
      shorthand: ((low >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK) as Shorthand,
    });
  }

  /**
   * A LINT pin changed or its LVT was rewritten. ExtINT follows the level (it is always level-sensitive,
   * SDM 10.5.1) and is evaluated in hasInterrupt(). A level-triggered fixed LINT0 interrupts while asserted and
   * remote IRR is clear; everything else fires on the rising edge. LINT1 is edge-only (SDM 10.5.1, trigger mode).
   */
  private lintInput(index: Lvt.Lint0 | Lvt.Lint1, rising: boolean): void {
    const entry = this.lvt[index];
    const mode = (entry >> LVT_MODE_SHIFT) & THREE_BITS;
    if (mode === DeliveryMode.ExtInt) return;
    const asserted = index === Lvt.Lint0 ? this.lint0 : this.lint1;
    if (index === Lvt.Lint0 && mode === DeliveryMode.Fixed && entry & LVT_LEVEL) {
      if (asserted && !(entry & (LVT_REMOTE_IRR | LVT_MASKED)) && this.fireLocal(index)) {
        this.lvt[index] |= LVT_REMOTE_IRR;
      }
    } else if (rising) {
      this.fireLocal(index);
    }
  }

  /**
   * A local interrupt source fires through its LVT entry (SDM 10.5.1). Returns whether a fixed vector was
   * accepted into IRR. Timer, thermal, performance and error entries are edge-triggered.
   */
  private fireLocal(index: Lvt): boolean {
    const entry = this.lvt[index];
    if (entry & LVT_MASKED) return false;
    const mode = index === Lvt.Timer || index === Lvt.Error ? DeliveryMode.Fixed : (entry >> LVT_MODE_SHIFT) & THREE_BITS;
    const vector = entry & LVT_VECTOR;
    switch (mode) {
      case DeliveryMode.Fixed:
        if (vector < FIRST_LEGAL_VECTOR) {
          // The error LVT reporting its own illegal vector would loop: log without firing it again.
          if (index === Lvt.Error) this.esrPending |= ESR_RECEIVE_ILLEGAL_VECTOR;
          else this.logError(ESR_RECEIVE_ILLEGAL_VECTOR);
          return false;
        }
        this.accept(vector, index === Lvt.Lint0 && entry & LVT_LEVEL ? "level" : "edge");
        return true;
      case DeliveryMode.Nmi:
        this.opts.onNmi();
        return false;
      case DeliveryMode.Init:
        this.initReset();
        return false;
      default:
        return false; // SMI (no SMM), ExtINT (level-followed), reserved encodings
    }
  }

  /** Log an error for the next ESR write and fire the error LVT (SDM 10.5.3). */
  private logError(bits: number): void {
    this.esrPending |= bits;
    this.fireLocal(Lvt.Error);
  }

  private extIntAsserted(): boolean {
    const entry = this.lvt[Lvt.Lint0];
    const lint0ExtInt = ((entry >> LVT_MODE_SHIFT) & THREE_BITS) === DeliveryMode.ExtInt && !(entry & LVT_MASKED);
    return this.extIntMessage || (lint0ExtInt && this.lint0);
  }

  /** The highest IRR vector whose priority class is above PPR's (SDM 10.8.3.1), or -1. */
  private deliverableVector(): number {
    const vector = highestBit(this.irr);
    if (vector < 0) return -1;
    return (vector & PRIORITY_CLASS) > (this.ppr() & PRIORITY_CLASS) ? vector : -1;
  }

  private update(): void {
    const level = this.hasInterrupt();
    if (level === this.intr) return;
    this.intr = level;
    this.opts.onIntr(level);
  }

  // The timer (SDM 10.5.4).

  /** Divide configuration bits 3,1,0: 000 = 2, 001 = 4, ... 110 = 128, 111 = 1. */
  private divisor(): number {
    const code = ((this.timerDivide & 0b1000) >> 1) | (this.timerDivide & 0b11);
    return 1 << ((code + 1) & THREE_BITS);
  }

  private nsPerCount(): number {
    return this.divisor() * NS_PER_BUS_TICK;
  }

  private periodic(): boolean {
    return (this.lvt[Lvt.Timer] & LVT_TIMER_PERIODIC) !== 0;
  }

  private currentCount(now: number): number {
    if (!this.timerRunning) return 0;
    const elapsed = Math.floor((now - this.timerStartNs) / this.nsPerCount());
    if (this.periodic()) return this.timerInitial - (elapsed % this.timerInitial);
    return Math.max(this.timerInitial - elapsed, 0);
  }

  /** Writing the initial count restarts counting from it; 0 stops the timer. */
  private writeInitialCount(value: number): void {
    const now = this.opts.clock.nowNs();
    this.timerInitial = value;
    this.timerStartNs = now;
    this.timerRunning = value !== 0;
    this.armTimer(now);
  }

  /** A new divider applies from now on; the current count carries over. */
  private writeDivide(value: number): void {
    const now = this.opts.clock.nowNs();
    const count = this.currentCount(now);
    this.timerDivide = value;
    if (!this.timerRunning) return;
    this.timerStartNs = now - (this.timerInitial - count) * this.nsPerCount();
    this.armTimer(now);
  }

  /** Arm the virtual timer for the end of the current period (the count reaching zero). */
  private armTimer(now: number): void {
    if (!this.timerRunning) {
      this.timer.disarm();
      return;
    }
    const period = this.timerInitial * this.nsPerCount();
    if (this.periodic()) {
      // Start the period that contains `now`, so that a switch to one-shot ends with it.
      this.timerStartNs += Math.floor((now - this.timerStartNs) / period) * period;
      this.timer.arm(this.timerStartNs + Math.max(period, MIN_PERIODIC_INTERRUPT_NS));
    } else {
      this.timer.arm(this.timerStartNs + period);
    }
  }

  /** The count reached zero: interrupt unless masked; periodic mode reloads, one-shot stops at 0. */
  private timerExpired(now: number): void {
    if (!this.timerRunning) return;
    if (!this.periodic()) this.timerRunning = false;
    this.fireLocal(Lvt.Timer);
    this.armTimer(now);
  }
}
