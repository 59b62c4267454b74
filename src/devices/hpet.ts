// HPET (IA-PC HPET Specification 1.0a): a 64-bit main counter at 100 MHz on the machine's virtual clock and
// three comparators, each one-shot or periodic, 32- or 64-bit, edge- or level-triggered, routed to an I/O APIC
// pin. Legacy replacement is not offered (LEG_RT_CAP = 0): the PIT and the RTC keep IRQ 0 and IRQ 8, and
// Linux takes the HPET as a clocksource, which from early boot is also the clocksource watchdog. Without it
// the watchdog is jiffies, which fall behind whenever the emulator delivers PIT periods late, and the TSC
// gets marked unstable; the HPET counter and the TSC both follow virtual time and agree.
//
// Registers are 64 bits wide and reached with 32-bit accesses (narrower reads take the lanes they cover).
// FSB (MSI) delivery is not offered (Tn_FSB_INT_DEL_CAP = 0).
import type { AccessSize, Clock, IoDevice, IrqLine, VirtualTimer } from './device';

/** Counter period in femtoseconds (2.3.4 COUNTER_CLK_PERIOD): 10 ns, a 100 MHz counter, as QEMU's. */
export const HPET_PERIOD_FS = 10_000_000;
export const HPET_TIMERS = 3;
/** The capabilities register's low half: revision 1, NUM_TIM_CAP = timers - 1, COUNT_SIZE_CAP, vendor 8086. */
export const HPET_CAPABILITIES = (0x8086_0000 | (1 << 13) | ((HPET_TIMERS - 1) << 8) | 0x01) >>> 0;
/** Size of the register block (2.3: 1 KiB). */
export const HPET_MMIO_SIZE = 0x400;

export const HpetReg = {
  Capabilities: 0x000,
  Config: 0x010,
  InterruptStatus: 0x020,
  Counter: 0x0f0,
  Timer0: 0x100,
} as const;
const TIMER_STRIDE = 0x20;
const T_CONFIG = 0x00;
const T_COMPARATOR = 0x08;

export const CFG_ENABLE = 1n << 0n;
export const TN_LEVEL = 1n << 1n;
export const TN_INT_ENABLE = 1n << 2n;
export const TN_PERIODIC = 1n << 3n;
export const TN_PERIODIC_CAP = 1n << 4n;
export const TN_SIZE_64 = 1n << 5n;
export const TN_VAL_SET = 1n << 6n;
export const TN_32BIT_MODE = 1n << 8n;
const TN_ROUTE_SHIFT = 9n;
const TN_ROUTE_MASK = 0x1fn << TN_ROUTE_SHIFT;
/** Bits of Tn_CONF_CAP software may write (VAL_SET reads back 0: it acts on the next comparator write). */
const TN_WRITABLE = TN_LEVEL | TN_INT_ENABLE | TN_PERIODIC | TN_32BIT_MODE | TN_ROUTE_MASK;

const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffff_ffffn;
const FS_PER_NS = 1_000_000n;

/** Counter ticks in `ns` nanoseconds of virtual time. */
function ticksIn(ns: bigint): bigint { return (ns * FS_PER_NS) / BigInt(HPET_PERIOD_FS); }
/** Nanoseconds until `ticks` more ticks have elapsed (rounded up so the counter has reached them). */
function nsFor(ticks: bigint): bigint {
  const fs = ticks * BigInt(HPET_PERIOD_FS);
  return (fs + FS_PER_NS - 1n) / FS_PER_NS;
}

interface Comparator {
  config: bigint;
  comparator: bigint;
  /** The periodic increment: the last value written to the comparator in periodic mode. */
  period: bigint;
  timer: VirtualTimer;
}

export interface HpetOptions {
  clock: Clock;
  /** The I/O APIC input for Tn_INT_ROUTE_CNF = pin (only the pins in routeCapability are accepted). */
  ioapicPin: (pin: number) => IrqLine;
  /** Tn_INT_ROUTE_CAP: a bit per I/O APIC pin a comparator may use. */
  routeCapability: number;
}

export class Hpet implements IoDevice {
  private config = 0n;
  private status = 0n;
  /** The counter's value at `baseNs` of virtual time; while halted, simply its value. */
  private baseCount = 0n;
  private baseNs = 0n;
  private readonly timers: Comparator[] = [];
  /** Which pin each comparator's line is raised on (level mode), or -1. */
  private readonly raised: number[] = [];

  constructor(private readonly opts: HpetOptions) {
    for (let n = 0; n < HPET_TIMERS; n++) {
      this.timers.push({ config: 0n, comparator: MASK64, period: 0n, timer: opts.clock.timer(() => this.onTimer(n)) });
      this.raised.push(-1);
    }
    this.reset();
  }

  reset(): void {
    for (let n = 0; n < HPET_TIMERS; n++) this.lowerLine(n);
    this.config = 0n;
    this.status = 0n;
    this.baseCount = 0n;
    this.baseNs = this.now();
    for (const t of this.timers) {
      t.config = this.capBits();
      t.comparator = MASK64;
      t.period = 0n;
      t.timer.disarm();
    }
  }

  read(offset: number, size: AccessSize): number {
    const reg = offset & ~7;
    const value = this.readRegister(reg);
    const shift = BigInt(8 * (offset - reg));
    const width = BigInt(8 * size);
    return Number((value >> shift) & ((1n << width) - 1n));
  }

  write(offset: number, size: AccessSize, value: number): void {
    const reg = offset & ~7;
    const shift = BigInt(8 * (offset - reg));
    const lanes = ((1n << BigInt(8 * size)) - 1n) << shift;
    const old = this.readRegister(reg, true);
    this.writeRegister(reg, (old & ~lanes) | ((BigInt(value >>> 0) << shift) & lanes), lanes);
  }

  private now(): bigint { return BigInt(Math.floor(this.opts.clock.nowNs())); }

  private running(): boolean { return (this.config & CFG_ENABLE) !== 0n; }

  /** The main counter now. */
  counter(): bigint {
    if (!this.running()) return this.baseCount;
    return (this.baseCount + ticksIn(this.now() - this.baseNs)) & MASK64;
  }

  /** Read-only capability bits of every comparator: periodic capable, 64-bit, the route capability. */
  private capBits(): bigint {
    return TN_PERIODIC_CAP | TN_SIZE_64 | (BigInt(this.opts.routeCapability >>> 0) << 32n);
  }

  /** `raw`: for a partial write, the comparator as stored (not narrowed to 32 bits). */
  private readRegister(reg: number, raw = false): bigint {
    switch (reg) {
      case HpetReg.Capabilities: return (BigInt(HPET_PERIOD_FS) << 32n) | BigInt(HPET_CAPABILITIES >>> 0);
      case HpetReg.Config: return this.config;
      case HpetReg.InterruptStatus: return this.status;
      case HpetReg.Counter: return this.counter();
    }
    const t = this.timerAt(reg);
    if (t === undefined) return 0n;
    const c = this.timers[t.n]!;
    if (t.field === T_CONFIG) return c.config;
    if (t.field === T_COMPARATOR) return raw || (c.config & TN_32BIT_MODE) === 0n ? c.comparator : c.comparator & MASK32;
    return 0n; // FSB route register: no FSB delivery
  }

  private timerAt(reg: number): { n: number; field: number } | undefined {
    if (reg < HpetReg.Timer0 || reg >= HpetReg.Timer0 + HPET_TIMERS * TIMER_STRIDE) return undefined;
    return { n: (reg - HpetReg.Timer0) >> 5, field: (reg - HpetReg.Timer0) & (TIMER_STRIDE - 1) };
  }

  private writeRegister(reg: number, value: bigint, lanes: bigint): void {
    switch (reg) {
      case HpetReg.Config: {
        const wasRunning = this.running();
        const count = this.counter();
        this.config = value & CFG_ENABLE; // LEG_RT_CNF is reserved without LEG_RT_CAP
        if (wasRunning !== this.running()) {
          this.baseCount = count;
          this.baseNs = this.now();
          for (let n = 0; n < HPET_TIMERS; n++) this.schedule(n);
        }
        return;
      }
      case HpetReg.InterruptStatus: {
        // Write 1 to clear a level-triggered comparator's status; its line goes low (2.3.7).
        const clear = value & lanes & ((1n << BigInt(HPET_TIMERS)) - 1n);
        this.status &= ~clear;
        for (let n = 0; n < HPET_TIMERS; n++) if ((clear >> BigInt(n)) & 1n) this.lowerLine(n);
        return;
      }
      case HpetReg.Counter:
        // Software should write the counter only while it is halted (2.3.5); a write while running takes effect
        // from now, as QEMU's does.
        this.baseCount = value & MASK64;
        this.baseNs = this.now();
        for (let n = 0; n < HPET_TIMERS; n++) this.schedule(n);
        return;
    }
    const t = this.timerAt(reg);
    if (t === undefined) return;
    const c = this.timers[t.n]!;
    if (t.field === T_CONFIG) {
      const route = Number((value & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT);
      let config = (value & TN_WRITABLE) | this.capBits();
      // A route the capability does not allow keeps the old one (2.3.8: software must not program it).
      if (((this.opts.routeCapability >>> route) & 1) === 0) config = (config & ~TN_ROUTE_MASK) | (c.config & TN_ROUTE_MASK);
      c.config = config | (value & TN_VAL_SET);
      // A line held high on a pin the comparator no longer routes to goes low; updateLevel does the rest.
      if (this.raised[t.n] !== this.route(t.n)) this.lowerLine(t.n);
      this.updateLevel(t.n);
      this.schedule(t.n);
      return;
    }
    if (t.field === T_COMPARATOR) {
      const v = (c.config & TN_32BIT_MODE) !== 0n ? value & MASK32 : value;
      const periodic = (c.config & TN_PERIODIC) !== 0n;
      // Periodic mode: a write sets the increment, and with VAL_SET also the comparator (2.3.9.2.2; Linux writes
      // the first expiry with VAL_SET, then the period). One-shot: the comparator. VAL_SET then clears.
      if (!periodic || (c.config & TN_VAL_SET) !== 0n) c.comparator = v;
      if (periodic) c.period = v;
      c.config &= ~TN_VAL_SET;
      this.schedule(t.n);
    }
  }

  /** Arm comparator `n`'s virtual timer for the next time the counter reaches its comparator. */
  private schedule(n: number): void {
    const c = this.timers[n]!;
    if (!this.running()) { c.timer.disarm(); return; }
    const wide = (c.config & TN_32BIT_MODE) === 0n;
    const mask = wide ? MASK64 : MASK32;
    const now = this.counter();
    const ahead = (c.comparator - now) & mask;
    // ahead == 0: the counter is on the comparator now: the match is immediate. A comparator just behind the
    // counter matches only after the counter wraps (2.3.9.2.1), as on hardware.
    c.timer.arm(Number(this.now() + nsFor(ahead)));
  }

  private onTimer(n: number): void {
    const c = this.timers[n]!;
    if (!this.running()) return;
    const wide = (c.config & TN_32BIT_MODE) === 0n;
    const mask = wide ? MASK64 : MASK32;
    const now = this.counter();
    if (((now - c.comparator) & mask) > (mask >> 1n)) { this.schedule(n); return; } // not there yet (clock skew)
    this.fire(n);
    if ((c.config & TN_PERIODIC) !== 0n && c.period !== 0n) {
      // Advance by whole periods past the counter: periods the emulator missed are not delivered one by one.
      const behind = ((now - c.comparator) & mask) / c.period + 1n;
      c.comparator = (c.comparator + behind * c.period) & mask;
      this.schedule(n);
    }
    // One-shot: the next match is a full counter wrap away (2.3.9.2.1); 64-bit wraps never come, 32-bit ones do.
    else if (!wide) this.scheduleWrap(n);
  }

  private scheduleWrap(n: number): void {
    const c = this.timers[n]!;
    c.timer.arm(Number(this.now() + nsFor(1n << 32n)));
  }

  private fire(n: number): void {
    const c = this.timers[n]!;
    if ((c.config & TN_LEVEL) !== 0n) {
      this.status |= 1n << BigInt(n);
      this.updateLevel(n);
      return;
    }
    if ((c.config & TN_INT_ENABLE) === 0n) return;
    const line = this.opts.ioapicPin(this.route(n));
    line.raise();
    line.lower();
  }

  private route(n: number): number { return Number((this.timers[n]!.config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT); }

  /** A level-triggered comparator holds its line high while its status bit is set and its interrupt enabled. */
  private updateLevel(n: number): void {
    const c = this.timers[n]!;
    const want = (c.config & TN_LEVEL) !== 0n && (c.config & TN_INT_ENABLE) !== 0n && ((this.status >> BigInt(n)) & 1n) !== 0n;
    if (want && this.raised[n] === -1) {
      const pin = this.route(n);
      this.raised[n] = pin;
      this.opts.ioapicPin(pin).raise();
    } else if (!want) {
      this.lowerLine(n);
    }
  }

  private lowerLine(n: number): void {
    const pin = this.raised[n]!;
    if (pin === -1) return;
    this.raised[n] = -1;
    this.opts.ioapicPin(pin).lower();
  }
}
