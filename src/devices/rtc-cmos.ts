// The MC146818A real-time clock and its CMOS RAM (Motorola MC146818A data sheet), at ports 0x70/0x71.
//
// The clock shows the host's wall-clock time at power-on (UTC, as QEMU's default `-rtc base=utc`) and then
// follows the machine's virtual time. Interrupt flags are computed lazily from virtual time whenever a register
// is touched; a VirtualTimer is armed only for the next event that can raise IRQ8 (an enabled periodic,
// alarm or update-ended interrupt while IRQF is clear), so a guest that ignores the RTC costs nothing.
import { ByteRegisters, type Clock, type IrqLine, type VirtualTimer } from './device';

/** Port offsets from 0x70. */
export const enum RtcPort {
  /** Write-only: bit 7 masks NMI (a PC chipset function), bits 6..0 select the CMOS byte. */
  Index = 0,
  Data = 1,
}

/** CMOS RAM addresses (data sheet "Address Map"; 0x32 is the IBM AT century byte). */
export const enum Cmos {
  Seconds = 0x00,
  SecondsAlarm = 0x01,
  Minutes = 0x02,
  MinutesAlarm = 0x03,
  Hours = 0x04,
  HoursAlarm = 0x05,
  DayOfWeek = 0x06,
  DayOfMonth = 0x07,
  Month = 0x08,
  Year = 0x09,
  RegA = 0x0a,
  RegB = 0x0b,
  RegC = 0x0c,
  RegD = 0x0d,
  Century = 0x32,
}

export const INDEX_NMI_MASK = 0b1000_0000;
const INDEX_ADDRESS_MASK = 0b0111_1111;
const CMOS_SIZE = 128;

// Register A: UIP (read-only), DV2..DV0 divider, RS3..RS0 rate select.
export const REG_A_UIP = 0b1000_0000;
const REG_A_DV_MASK = 0b0111_0000;
/** DV = 010: 32.768 kHz time base, divider chain running. */
export const REG_A_DV_32KHZ = 0b0010_0000;
const REG_A_RS_MASK = 0b0000_1111;
// Register B
export const REG_B_SET = 0b1000_0000;
export const REG_B_PIE = 0b0100_0000;
export const REG_B_AIE = 0b0010_0000;
export const REG_B_UIE = 0b0001_0000;
export const REG_B_SQWE = 0b0000_1000;
export const REG_B_DM_BINARY = 0b0000_0100;
export const REG_B_24H = 0b0000_0010;
export const REG_B_DSE = 0b0000_0001;
/** The RESET pin clears these (data sheet "RESET"): PIE, AIE, UIE and SQWE. */
const REG_B_CLEARED_BY_RESET = REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE;
// Register C (read-only, cleared by reading)
export const REG_C_IRQF = 0b1000_0000;
export const REG_C_PF = 0b0100_0000;
export const REG_C_AF = 0b0010_0000;
export const REG_C_UF = 0b0001_0000;
// Register D: valid RAM and time (the battery is always good here).
export const REG_D_VRT = 0b1000_0000;
/** An alarm byte with both top bits set matches every value ("don't care"). */
export const ALARM_DONT_CARE = 0b1100_0000;
/** Hours in 12-hour mode: bit 7 means PM. */
export const HOURS_PM = 0b1000_0000;

const NS_PER_S = 1e9;
const TIME_BASE_HZ = 32_768;
/** UIP is high for 244 us before each update (data sheet "Update Cycle": 8 cycles of the 32.768 kHz base). */
const UIP_NS = (8 * NS_PER_S) / TIME_BASE_HZ;
/** After the divider leaves reset, the first update comes half a second later. */
const FIRST_UPDATE_DELAY_NS = NS_PER_S / 2;
const SECONDS_PER_DAY = 86_400;

// Memory-size fields as SeaBIOS reads them and QEMU's pc_cmos_init() fills them.
const KIB = 1024;
const MIB = 1024 * KIB;
const CMOS_BASE_MEMORY_KIB = 0x15; // u16: KiB below 1 MiB (at most 640)
const CMOS_EXTENDED_MEMORY_KIB = 0x17; // u16: KiB above 1 MiB, up to 65535
const CMOS_EXTENDED_MEMORY_KIB_COPY = 0x30; // u16: the same, where the AT BIOS copies it
const CMOS_MEMORY_ABOVE_16M = 0x34; // u16: 64 KiB blocks between 16 MiB and 4 GiB
const CMOS_MEMORY_ABOVE_4G = 0x5b; // u24: 64 KiB blocks above 4 GiB
const BASE_MEMORY_KIB = 640;
/** Where RAM stops below 4 GiB to leave room for PCI, as on QEMU's i440FX machine. */
export const DEFAULT_LOW_MEMORY_LIMIT = 0xe000_0000;

function toBcd(value: number): number {
  return ((Math.floor(value / 10) % 10) << 4) | (value % 10);
}

function fromBcd(value: number): number {
  return (value >> 4) * 10 + (value & 0xf);
}

/** Time-of-day fields of an alarm: a value, or null for "don't care". */
interface AlarmFields {
  hour: number | null;
  minute: number | null;
  second: number | null;
}

export class RtcCmos extends ByteRegisters {
  private readonly ram = new Uint8Array(CMOS_SIZE);
  private index = 0;
  private nmiMask = false;
  /** While running, the clock shows `epochSec` at virtual time `ns0` and counts seconds from there. */
  private epochSec = 0;
  private ns0 = 0;
  /** Register C flags (PF, AF, UF) up to `lastSyncNs`. */
  private flags = 0;
  private lastSyncNs = 0;
  private irqLevel = false;
  private readonly timer: VirtualTimer;

  constructor(
    private readonly clock: Clock,
    private readonly irq: IrqLine,
  ) {
    super();
    this.timer = clock.timer((nowNs) => this.onTimer(nowNs));
    const wallMs = clock.wallMs();
    const now = clock.nowNs();
    this.epochSec = Math.floor(wallMs / 1000);
    this.ns0 = now - Math.round((wallMs - this.epochSec * 1000) * 1e6);
    this.lastSyncNs = now;
    this.ram[Cmos.RegA] = REG_A_DV_32KHZ | 0b0110; // 1024 Hz periodic rate, the PC default
    this.ram[Cmos.RegB] = REG_B_24H;
    this.ram[Cmos.RegD] = REG_D_VRT;
    this.ram[Cmos.Century] = toBcd(Math.floor(new Date(wallMs).getUTCFullYear() / 100));
  }

  /** NMI masked by bit 7 of the last index write (the PC's NMI enable lives at port 0x70). */
  get nmiMasked(): boolean {
    return this.nmiMask;
  }

  /** The RESET pin: interrupt enables and flags clear, IRQ8 goes low; time and RAM are kept. */
  reset(): void {
    const now = this.clock.nowNs();
    this.sync(now);
    this.ram[Cmos.RegB] &= ~REG_B_CLEARED_BY_RESET;
    this.flags = 0;
    this.index = 0;
    this.nmiMask = false;
    this.updateIrq(now);
  }

  /** Set a CMOS RAM byte from the machine (equipment, disks, boot order...); the clock registers are not RAM. */
  setNvram(index: number, value: number): void {
    if (index > Cmos.RegD && index < CMOS_SIZE) this.ram[index] = value;
  }

  /** Fill the memory-size fields the way QEMU's pc_cmos_init() does, for SeaBIOS and older BIOSes. */
  setMemorySize(bytes: number, lowMemoryLimit = DEFAULT_LOW_MEMORY_LIMIT): void {
    const below4g = Math.min(bytes, lowMemoryLimit);
    const above4g = bytes - below4g;
    this.setU16(CMOS_BASE_MEMORY_KIB, Math.min(below4g / KIB, BASE_MEMORY_KIB));
    const extendedKib = Math.min(Math.max(0, (below4g - MIB) / KIB), 0xffff);
    this.setU16(CMOS_EXTENDED_MEMORY_KIB, extendedKib);
    this.setU16(CMOS_EXTENDED_MEMORY_KIB_COPY, extendedKib);
    this.setU16(CMOS_MEMORY_ABOVE_16M, Math.min(Math.max(0, (below4g - 16 * MIB) / (64 * KIB)), 0xffff));
    const high = Math.floor(above4g / (64 * KIB));
    this.ram[CMOS_MEMORY_ABOVE_4G] = high;
    this.ram[CMOS_MEMORY_ABOVE_4G + 1] = high >> 8;
    this.ram[CMOS_MEMORY_ABOVE_4G + 2] = high >> 16;
  }

  private setU16(index: number, value: number): void {
    const v = Math.floor(value);
    this.ram[index] = v;
    this.ram[index + 1] = v >> 8;
  }

  protected readByte(offset: number): number {
    if (offset !== RtcPort.Data) return 0xff; // the index register is write-only
    const now = this.clock.nowNs();
    this.sync(now);
    const value = this.readRegister(now);
    this.updateIrq(now);
    return value;
  }

  private readRegister(now: number): number {
    switch (this.index) {
      case Cmos.Seconds:
      case Cmos.Minutes:
      case Cmos.Hours:
      case Cmos.DayOfWeek:
      case Cmos.DayOfMonth:
      case Cmos.Month:
      case Cmos.Year:
      case Cmos.Century:
        if (this.running()) this.materialize(now);
        return this.ram[this.index];
      case Cmos.RegA: {
        const frac = ((this.sinceNs0(now) % NS_PER_S) + NS_PER_S) % NS_PER_S;
        const uip = this.running() && frac >= NS_PER_S - UIP_NS ? REG_A_UIP : 0;
        return this.ram[Cmos.RegA] | uip;
      }
      case Cmos.RegC: {
        // Reading C clears every flag and releases IRQ8 (the caller updates the line).
        const value = this.flags | (this.irqf() ? REG_C_IRQF : 0);
        this.flags = 0;
        return value;
      }
      case Cmos.RegD:
        return REG_D_VRT;
      default:
        return this.ram[this.index];
    }
  }

  protected writeByte(offset: number, value: number): void {
    if (offset === RtcPort.Index) {
      this.index = value & INDEX_ADDRESS_MASK;
      this.nmiMask = (value & INDEX_NMI_MASK) !== 0;
      return;
    }
    if (offset !== RtcPort.Data) return;
    const now = this.clock.nowNs();
    this.sync(now);
    switch (this.index) {
      case Cmos.Seconds:
      case Cmos.Minutes:
      case Cmos.Hours:
      case Cmos.DayOfWeek:
      case Cmos.DayOfMonth:
      case Cmos.Month:
      case Cmos.Year:
      case Cmos.Century:
        // With SET the guest edits the frozen copy; without it the clock is adjusted at once.
        if (this.running()) {
          this.materialize(now);
          this.ram[this.index] = value;
          this.adopt(now);
        } else {
          this.ram[this.index] = value;
        }
        break;
      case Cmos.RegA:
        this.writeRegA(now, value & ~REG_A_UIP);
        break;
      case Cmos.RegB:
        this.writeRegB(now, value);
        break;
      case Cmos.RegC:
      case Cmos.RegD:
        break; // read-only
      default:
        this.ram[this.index] = value;
        break;
    }
    this.updateIrq(now);
  }

  private writeRegA(now: number, value: number): void {
    const wasRunning = this.running();
    this.ram[Cmos.RegA] = value;
    if (wasRunning && !this.running()) {
      this.materialize(now);
    } else if (!wasRunning && this.running()) {
      // Leaving divider reset: the first update cycle begins half a second later.
      this.ns0 = now - FIRST_UPDATE_DELAY_NS;
      this.adopt(now);
    }
  }

  private writeRegB(now: number, value: number): void {
    const wasRunning = this.running();
    // Setting SET also clears UIE (data sheet, register B "UIE").
    this.ram[Cmos.RegB] = value & REG_B_SET ? value & ~REG_B_UIE : value;
    if (wasRunning && !this.running()) this.materialize(now);
    else if (!wasRunning && this.running()) this.adopt(now);
  }

  private dividerRunning(): boolean {
    return (this.ram[Cmos.RegA] & REG_A_DV_MASK) === REG_A_DV_32KHZ;
  }

  /** The clock is counting: divider running and SET clear. Otherwise the time registers are plain RAM. */
  private running(): boolean {
    return this.dividerRunning() && !(this.ram[Cmos.RegB] & REG_B_SET);
  }

  private sinceNs0(now: number): number {
    return now - this.ns0;
  }

  private secondsAt(now: number): number {
    return this.epochSec + Math.floor(this.sinceNs0(now) / NS_PER_S);
  }

  private encode(value: number): number {
    return this.ram[Cmos.RegB] & REG_B_DM_BINARY ? value : toBcd(value);
  }

  private decode(value: number): number {
    return this.ram[Cmos.RegB] & REG_B_DM_BINARY ? value : fromBcd(value);
  }

  private encodeHours(hour: number): number {
    if (this.ram[Cmos.RegB] & REG_B_24H) return this.encode(hour);
    return this.encode(hour % 12 || 12) | (hour >= 12 ? HOURS_PM : 0);
  }

  /** Hours in 0..23, or NaN for a value no clock could show. */
  private decodeHours(value: number): number {
    if (this.ram[Cmos.RegB] & REG_B_24H) return this.decode(value);
    const h = this.decode(value & ~HOURS_PM);
    if (h < 1 || h > 12) return NaN;
    return (h % 12) + (value & HOURS_PM ? 12 : 0);
  }

  /** Write the running clock's current time into the time registers, in the format register B selects. */
  private materialize(now: number): void {
    const d = new Date(this.secondsAt(now) * 1000);
    const year = d.getUTCFullYear();
    this.ram[Cmos.Seconds] = this.encode(d.getUTCSeconds());
    this.ram[Cmos.Minutes] = this.encode(d.getUTCMinutes());
    this.ram[Cmos.Hours] = this.encodeHours(d.getUTCHours());
    this.ram[Cmos.DayOfWeek] = this.encode(d.getUTCDay() + 1);
    this.ram[Cmos.DayOfMonth] = this.encode(d.getUTCDate());
    this.ram[Cmos.Month] = this.encode(d.getUTCMonth() + 1);
    this.ram[Cmos.Year] = this.encode(year % 100);
    this.ram[Cmos.Century] = this.encode(Math.floor(year / 100));
  }

  /**
   * Take the time registers as the clock's new time, keeping the divider's phase. The day of week is derived
   * from the date, as on QEMU. Registers that make no date (garbage from the guest) leave the clock alone.
   */
  private adopt(now: number): void {
    const d = new Date(0);
    d.setUTCFullYear(
      this.decode(this.ram[Cmos.Century]) * 100 + this.decode(this.ram[Cmos.Year]),
      this.decode(this.ram[Cmos.Month]) - 1,
      this.decode(this.ram[Cmos.DayOfMonth]),
    );
    d.setUTCHours(
      this.decodeHours(this.ram[Cmos.Hours]),
      this.decode(this.ram[Cmos.Minutes]),
      this.decode(this.ram[Cmos.Seconds]),
    );
    const seconds = d.getTime() / 1000;
    if (!Number.isFinite(seconds)) return;
    this.epochSec = seconds - Math.floor(this.sinceNs0(now) / NS_PER_S);
  }

  /** Edges of the 32.768 kHz time base since `ns0`, exact for any virtual time. */
  private baseTicks(now: number): number {
    const since = this.sinceNs0(now);
    const s = Math.floor(since / NS_PER_S);
    return s * TIME_BASE_HZ + Math.floor(((since - s * NS_PER_S) * TIME_BASE_HZ) / NS_PER_S);
  }

  private nsAtBaseTick(tick: number): number {
    const s = Math.floor(tick / TIME_BASE_HZ);
    return this.ns0 + s * NS_PER_S + Math.ceil(((tick - s * TIME_BASE_HZ) * NS_PER_S) / TIME_BASE_HZ);
  }

  /** Periodic interrupt period in time-base cycles (data sheet Table "Periodic Interrupt Rate"), 0 = off. */
  private periodicTicks(): number {
    if (!this.dividerRunning()) return 0;
    const rs = this.ram[Cmos.RegA] & REG_A_RS_MASK;
    if (rs === 0) return 0;
    // RS 1 and 2 repeat rates 8 and 9 (256 Hz and 128 Hz) on a 32.768 kHz base.
    return rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
  }

  /** Set the flags for every event in (lastSyncNs, now]. */
  private sync(now: number): void {
    if (now <= this.lastSyncNs) return;
    const period = this.periodicTicks();
    if (period && Math.floor(this.baseTicks(now) / period) > Math.floor(this.baseTicks(this.lastSyncNs) / period)) {
      this.flags |= REG_C_PF;
    }
    if (this.running()) {
      const before = this.secondsAt(this.lastSyncNs);
      const after = this.secondsAt(now);
      if (after > before) this.flags |= REG_C_UF;
      if (this.nextAlarm(before) <= after) this.flags |= REG_C_AF;
    }
    this.lastSyncNs = now;
  }

  /** Register C: IRQF = PF·PIE + AF·AIE + UF·UIE. */
  private irqf(): boolean {
    const b = this.ram[Cmos.RegB];
    return ((this.flags & REG_C_PF && b & REG_B_PIE) || (this.flags & REG_C_AF && b & REG_B_AIE) ||
      (this.flags & REG_C_UF && b & REG_B_UIE)) !== 0;
  }

  /** IRQ8 follows IRQF. Then arm the timer for the next event that could set it. */
  private updateIrq(now: number): void {
    const level = this.irqf();
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      if (level) this.irq.raise();
      else this.irq.lower();
    }
    this.armTimer(now);
  }

  private onTimer(nowNs: number): void {
    this.sync(nowNs);
    this.updateIrq(nowNs);
  }

  private armTimer(now: number): void {
    const b = this.ram[Cmos.RegB];
    let deadline = Infinity;
    if (!this.irqLevel) {
      const period = this.periodicTicks();
      if (b & REG_B_PIE && period) {
        deadline = this.nsAtBaseTick((Math.floor(this.baseTicks(now) / period) + 1) * period);
      }
      if (this.running()) {
        const second = this.secondsAt(now);
        if (b & REG_B_UIE) deadline = Math.min(deadline, this.nsAtSecond(second + 1));
        if (b & REG_B_AIE) deadline = Math.min(deadline, this.nsAtSecond(this.nextAlarm(second)));
      }
    }
    if (deadline === Infinity) this.timer.disarm();
    else this.timer.arm(deadline);
  }

  private nsAtSecond(second: number): number {
    return this.ns0 + (second - this.epochSec) * NS_PER_S;
  }

  private alarmFields(): AlarmFields | undefined {
    const field = (index: number, limit: number, decode: (v: number) => number): number | null | undefined => {
      const raw = this.ram[index];
      if ((raw & ALARM_DONT_CARE) === ALARM_DONT_CARE) return null;
      const v = decode(raw);
      return v >= 0 && v < limit ? v : undefined;
    };
    const second = field(Cmos.SecondsAlarm, 60, (v) => this.decode(v));
    const minute = field(Cmos.MinutesAlarm, 60, (v) => this.decode(v));
    const hour = field(Cmos.HoursAlarm, 24, (v) => this.decodeHours(v));
    if (second === undefined || minute === undefined || hour === undefined) return undefined;
    return { hour, minute, second };
  }

  /** The first second after `after` (epoch seconds) whose update matches the alarm, or Infinity. */
  private nextAlarm(after: number): number {
    const alarm = this.alarmFields();
    if (alarm === undefined) return Infinity;
    const from = after + 1;
    const dayStart = Math.floor(from / SECONDS_PER_DAY) * SECONDS_PER_DAY;
    const today = firstMatch(alarm, from - dayStart);
    if (today >= 0) return dayStart + today;
    return dayStart + SECONDS_PER_DAY + firstMatch(alarm, 0);
  }
}

/** The first time of day (seconds) at or after `start` that matches the alarm, or -1 if none is left today. */
function firstMatch(alarm: AlarmFields, start: number): number {
  const startHour = Math.floor(start / 3600);
  const startMinute = Math.floor((start % 3600) / 60);
  const startSecond = start % 60;
  for (let h = alarm.hour ?? startHour; h < 24; h++) {
    if (alarm.hour !== null && h !== alarm.hour) break;
    if (h < startHour) continue;
    const sameHour = h === startHour;
    for (let m = alarm.minute ?? (sameHour ? startMinute : 0); m < 60; m++) {
      if (alarm.minute !== null && m !== alarm.minute) break;
      if (sameHour && m < startMinute) continue;
      const sameMinute = sameHour && m === startMinute;
      for (let s = alarm.second ?? (sameMinute ? startSecond : 0); s < 60; s++) {
        if (alarm.second !== null && s !== alarm.second) break;
        if (sameMinute && s < startSecond) continue;
        return h * 3600 + m * 60 + s;
      }
    }
  }
  return -1;
}
