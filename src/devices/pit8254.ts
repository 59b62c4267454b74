// The 8254 programmable interval timer (Intel 8254 data sheet, order 231164) at 0x40..0x43, and the PC's
// system control port B at 0x61 that gates counter 2 and reads its output.
//
// Time is not counted by instructions: the CLK input runs at 1.193182 MHz of the machine's virtual clock, and
// a counter's state is a function of how many CLK edges have passed since its count was loaded. Counter 0
// drives IRQ0; a VirtualTimer is armed for the next rising edge of OUT0, so IRQ0 comes on time without
// polling. Counters 1 and 2 are evaluated only when read (counter 1 refreshes DRAM on a PC; OUT2 feeds the
// speaker and port 0x61 bit 5).
import { ByteRegisters, type AccessSize, type Clock, type IoDevice, type IrqLine, type VirtualTimer } from './device';

export const PIT_HZ = 1_193_182;
const NS_PER_S = 1e9;

/** Port offsets from 0x40. */
export const enum PitReg {
  Counter0 = 0,
  Counter1 = 1,
  Counter2 = 2,
  Control = 3,
}

// Control word (data sheet "Control Word Format"): SC1 SC0 RW1 RW0 M2 M1 M0 BCD.
const CW_SC_SHIFT = 6;
const CW_RW_SHIFT = 4;
const CW_RW_MASK = 0b0011_0000;
const CW_MODE_SHIFT = 1;
const CW_MODE_MASK = 0b0000_1110;
export const CW_BCD = 0b0000_0001;
/** SC = 11 selects the read-back command. */
const SC_READ_BACK = 3;
// Read-back command: D5 = 0 latches counts, D4 = 0 latches status, D3..D1 select counters 2..0.
export const RB_NOT_COUNT = 0b0010_0000;
export const RB_NOT_STATUS = 0b0001_0000;
const RB_COUNTER0 = 0b0000_0010;
// Status byte (data sheet "Read-Back Command"): OUT, NULL COUNT, then the programmed RW, M and BCD bits.
export const STATUS_OUT = 0b1000_0000;
export const STATUS_NULL_COUNT = 0b0100_0000;

/** RW field of the control word. */
export const enum Access {
  Latch = 0b00,
  Lsb = 0b01,
  Msb = 0b10,
  LsbMsb = 0b11,
}

/** Counter modes; M2..M0 values 6 and 7 are modes 2 and 3 (the M2 bit is a don't-care there). */
export const enum Mode {
  InterruptOnTerminalCount = 0,
  HardwareOneShot = 1,
  RateGenerator = 2,
  SquareWave = 3,
  SoftwareStrobe = 4,
  HardwareStrobe = 5,
}
const MODE_DONT_CARE_M2 = 0b100;

const COUNTER_COUNT = 3;
const BINARY_MODULUS = 0x1_0000;
const BCD_MODULUS = 10_000;

/** Number of CLK edges up to virtual time `ns`, exact while the per-second product fits in 53 bits. */
function ticksAt(ns: number): number {
  const s = Math.floor(ns / NS_PER_S);
  return s * PIT_HZ + Math.floor(((ns - s * NS_PER_S) * PIT_HZ) / NS_PER_S);
}

/** The first virtual time at which ticksAt() reaches `tick`. */
function nsAtTick(tick: number): number {
  const s = Math.floor(tick / PIT_HZ);
  return s * NS_PER_S + Math.ceil(((tick - s * PIT_HZ) * NS_PER_S) / PIT_HZ);
}

function toBcd(value: number): number {
  return (value % 10) | (Math.floor(value / 10) % 10) << 4 | (Math.floor(value / 100) % 10) << 8 |
    (Math.floor(value / 1000) % 10) << 12;
}

/** Nibbles above 9 are taken at face value: a garbage BCD count gives a garbage (but finite) period. */
function fromBcd(value: number): number {
  return (value & 0xf) + ((value >> 4) & 0xf) * 10 + ((value >> 8) & 0xf) * 100 + ((value >> 12) & 0xf) * 1000;
}

class Counter {
  /** M2..M0 as programmed (reported in the status byte) and the mode they select. */
  modeBits = Mode.SquareWave as number;
  mode = Mode.SquareWave;
  access = Access.LsbMsb;
  bcd = false;
  gate: boolean;
  /** Count register as written (raw 16 bits), and whether a complete count has been written since the mode. */
  countRegister = 0;
  hasCount = false;
  /** LSB of a two-byte count, waiting for the MSB. */
  lsbWritten: number | undefined;
  readMsbNext = false;
  /** Output latch: a latched status byte is read first, then the latched count bytes. */
  statusLatch: number | undefined;
  countLatch: number[] = [];

  /** Counting: the counting element holds `n` at tick `loadTick` and counts `elapsed()` CLK edges from there. */
  armed = false;
  n = 0;
  loadTick = 0;
  /** Edges counted before the current run (the gate suspends counting in modes 0, 2, 3, 4). */
  elapsedBefore = 0;
  runFrom = 0;
  running = false;
  /** CE value shown while not armed. */
  idleCe = 0;
  /** Modes 2 and 3: a count written while counting is loaded at the end of the current period. */
  pendingAtTick: number | undefined;
  /** The tick at which the count register reaches the counting element; NULL COUNT reads 1 before it. */
  nullCountUntil = Infinity;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  modulus(): number {
    return this.bcd ? BCD_MODULUS : BINARY_MODULUS;
  }

  /** The initial count N: 0 stands for the modulus (2^16 binary, 10^4 BCD). */
  initialCount(): number {
    const n = this.bcd ? fromBcd(this.countRegister) : this.countRegister;
    return n === 0 ? this.modulus() : n;
  }

  gateStopsCounting(): boolean {
    return this.mode !== Mode.HardwareOneShot && this.mode !== Mode.HardwareStrobe;
  }

  /** CLK edges counted since the load at tick `k`, or -1 before the load edge. */
  elapsed(k: number): number {
    if (k < this.loadTick) return -1;
    return this.elapsedBefore + (this.running ? Math.max(0, k - this.runFrom) : 0);
  }

  /** Load the count register into the counting element on the CLK edge after tick `k`. */
  load(k: number): void {
    this.armed = true;
    this.n = this.initialCount();
    this.loadTick = k + 1;
    this.elapsedBefore = 0;
    this.runFrom = this.loadTick;
    this.running = this.gate || !this.gateStopsCounting();
    this.pendingAtTick = undefined;
    this.nullCountUntil = Math.min(this.nullCountUntil, this.loadTick);
  }

  /** Apply a pending mode 2/3 count once its period boundary has passed. */
  sync(k: number): void {
    if (this.pendingAtTick === undefined || k < this.pendingAtTick) return;
    this.n = this.initialCount();
    this.loadTick = this.pendingAtTick;
    this.elapsedBefore = 0;
    this.runFrom = this.loadTick;
    this.pendingAtTick = undefined;
  }

  out(k: number): boolean {
    if (!this.armed) return this.mode !== Mode.InterruptOnTerminalCount;
    const e = this.elapsed(k);
    const n = this.n;
    switch (this.mode) {
      case Mode.InterruptOnTerminalCount:
      case Mode.HardwareOneShot:
        // Mode 0: low until terminal count. Mode 1: low from the CLK after the trigger until terminal count.
        return e >= n;
      case Mode.RateGenerator:
        // Low for one CLK while the count is 1; a low gate forces OUT high.
        return e < 0 || !this.running || e % n !== n - 1;
      case Mode.SquareWave:
        // High for ceil(N/2) CLKs, low for floor(N/2); a low gate forces OUT high.
        return e < 0 || !this.running || e % n < Math.ceil(n / 2);
      case Mode.SoftwareStrobe:
      case Mode.HardwareStrobe:
        // A one-CLK low strobe when the count reaches 0.
        return e !== n;
    }
  }

  /** Value of the counting element at tick `k` (binary, before any BCD encoding). */
  countingElement(k: number): number {
    if (!this.armed) return this.idleCe;
    const e = this.elapsed(k);
    const n = this.n;
    const m = this.modulus();
    if (e < 0) return n % m;
    switch (this.mode) {
      case Mode.RateGenerator:
        return (n - (e % n)) % m;
      case Mode.SquareWave: {
        // Data sheet mode 3: an even count is loaded and decremented by two each CLK, reloading at each
        // half-cycle; an odd count loads N-1, so it shows 0 for one CLK at the end of the high half.
        if (n % 2 === 0) return (n - 2 * (e % (n / 2))) % m;
        const h = e % n;
        const high = (n + 1) / 2;
        return h < high ? n - 1 - 2 * h : n - 1 - 2 * (h - high);
      }
      default:
        // Modes 0, 1, 4, 5 keep counting down past zero, wrapping around.
        return (((n - e) % m) + m) % m;
    }
  }

  /** The first tick after `k` at which OUT rises, or undefined if it will not rise without new input. */
  nextRisingEdge(k: number): number | undefined {
    if (!this.armed || !this.running) return undefined;
    const e = Math.max(0, this.elapsed(k));
    const n = this.n;
    let target: number;
    switch (this.mode) {
      case Mode.InterruptOnTerminalCount:
      case Mode.HardwareOneShot:
        if (e >= n) return undefined;
        target = n;
        break;
      case Mode.RateGenerator:
      case Mode.SquareWave:
        // OUT rises as a period ends; with N = 1 it never goes low (mode 3) or never high (mode 2).
        return n < 2 ? undefined : this.periodEnd(k);
      case Mode.SoftwareStrobe:
      case Mode.HardwareStrobe:
        if (e > n) return undefined;
        target = n + 1;
        break;
    }
    return this.tickOfElapsed(target);
  }

  /** Modes 2 and 3: the tick after `k` at which the current period ends and the count is reloaded. */
  periodEnd(k: number): number {
    return this.tickOfElapsed((Math.floor(Math.max(0, this.elapsed(k)) / this.n) + 1) * this.n);
  }

  /** The tick at which the running counter will have counted `e` edges since its load. */
  private tickOfElapsed(e: number): number {
    return this.runFrom + (e - this.elapsedBefore);
  }

  status(k: number): number {
    return (this.out(k) ? STATUS_OUT : 0) | (k < this.nullCountUntil ? STATUS_NULL_COUNT : 0) |
      (this.access << CW_RW_SHIFT) | (this.modeBits << CW_MODE_SHIFT) | (this.bcd ? CW_BCD : 0);
  }
}

export class Pit8254 extends ByteRegisters {
  private readonly counters: Counter[] = [];
  private readonly timer: VirtualTimer;
  /** The OUT0 edge the timer is armed for. */
  private armedEdge = 0;

  constructor(
    private readonly clock: Clock,
    private readonly irq0: IrqLine,
  ) {
    super();
    this.timer = clock.timer((nowNs) => this.onTimer(nowNs));
    this.reset();
  }

  /**
   * Power-on: no counts loaded (the data sheet leaves mode, count and OUT undefined until programmed).
   * On a PC the gates of counters 0 and 1 are tied high; counter 2's comes from port 0x61 bit 0.
   */
  reset(): void {
    for (let i = 0; i < COUNTER_COUNT; i++) this.counters[i] = new Counter(i !== PitReg.Counter2);
    this.timer.disarm();
  }

  /** Level of a counter's GATE input (only counter 2's is wired to anything on a PC). */
  setGate(counter: number, level: boolean): void {
    const c = this.counters[counter];
    if (c === undefined || c.gate === level) return;
    this.change(counter, (k) => {
      c.gate = level;
      if (!c.armed && !(level && c.hasCount)) return;
      if (!level) {
        // Modes 0, 2, 3, 4: a low gate suspends counting (and forces OUT high in modes 2 and 3).
        if (!c.gateStopsCounting()) return;
        c.elapsedBefore = Math.max(0, c.elapsed(k));
        c.running = false;
        if (c.pendingAtTick !== undefined) {
          // Modes 2 and 3: the rising gate will reload from the count register anyway.
          c.pendingAtTick = undefined;
          c.nullCountUntil = Infinity;
        }
      } else if (c.mode === Mode.InterruptOnTerminalCount || c.mode === Mode.SoftwareStrobe) {
        c.runFrom = Math.max(k, c.loadTick);
        c.running = true;
      } else {
        // Modes 1, 2, 3, 5: a rising gate (re)loads the initial count on the next CLK.
        c.load(k);
      }
    });
  }

  /** Level of a counter's OUT pin now. */
  outLevel(counter: number): boolean {
    const c = this.counters[counter];
    if (c === undefined) return false;
    const k = this.nowTick();
    c.sync(k);
    return c.out(k);
  }

  private nowTick(): number {
    return ticksAt(this.clock.nowNs());
  }

  protected readByte(offset: number): number {
    const c = this.counters[offset];
    if (c === undefined) return 0xff; // the control word register cannot be read
    if (c.statusLatch !== undefined) {
      const status = c.statusLatch;
      c.statusLatch = undefined;
      return status;
    }
    const latched = c.countLatch.shift();
    if (latched !== undefined) return latched;
    const k = this.nowTick();
    c.sync(k);
    const ce = c.countingElement(k);
    const value = c.bcd ? toBcd(ce) : ce;
    switch (c.access) {
      case Access.Msb:
        return value >> 8;
      case Access.LsbMsb:
        c.readMsbNext = !c.readMsbNext;
        return c.readMsbNext ? value & 0xff : value >> 8;
      default:
        return value & 0xff;
    }
  }

  protected writeByte(offset: number, value: number): void {
    if (offset === PitReg.Control) this.writeControl(value);
    else if (offset < PitReg.Control) this.writeCount(offset, value);
  }

  private writeControl(value: number): void {
    const select = value >> CW_SC_SHIFT;
    if (select === SC_READ_BACK) {
      this.readBack(value);
      return;
    }
    const c = this.counters[select]!;
    const access = ((value & CW_RW_MASK) >> CW_RW_SHIFT) as Access;
    if (access === Access.Latch) {
      // Counter latch command; a second latch before the count is read is ignored.
      if (c.countLatch.length === 0) this.latchCount(c);
      return;
    }
    this.change(select, (k) => {
      // A control word resets the counter's logic: OUT goes to the mode's initial state, no count is loaded.
      c.idleCe = c.countingElement(k);
      c.armed = false;
      c.hasCount = false;
      c.pendingAtTick = undefined;
      c.nullCountUntil = Infinity;
      c.access = access;
      c.modeBits = (value & CW_MODE_MASK) >> CW_MODE_SHIFT;
      c.mode = (c.modeBits > Mode.HardwareStrobe ? c.modeBits & ~MODE_DONT_CARE_M2 : c.modeBits) as Mode;
      c.bcd = (value & CW_BCD) !== 0;
      c.lsbWritten = undefined;
      c.readMsbNext = false;
      c.statusLatch = undefined;
      c.countLatch = [];
    });
  }

  private readBack(value: number): void {
    const k = this.nowTick();
    for (let i = 0; i < COUNTER_COUNT; i++) {
      if (!(value & (RB_COUNTER0 << i))) continue;
      const c = this.counters[i]!;
      c.sync(k);
      if (!(value & RB_NOT_COUNT) && c.countLatch.length === 0) this.latchCount(c);
      if (!(value & RB_NOT_STATUS) && c.statusLatch === undefined) c.statusLatch = c.status(k);
    }
  }

  private latchCount(c: Counter): void {
    const k = this.nowTick();
    c.sync(k);
    const ce = c.countingElement(k);
    const value = c.bcd ? toBcd(ce) : ce;
    if (c.access === Access.Lsb) c.countLatch = [value & 0xff];
    else if (c.access === Access.Msb) c.countLatch = [value >> 8];
    else c.countLatch = [value & 0xff, value >> 8];
  }

  private writeCount(counter: number, byte: number): void {
    const c = this.counters[counter]!;
    this.change(counter, (k) => {
      switch (c.access) {
        case Access.Lsb:
          c.countRegister = byte;
          break;
        case Access.Msb:
          c.countRegister = byte << 8;
          break;
        default:
          if (c.lsbWritten === undefined) {
            c.lsbWritten = byte;
            // Mode 0: writing the first byte of a two-byte count stops counting and sets OUT low at once.
            if (c.mode === Mode.InterruptOnTerminalCount && c.armed) {
              c.idleCe = c.countingElement(k);
              c.armed = false;
            }
            return;
          }
          c.countRegister = c.lsbWritten | (byte << 8);
          c.lsbWritten = undefined;
          break;
      }
      this.countWritten(c, k);
    });
  }

  /** A complete new count is in the count register: when it reaches the counting element depends on the mode. */
  private countWritten(c: Counter, k: number): void {
    c.hasCount = true;
    switch (c.mode) {
      case Mode.InterruptOnTerminalCount:
      case Mode.SoftwareStrobe:
        c.nullCountUntil = Infinity;
        c.load(k); // loaded on the next CLK, counting restarts from the new count
        break;
      case Mode.RateGenerator:
      case Mode.SquareWave:
        if (!c.armed) {
          c.nullCountUntil = Infinity;
          c.load(k);
        } else {
          // The current period completes first; a low gate defers the load to the next rising gate.
          c.pendingAtTick = c.running ? c.periodEnd(k) : undefined;
          c.nullCountUntil = c.pendingAtTick ?? Infinity;
        }
        break;
      case Mode.HardwareOneShot:
      case Mode.HardwareStrobe:
        c.nullCountUntil = Infinity; // loaded by the next trigger on the gate
        break;
    }
  }

  /** Run a state change at the current tick, then pulse IRQ0 on a rising OUT0 and re-arm the timer. */
  private change(counter: number, mutate: (k: number) => void): void {
    const c = this.counters[counter]!;
    const k = this.nowTick();
    c.sync(k);
    const before = c.out(k);
    mutate(k);
    if (counter !== PitReg.Counter0) return;
    if (!before && c.out(k)) this.pulseIrq0();
    this.armTimer(k);
  }

  private onTimer(nowNs: number): void {
    const c = this.counters[PitReg.Counter0]!;
    const k = ticksAt(nowNs);
    c.sync(k);
    if (k < this.armedEdge) {
      this.timer.arm(nsAtTick(this.armedEdge)); // early: keep waiting for the edge
      return;
    }
    // The timer was armed for an edge at or before k; if the host ran late, several edges collapse into
    // one, as the PIC could not have latched more anyway.
    this.pulseIrq0();
    this.armTimer(k);
  }

  private armTimer(k: number): void {
    const edge = this.counters[PitReg.Counter0]!.nextRisingEdge(k);
    if (edge === undefined) {
      this.timer.disarm();
      return;
    }
    this.armedEdge = edge;
    this.timer.arm(nsAtTick(edge));
  }

  /** IRQ0 is edge-triggered on a PC (PIIX4 keeps it out of ELCR): each rising OUT0 is one raise/lower pulse. */
  private pulseIrq0(): void {
    this.irq0.raise();
    this.irq0.lower();
  }
}

// System control port B (0x61), as kept by the PIIX4 (data sheet §4.2.2 NMI Status and Control Register).
export const PORTB_GATE2 = 0b0000_0001; // timer counter 2 gate
export const PORTB_SPEAKER_DATA = 0b0000_0010; // ANDed with OUT2 to drive the speaker
export const PORTB_PARITY_CHECK_DISABLE = 0b0000_0100;
export const PORTB_IOCHK_DISABLE = 0b0000_1000;
export const PORTB_REFRESH_TOGGLE = 0b0001_0000; // toggles with each DRAM refresh request (15.085 us)
export const PORTB_OUT2 = 0b0010_0000;
const PORTB_WRITABLE = PORTB_GATE2 | PORTB_SPEAKER_DATA | PORTB_PARITY_CHECK_DISABLE | PORTB_IOCHK_DISABLE;
/** Period of the refresh request on a PC: 18 CLKs of the PIT, counter 1's classic programming. */
const REFRESH_PERIOD_NS = 15_085;

export class SystemControlPortB implements IoDevice {
  private value = 0;

  constructor(
    private readonly pit: Pit8254,
    private readonly clock: Clock,
  ) {}

  reset(): void {
    this.value = 0;
    this.pit.setGate(PitReg.Counter2, false);
  }

  read(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= (i + offset === 0 ? this.readPort() : 0xff) << (8 * i);
    return value >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset !== 0) return;
    this.value = value & PORTB_WRITABLE;
    this.pit.setGate(PitReg.Counter2, (value & PORTB_GATE2) !== 0);
  }

  private readPort(): number {
    const refresh = Math.floor(this.clock.nowNs() / REFRESH_PERIOD_NS) & 1 ? PORTB_REFRESH_TOGGLE : 0;
    return this.value | refresh | (this.pit.outLevel(PitReg.Counter2) ? PORTB_OUT2 : 0);
  }
}
