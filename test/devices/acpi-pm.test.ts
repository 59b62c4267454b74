// The PIIX4 PM function's ACPI fixed hardware through its registers, offsets from 0x600. Expected values from
// ACPI 6.x §4.8.3.1 (PM1 status/enable: TMR_STS bit 0, PWRBTN_STS bit 8, WAK_STS bit 15, write 1 to clear),
// §4.8.3.2.1 (PM1_CNT: SCI_EN bit 0, SLP_TYP bits 12:10, SLP_EN bit 13) and §4.8.3.3 (PM_TMR: 3.579545 MHz,
// 24 bits when FADT.TMR_VAL_EXT = 0, TMR_STS on every change of bit 23); QEMU hw/acpi/core.c for the SCI level
// (enabled PM1 events or enabled GPE0 status) and SLP_TYP 0 as soft off.
import { beforeEach, describe, expect, it } from "vitest";
import { AcpiPm } from "../../src/devices/acpi-pm";
import { FakeIrq, ManualClock } from "./helpers";

const PM1_STS = 0x00, PM1_EN = 0x02, PM1_CNT = 0x04, PM_TMR = 0x08, GPE0_STS = 0x20, GPE0_EN = 0x22;
const TMR_STS = 0x0001, PWRBTN_STS = 0x0100, WAK_STS = 0x8000;
const TMR_EN = 0x0001, PWRBTN_EN = 0x0100;
const SCI_EN = 0x0001, SLP_EN = 0x2000, SLP_TYP_SHIFT = 10;
const PM_HZ = 3_579_545;
const S = 1e9, US = 1e3;
/** Virtual time of the n-th change of bit 23 of the count (a tick count of n * 2^23). */
const carryNs = (n: number) => (n * 2 ** 23 / PM_HZ) * S;

describe("AcpiPm", () => {
  let clock: ManualClock;
  let sci: FakeIrq;
  let sleeps: number[];
  let pm: AcpiPm;
  const rd16 = (offset: number) => pm.read(offset, 2);
  const wr16 = (offset: number, value: number) => pm.write(offset, 2, value);
  const timer = () => pm.read(PM_TMR, 4);

  beforeEach(() => {
    clock = new ManualClock();
    sci = new FakeIrq();
    sleeps = [];
    pm = new AcpiPm(clock, sci, (slpTyp) => sleeps.push(slpTyp));
    pm.reset();
  });

  describe("PM timer", () => {
    it("counts 3,579,545 ticks per second of virtual time", () => {
      const t0 = timer();
      clock.advance(1 * S);
      expect((timer() - t0 + 2 ** 24) % 2 ** 24).toBe(3_579_545);
    });

    it("is 24 bits wide and wraps: bits 31:24 read 0", () => {
      clock.advance(5 * S); // 17,897,725 ticks = 2^24 + 1,120,509
      expect(timer()).toBe(17_897_725 % 2 ** 24);
      expect(timer() >>> 24).toBe(0);
    });

    it("reads in words and bytes show the same count", () => {
      clock.advance(1 * S); // 3,579,545 = 0x36_9E99
      expect([rd16(PM_TMR), rd16(PM_TMR + 2)]).toEqual([0x9e99, 0x0036]);
      expect([pm.read(PM_TMR, 1), pm.read(PM_TMR + 1, 1), pm.read(PM_TMR + 2, 1), pm.read(PM_TMR + 3, 1)])
        .toEqual([0x99, 0x9e, 0x36, 0x00]);
    });

    it("ignores writes", () => {
      clock.advance(1 * S);
      pm.write(PM_TMR, 4, 0);
      expect(timer()).toBe(3_579_545);
    });

    it("sets TMR_STS when bit 23 changes, without an SCI while TMR_EN is clear", () => {
      clock.advanceTo(carryNs(1) - US);
      expect(rd16(PM1_STS) & TMR_STS).toBe(0);
      clock.advanceTo(carryNs(1) + US);
      expect(rd16(PM1_STS) & TMR_STS).toBe(TMR_STS);
      expect(sci.raised).toBe(0);
    });

    it("raises the SCI at the carry when TMR_EN is set, from a timer and not from polling", () => {
      wr16(PM1_EN, TMR_EN);
      clock.advanceTo(carryNs(1) - US);
      expect(sci.level).toBe(false);
      clock.advanceTo(carryNs(1) + US);
      expect(sci.level).toBe(true); // no register was read in between
      expect(sci.raised).toBe(1);
    });

    it("the timer is armed for the first nanosecond at which the count reaches the carry", () => {
      wr16(PM1_EN, TMR_EN);
      const deadline = clock.nextDeadline()!;
      clock.advanceTo(deadline - 1);
      expect([timer(), sci.level]).toEqual([2 ** 23 - 1, false]);
      clock.advanceTo(deadline);
      expect([timer(), sci.level]).toEqual([2 ** 23, true]);
    });

    it("TMR_STS is write-1-to-clear; clearing it drops the SCI until the next change of bit 23", () => {
      wr16(PM1_EN, TMR_EN);
      clock.advanceTo(carryNs(1) + US);
      wr16(PM1_STS, 0); // writing 0 leaves it
      expect(rd16(PM1_STS) & TMR_STS).toBe(TMR_STS);
      wr16(PM1_STS, TMR_STS);
      expect(rd16(PM1_STS) & TMR_STS).toBe(0);
      expect(sci.level).toBe(false);
      clock.advanceTo(carryNs(2) - US); // bit 23 falls when the count wraps at 2^24
      expect(sci.level).toBe(false);
      clock.advanceTo(carryNs(2) + US);
      expect(sci.level).toBe(true);
      expect(sci.raised).toBe(2);
    });

    it("a carry that happened while TMR_EN was clear raises the SCI as soon as TMR_EN is set", () => {
      clock.advanceTo(carryNs(1) + US);
      wr16(PM1_EN, TMR_EN);
      expect(sci.level).toBe(true);
      wr16(PM1_EN, 0);
      expect(sci.level).toBe(false);
    });
  });

  describe("power button", () => {
    it("sets PWRBTN_STS and raises the SCI when PWRBTN_EN is set", () => {
      wr16(PM1_EN, PWRBTN_EN);
      pm.pressPowerButton();
      expect(rd16(PM1_STS) & PWRBTN_STS).toBe(PWRBTN_STS);
      expect(sci.level).toBe(true);
      wr16(PM1_STS, PWRBTN_STS);
      expect(rd16(PM1_STS) & PWRBTN_STS).toBe(0);
      expect(sci.level).toBe(false);
    });

    it("sets PWRBTN_STS but keeps the SCI low while PWRBTN_EN is clear", () => {
      pm.pressPowerButton();
      expect(rd16(PM1_STS) & PWRBTN_STS).toBe(PWRBTN_STS);
      expect(sci.raised).toBe(0);
    });

    it("a byte write of 1 to bit 0 of the high byte clears PWRBTN_STS", () => {
      pm.pressPowerButton();
      pm.write(PM1_STS + 1, 1, 0x01);
      expect(rd16(PM1_STS)).toBe(0);
    });
  });

  describe("PM1_CNT", () => {
    it("SCI_EN reads 1 (always in ACPI mode) and stays set when the guest writes 0", () => {
      expect(rd16(PM1_CNT) & SCI_EN).toBe(SCI_EN);
      wr16(PM1_CNT, 0);
      expect(rd16(PM1_CNT)).toBe(SCI_EN);
    });

    it("SLP_EN with SLP_TYP = 0 (the DSDT's _S5) calls onSleep(0); SLP_EN reads 0", () => {
      wr16(PM1_CNT, SCI_EN | (0 << SLP_TYP_SHIFT) | SLP_EN);
      expect(sleeps).toEqual([0]);
      expect(rd16(PM1_CNT) & SLP_EN).toBe(0);
    });

    it("SLP_TYP written without SLP_EN is stored and does not sleep", () => {
      wr16(PM1_CNT, SCI_EN | (5 << SLP_TYP_SHIFT));
      expect(sleeps).toEqual([]);
      expect(rd16(PM1_CNT)).toBe(SCI_EN | (5 << SLP_TYP_SHIFT));
    });

    it("other sleep types are reported and recorded until resume() sets WAK_STS", () => {
      pm.write(PM1_CNT + 1, 1, (SLP_EN | (1 << SLP_TYP_SHIFT)) >> 8); // a byte write of the high half
      expect(sleeps).toEqual([1]);
      expect(pm.sleepType).toBe(1);
      pm.resume();
      expect(pm.sleepType).toBeUndefined();
      expect(rd16(PM1_STS) & WAK_STS).toBe(WAK_STS);
      expect(sci.raised).toBe(0); // WAK_STS is not an SCI event
      wr16(PM1_STS, WAK_STS);
      expect(rd16(PM1_STS)).toBe(0);
    });
  });

  describe("GPE0", () => {
    it("GPE0_EN reads back what was written; GPE0_STS has no sources and reads 0", () => {
      wr16(GPE0_EN, 0x0f0f);
      expect(rd16(GPE0_EN)).toBe(0x0f0f);
      pm.write(GPE0_EN + 1, 1, 0xff);
      expect(rd16(GPE0_EN)).toBe(0xff0f);
      wr16(GPE0_STS, 0xffff);
      expect(rd16(GPE0_STS)).toBe(0);
      expect(sci.raised).toBe(0);
    });
  });

  describe("access widths", () => {
    it("a dword read of PM1a_EVT_BLK returns PM1_EN above PM1_STS", () => {
      wr16(PM1_EN, PWRBTN_EN | TMR_EN);
      pm.pressPowerButton();
      expect(pm.read(PM1_STS, 4)).toBe(((PWRBTN_EN | TMR_EN) << 16 | PWRBTN_STS) >>> 0);
    });

    it("a dword write across PM1_STS and PM1_EN clears status and sets enables in one access", () => {
      pm.pressPowerButton();
      pm.write(PM1_STS, 4, (PWRBTN_EN << 16) | PWRBTN_STS);
      expect([rd16(PM1_STS), rd16(PM1_EN)]).toEqual([0, PWRBTN_EN]);
    });

    it("bytes between the blocks read as all ones and ignore writes without throwing", () => {
      expect(rd16(0x06)).toBe(0xffff);
      expect(pm.read(0x0c, 4)).toBe(0xffff_ffff);
      expect(() => pm.write(0x10, 4, 0x1234_5678)).not.toThrow();
      expect(pm.read(0x1e, 4)).toBe(0x0000_ffff); // two open bytes, then GPE0_STS
    });

    it("an unaligned word read straddling PM1_STS and PM1_EN takes a byte of each", () => {
      wr16(PM1_EN, PWRBTN_EN | TMR_EN);
      pm.pressPowerButton();
      expect(pm.read(PM1_STS + 1, 2)).toBe(PWRBTN_STS >> 8 | (TMR_EN << 8)); // high byte of STS, low byte of EN
    });
  });

  it("reset clears status, enables and GPE0, lowers the SCI, and the timer keeps counting", () => {
    wr16(PM1_EN, PWRBTN_EN);
    wr16(GPE0_EN, 0x1);
    wr16(PM1_CNT, 3 << SLP_TYP_SHIFT);
    pm.pressPowerButton();
    clock.advance(1 * S);
    pm.reset();
    expect([rd16(PM1_STS), rd16(PM1_EN), rd16(PM1_CNT), rd16(GPE0_EN)]).toEqual([0, 0, SCI_EN, 0]);
    expect(sci.level).toBe(false);
    expect(timer()).toBe(3_579_545);
  });
});
