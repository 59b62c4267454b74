// The ACPI fixed hardware register blocks of the PIIX4 power-management function (ACPI 6.x §4.8 "ACPI Hardware
// Specification"; behaviour as QEMU's hw/acpi/core.c where the spec leaves a choice), as one IoDevice of
// ACPI_PM_BLOCK_LENGTH bytes whose offsets are relative to its base. The machine inserts it at 0x600 and the
// FADT describes the blocks inside it:
//
//   offset  FADT field           length  registers
//   0x00    PM1a_EVT_BLK         4       PM1_STS (2 bytes), PM1_EN (2 bytes)
//   0x04    PM1a_CNT_BLK         2       PM1_CNT
//   0x08    PM_TMR_BLK           4       PM_TMR (TMR_VAL_EXT = 0: a 24-bit count)
//   0x20    GPE0_BLK             4       GPE0_STS (2 bytes), GPE0_EN (2 bytes)
//
// Bytes between the blocks decode nothing: they read as all ones (the open-bus value) and ignore writes.
// An access of any width and alignment inside the device is taken apart into byte lanes, so the 16-bit and
// 32-bit accesses the spec calls for work, and byte or straddling accesses do what each lane says.
//
// The machine is always in ACPI mode (FADT.SMI_CMD = 0), so SCI_EN is hard-wired to 1. The SCI is a level: high
// while any enabled PM1 status bit or enabled GPE0 status bit is set; the machine wires it to ISA IRQ 9,
// level-triggered. The PM timer is a function of virtual time; a VirtualTimer is armed for the next bit-23
// carry only while TMR_EN is set and TMR_STS is clear, so a guest that leaves the timer event off costs nothing.
import type { AccessSize, Clock, IoDevice, IrqLine, VirtualTimer } from "./device";

/** Register offsets from the base of the block (0x600 on this machine). */
export const enum AcpiPmReg {
  Pm1Sts = 0x00,
  Pm1En = 0x02,
  Pm1Cnt = 0x04,
  PmTmr = 0x08,
  Gpe0Sts = 0x20,
  Gpe0En = 0x22,
}
/** Bytes the machine reserves for the device: up to the end of GPE0_EN. */
export const ACPI_PM_BLOCK_LENGTH = 0x24;

const PM1_REGISTER_WIDTH = 2;
const PM_TMR_WIDTH = 4;
const GPE0_REGISTER_WIDTH = 2;

// PM1_STS (ACPI 6.x §4.8.3.1.1, "PM1 Status Registers"): write 1 to clear.
export const PM1_STS_TMR = 0b0000_0000_0000_0001;
export const PM1_STS_GBL = 0b0000_0000_0010_0000;
export const PM1_STS_PWRBTN = 0b0000_0001_0000_0000;
export const PM1_STS_SLPBTN = 0b0000_0010_0000_0000;
export const PM1_STS_RTC = 0b0000_0100_0000_0000;
export const PM1_STS_WAK = 0b1000_0000_0000_0000;
// PM1_EN (§4.8.3.1.2, "PM1 Enable Registers"): each enable sits at the bit of the status it gates.
export const PM1_EN_TMR = 0b0000_0000_0000_0001;
export const PM1_EN_GBL = 0b0000_0000_0010_0000;
export const PM1_EN_PWRBTN = 0b0000_0001_0000_0000;
export const PM1_EN_SLPBTN = 0b0000_0010_0000_0000;
export const PM1_EN_RTC = 0b0000_0100_0000_0000;
export const PM1_EN_PCIEXP_WAKE_DIS = 0b0100_0000_0000_0000;
/** The enables that read back. Only the timer and the power button have status sources here; the others are
 * stored, as QEMU stores the whole register. */
const PM1_EN_STORED = PM1_EN_TMR | PM1_EN_GBL | PM1_EN_PWRBTN | PM1_EN_SLPBTN | PM1_EN_RTC | PM1_EN_PCIEXP_WAKE_DIS;
/** Status bits that raise the SCI while enabled (WAK_STS is a wake indicator, PCIEXP_WAKE_DIS an inverted enable). */
const PM1_SCI_EVENTS = PM1_STS_TMR | PM1_STS_GBL | PM1_STS_PWRBTN | PM1_STS_SLPBTN | PM1_STS_RTC;

// PM1_CNT (§4.8.3.2.1, "PM1 Control Registers").
/** Hardware-owned; set because the machine is always in ACPI mode (FADT.SMI_CMD = 0). */
export const PM1_CNT_SCI_EN = 0b0000_0000_0000_0001;
export const PM1_CNT_BM_RLD = 0b0000_0000_0000_0010;
export const PM1_CNT_SLP_TYP_MASK = 0b0001_1100_0000_0000;
export const PM1_CNT_SLP_TYP_SHIFT = 10;
/** Write-only: writing 1 enters the sleeping state SLP_TYP selects; reads 0. */
export const PM1_CNT_SLP_EN = 0b0010_0000_0000_0000;
/** What reads back; GBL_RLS (bit 2, write-only) would signal the firmware's SMI handler, of which there is none. */
const PM1_CNT_STORED = PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP_MASK;

/** SLP_TYP of S5 (soft off): the value of the DSDT's _S5 package, 0 as in QEMU's PIIX4 tables. */
export const SLP_TYP_S5 = 0;

/** The PM timer runs at 3.579545 MHz (§4.8.3.3, "Power Management Timer"). */
export const PM_TIMER_HZ = 3_579_545;
/** TMR_VAL_EXT = 0: the count is 24 bits wide; TMR_STS follows bit 23. */
const PM_TIMER_MODULUS = 1 << 24;
const PM_TIMER_CARRY = 1 << 23;
const NS_PER_S = 1e9;

/** Number of timer ticks up to virtual time `ns`, exact while the per-second product fits in 53 bits. */
function ticksAt(ns: number): number {
  const s = Math.floor(ns / NS_PER_S);
  return s * PM_TIMER_HZ + Math.floor(((ns - s * NS_PER_S) * PM_TIMER_HZ) / NS_PER_S);
}

/** The first virtual time at which ticksAt() reaches `tick`. */
function nsAtTick(tick: number): number {
  const s = Math.floor(tick / PM_TIMER_HZ);
  return s * NS_PER_S + Math.ceil(((tick - s * PM_TIMER_HZ) * NS_PER_S) / PM_TIMER_HZ);
}

/** The register that holds byte `offset` of the device, or -1 for a byte between the blocks. */
function registerOf(offset: number): number {
  if (offset >= AcpiPmReg.PmTmr && offset < AcpiPmReg.PmTmr + PM_TMR_WIDTH) return AcpiPmReg.PmTmr;
  if (offset >= AcpiPmReg.Pm1Sts && offset < AcpiPmReg.Pm1Cnt + PM1_REGISTER_WIDTH) return offset & ~1;
  if (offset >= AcpiPmReg.Gpe0Sts && offset < AcpiPmReg.Gpe0En + GPE0_REGISTER_WIDTH) return offset & ~1;
  return -1;
}

/** Bits of the register at `reg` (`width` bytes) that an access of `size` bytes at `offset` covers. */
function lanesOf(reg: number, width: number, offset: number, size: number): number {
  let mask = 0;
  const end = Math.min(reg + width, offset + size);
  for (let b = Math.max(reg, offset); b < end; b++) mask |= 0xff << (8 * (b - reg));
  return mask >>> 0;
}

/** An access's value moved to the bit positions of the register at `reg`; meaningful where lanesOf() is set. */
function alignTo(reg: number, offset: number, value: number): number {
  const shift = 8 * (offset - reg);
  return shift >= 0 ? (value << shift) >>> 0 : value >>> -shift;
}

export class AcpiPm implements IoDevice {
  private pm1Sts = 0;
  private pm1En = 0;
  /** PM1_CNT bits that read back as written (SCI_EN is added on read). */
  private pm1Cnt = 0;
  private gpe0Sts = 0;
  private gpe0En = 0;
  /** TMR_STS accounts for every bit-23 transition up to this timer tick. */
  private syncedTick: number;
  private sciLevel = false;
  private readonly timer: VirtualTimer;
  /** SLP_TYP of the last sleep request (SLP_EN written), until resume() or reset(); undefined while awake. */
  sleepType: number | undefined;

  /**
   * @param sci the SCI (level; the machine wires it to IRQ 9, level-triggered)
   * @param onSleep called when the guest writes SLP_EN = 1, with the SLP_TYP it wrote: SLP_TYP_S5 means power off;
   *   the machine decides what other types (S1, S3, which the DSDT may not offer) do
   */
  constructor(
    private readonly clock: Clock,
    private readonly sci: IrqLine,
    private readonly onSleep: (slpTyp: number) => void,
  ) {
    this.timer = clock.timer((nowNs) => this.onTimer(nowNs));
    this.syncedTick = ticksAt(clock.nowNs());
  }

  /** PWRBTN#: PWRBTN_STS is set whatever PWRBTN_EN says; the SCI follows while it is enabled (§4.8.3.1.1). */
  pressPowerButton(): void {
    this.syncTimerStatus(this.clock.nowNs());
    this.pm1Sts |= PM1_STS_PWRBTN;
    this.update();
  }

  /** An enabled wake event ended a sleeping state the machine implemented: WAK_STS is set (§4.8.3.1.1). */
  resume(): void {
    this.sleepType = undefined;
    this.pm1Sts |= PM1_STS_WAK;
    this.update();
  }

  /** Power-on state (QEMU's piix4_reset): status, enables and GPE0 clear, the SCI low. The timer keeps counting. */
  reset(): void {
    this.syncedTick = ticksAt(this.clock.nowNs());
    this.pm1Sts = 0;
    this.pm1En = 0;
    this.pm1Cnt = 0;
    this.gpe0Sts = 0;
    this.gpe0En = 0;
    this.sleepType = undefined;
    this.update();
  }

  read(offset: number, size: AccessSize): number {
    const now = this.clock.nowNs();
    // The hot path: Linux's acpi_pm clocksource and TSC calibration read PM_TMR as a dword.
    if (offset === AcpiPmReg.PmTmr && size === PM_TMR_WIDTH) return ticksAt(now) % PM_TIMER_MODULUS;
    if (this.syncTimerStatus(now)) this.update();
    let value = 0;
    for (let i = 0; i < size; i++) {
      const reg = registerOf(offset + i);
      const byte = reg < 0 ? 0xff : (this.registerValue(reg, now) >>> (8 * (offset + i - reg))) & 0xff;
      value |= byte << (8 * i);
    }
    return value >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.syncTimerStatus(this.clock.nowNs());
    let lanes = lanesOf(AcpiPmReg.Pm1Sts, PM1_REGISTER_WIDTH, offset, size);
    if (lanes !== 0) this.pm1Sts &= ~(alignTo(AcpiPmReg.Pm1Sts, offset, value) & lanes);
    lanes = lanesOf(AcpiPmReg.Pm1En, PM1_REGISTER_WIDTH, offset, size);
    if (lanes !== 0) {
      this.pm1En = (this.pm1En & ~lanes) | (alignTo(AcpiPmReg.Pm1En, offset, value) & lanes & PM1_EN_STORED);
    }
    let sleep = false;
    lanes = lanesOf(AcpiPmReg.Pm1Cnt, PM1_REGISTER_WIDTH, offset, size);
    if (lanes !== 0) {
      const cnt = alignTo(AcpiPmReg.Pm1Cnt, offset, value) & lanes;
      this.pm1Cnt = (this.pm1Cnt & ~lanes) | (cnt & PM1_CNT_STORED);
      sleep = (cnt & PM1_CNT_SLP_EN) !== 0;
    }
    lanes = lanesOf(AcpiPmReg.Gpe0Sts, GPE0_REGISTER_WIDTH, offset, size);
    if (lanes !== 0) this.gpe0Sts &= ~(alignTo(AcpiPmReg.Gpe0Sts, offset, value) & lanes);
    lanes = lanesOf(AcpiPmReg.Gpe0En, GPE0_REGISTER_WIDTH, offset, size);
    if (lanes !== 0) this.gpe0En = (this.gpe0En & ~lanes) | (alignTo(AcpiPmReg.Gpe0En, offset, value) & lanes);
    this.update();
    if (sleep) {
      // §4.8.3.2.1: SLP_EN enters the state of SLP_TYP, here the value written together with SLP_EN (both sit
      // in the high byte, so every access that sets SLP_EN also wrote SLP_TYP).
      const slpTyp = (this.pm1Cnt & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT;
      this.sleepType = slpTyp;
      this.onSleep(slpTyp);
    }
  }

  private registerValue(reg: number, now: number): number {
    switch (reg) {
      case AcpiPmReg.Pm1Sts: return this.pm1Sts;
      case AcpiPmReg.Pm1En: return this.pm1En;
      case AcpiPmReg.Pm1Cnt: return this.pm1Cnt | PM1_CNT_SCI_EN;
      case AcpiPmReg.PmTmr: return ticksAt(now) % PM_TIMER_MODULUS;
      case AcpiPmReg.Gpe0Sts: return this.gpe0Sts;
      case AcpiPmReg.Gpe0En: return this.gpe0En;
      default: return 0;
    }
  }

  /** §4.8.3.1.1: TMR_STS is set whenever bit 23 of the count changes. Returns whether it became set. */
  private syncTimerStatus(now: number): boolean {
    const tick = ticksAt(now);
    const carried = Math.floor(tick / PM_TIMER_CARRY) > Math.floor(this.syncedTick / PM_TIMER_CARRY);
    this.syncedTick = Math.max(this.syncedTick, tick);
    if (!carried || (this.pm1Sts & PM1_STS_TMR) !== 0) return false;
    this.pm1Sts |= PM1_STS_TMR;
    return true;
  }

  private onTimer(nowNs: number): void {
    this.syncTimerStatus(nowNs);
    this.update();
  }

  /** Drive the SCI from status and enables, and arm the timer for the next carry the SCI would follow. */
  private update(): void {
    const level = (this.pm1Sts & this.pm1En & PM1_SCI_EVENTS) !== 0 || (this.gpe0Sts & this.gpe0En) !== 0;
    if (level !== this.sciLevel) {
      this.sciLevel = level;
      if (level) this.sci.raise();
      else this.sci.lower();
    }
    if ((this.pm1En & PM1_EN_TMR) !== 0 && (this.pm1Sts & PM1_STS_TMR) === 0) {
      const nextCarry = (Math.floor(this.syncedTick / PM_TIMER_CARRY) + 1) * PM_TIMER_CARRY;
      this.timer.arm(nsAtTick(nextCarry));
    } else {
      this.timer.disarm();
    }
  }
}
