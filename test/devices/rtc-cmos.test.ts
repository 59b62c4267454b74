// The MC146818A RTC/CMOS through ports 0x70/0x71. Behaviour from the Motorola MC146818A data sheet (register
// descriptions A-D, "Update Cycle", "Periodic Interrupt Rate" table) and QEMU's pc_cmos_init() for the
// memory fields SeaBIOS reads.
import { beforeEach, describe, expect, it } from "vitest";
import { RtcCmos } from "../../src/devices/rtc-cmos";
import { FakeIrq, ManualClock } from "./helpers";

const INDEX = 0, DATA = 1;
const SEC = 0x00, SEC_ALARM = 0x01, MIN = 0x02, MIN_ALARM = 0x03, HOUR = 0x04, HOUR_ALARM = 0x05;
const DOW = 0x06, DAY = 0x07, MONTH = 0x08, YEAR = 0x09, REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const CENTURY = 0x32;
const B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM = 0x04, B_24H = 0x02;
const C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
const S = 1e9;

describe("RtcCmos", () => {
  let clock: ManualClock;
  let irq: FakeIrq;
  let rtc: RtcCmos;
  const rd = (index: number) => { rtc.write(INDEX, 1, index); return rtc.read(DATA, 1); };
  const wr = (index: number, v: number) => { rtc.write(INDEX, 1, index); rtc.write(DATA, 1, v); };

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2024, 0, 1, 12, 0, 0)); // Monday 1 January 2024, 12:00:00 UTC
    irq = new FakeIrq();
    rtc = new RtcCmos(clock, irq);
    rtc.reset();
  });

  it("time registers show the host's wall clock in BCD, 24-hour mode", () => {
    expect([rd(SEC), rd(MIN), rd(HOUR), rd(DOW), rd(DAY), rd(MONTH), rd(YEAR), rd(CENTURY)])
      .toEqual([0x00, 0x00, 0x12, 0x02, 0x01, 0x01, 0x24, 0x20]); // day of week: Sunday = 1
  });

  it("the clock follows virtual time", () => {
    clock.advance(3661.5 * S);
    expect([rd(HOUR), rd(MIN), rd(SEC)]).toEqual([0x13, 0x01, 0x01]);
  });

  it("DM selects binary time", () => {
    wr(REG_B, B_24H | B_DM);
    clock.advance(59 * S);
    expect([rd(HOUR), rd(SEC)]).toEqual([12, 59]);
  });

  it("12-hour mode shows PM in bit 7 of the hours", () => {
    wr(REG_B, 0);
    expect(rd(HOUR)).toBe(0x80 | 0x12); // 12 noon is 12 PM
    clock.advance(3600 * S);
    expect(rd(HOUR)).toBe(0x81);
    clock.advance(11 * 3600 * S);
    expect(rd(HOUR)).toBe(0x12); // midnight is 12 AM
  });

  it("guest writes to time registers with SET adjust the RTC", () => {
    wr(REG_B, B_24H | B_SET);
    wr(SEC, 0x58);
    wr(MIN, 0x59);
    wr(HOUR, 0x23);
    wr(DAY, 0x31);
    wr(MONTH, 0x12);
    wr(YEAR, 0x99);
    wr(CENTURY, 0x19);
    clock.advance(5 * S);
    expect(rd(SEC)).toBe(0x58); // frozen while SET
    wr(REG_B, B_24H);
    clock.advance(2 * S);
    expect([rd(SEC), rd(MIN), rd(HOUR), rd(DAY), rd(MONTH), rd(YEAR), rd(CENTURY), rd(DOW)])
      .toEqual([0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x20, 0x07]); // 1 January 2000 was a Saturday
  });

  it("a time register written without SET adjusts the clock at once", () => {
    wr(MIN, 0x30);
    clock.advance(S);
    expect([rd(HOUR), rd(MIN), rd(SEC)]).toEqual([0x12, 0x30, 0x01]);
  });

  it("setting SET clears UIE", () => {
    wr(REG_B, B_24H | B_UIE | B_SET);
    expect(rd(REG_B)).toBe(B_24H | B_SET);
  });

  it("update-ended interrupt fires once a second", () => {
    wr(REG_B, B_24H | B_UIE);
    clock.advance(0.999 * S);
    expect(irq.raised).toBe(0);
    clock.advance(0.001 * S);
    expect(irq.raised).toBe(1);
    // PF is set too: the default 1024 Hz periodic rate runs, flags are set whatever the enables.
    expect(rd(REG_C)).toBe(C_IRQF | C_UF | C_PF);
    clock.advance(S);
    expect(irq.raised).toBe(2);
  });

  it("RTC register C read clears IRQF and lowers IRQ8", () => {
    wr(REG_B, B_24H | B_UIE);
    clock.advance(S);
    expect(irq.level).toBe(true);
    expect(rd(REG_C)).toBe(C_IRQF | C_UF | C_PF);
    expect(irq.level).toBe(false);
    expect(rd(REG_C)).toBe(0);
  });

  it("IRQ8 stays high until register C is read, however many events pass", () => {
    wr(REG_B, B_24H | B_UIE);
    clock.advance(10 * S);
    expect(irq.raised).toBe(1);
    expect(clock.nextDeadline()).toBeUndefined(); // nothing to do until C is read
    rd(REG_C);
    clock.advance(S);
    expect(irq.raised).toBe(2);
  });

  it("flags are set without their enables but raise no interrupt", () => {
    clock.advance(S);
    expect(irq.raised).toBe(0);
    expect(rd(REG_C) & (C_IRQF | C_UF | C_PF)).toBe(C_UF | C_PF); // UF, and PF at the default 1024 Hz
  });

  it("periodic interrupt comes at the rate selected in register A", () => {
    wr(REG_A, 0x2f); // RS = 1111: 500 ms
    wr(REG_B, B_24H | B_PIE);
    clock.advance(0.499 * S);
    expect(irq.raised).toBe(0);
    clock.advance(0.001 * S);
    expect(irq.raised).toBe(1);
    expect(rd(REG_C)).toBe(C_IRQF | C_PF);
  });

  it("periodic rate 6 gives 1024 interrupts a second", () => {
    wr(REG_A, 0x26);
    wr(REG_B, B_24H | B_PIE);
    let count = 0;
    for (let k = 1; k <= 1024; k++) {
      clock.advanceTo(Math.ceil((k * S) / 1024));
      if (irq.level) count++;
      rd(REG_C);
    }
    expect(count).toBe(1024);
  });

  it("rates 1 and 2 are 3.90625 ms and 7.8125 ms", () => {
    wr(REG_A, 0x21);
    wr(REG_B, B_24H | B_PIE);
    clock.advanceTo(3_906_250 - 1);
    expect(irq.level).toBe(false);
    clock.advanceTo(3_906_250);
    expect(irq.level).toBe(true);
    rd(REG_C);
    wr(REG_A, 0x22);
    clock.advanceTo(7_812_500 - 1);
    expect(irq.level).toBe(false);
    clock.advanceTo(7_812_500);
    expect(irq.level).toBe(true);
  });

  it("alarm interrupt fires when hours, minutes and seconds match", () => {
    wr(HOUR_ALARM, 0x12);
    wr(MIN_ALARM, 0x00);
    wr(SEC_ALARM, 0x05);
    wr(REG_B, B_24H | B_AIE);
    clock.advance(4.5 * S);
    expect(irq.raised).toBe(0);
    clock.advance(0.5 * S);
    expect(irq.raised).toBe(1);
    expect(rd(REG_C)).toBe(C_IRQF | C_AF | C_UF | C_PF);
    clock.advance(3600 * S);
    expect(irq.raised).toBe(1); // next match is tomorrow
  });

  it("alarm values 0xC0-0xFF are don't-care: seconds 30 of every minute", () => {
    wr(HOUR_ALARM, 0xc0);
    wr(MIN_ALARM, 0xff);
    wr(SEC_ALARM, 0x30);
    wr(REG_B, B_24H | B_AIE);
    clock.advance(30 * S);
    expect(irq.raised).toBe(1);
    rd(REG_C);
    clock.advance(59 * S);
    expect(irq.raised).toBe(1);
    clock.advance(S);
    expect(irq.raised).toBe(2);
  });

  it("an alarm with every field don't-care fires once a second", () => {
    wr(HOUR_ALARM, 0xc0);
    wr(MIN_ALARM, 0xc0);
    wr(SEC_ALARM, 0xc0);
    wr(REG_B, B_24H | B_AIE);
    clock.advance(S);
    expect(rd(REG_C) & C_AF).toBe(C_AF);
    clock.advance(S);
    expect(irq.raised).toBe(2);
  });

  it("an alarm in 12-hour format matches PM hours", () => {
    wr(REG_B, 0);
    wr(HOUR_ALARM, 0x81); // 1 PM
    wr(MIN_ALARM, 0x00);
    wr(SEC_ALARM, 0x00);
    wr(REG_B, B_AIE);
    clock.advance(3600 * S - 1);
    expect(irq.raised).toBe(0);
    clock.advance(1);
    expect(irq.raised).toBe(1);
  });

  it("UIP is set in the 244 us before each update", () => {
    clock.advance(0.9997 * S);
    expect(rd(REG_A) & 0x80).toBe(0);
    clock.advance(0.0001 * S);
    expect(rd(REG_A) & 0x80).toBe(0x80);
    expect(rd(SEC)).toBe(0x00); // the update has not happened yet
    clock.advance(0.0002 * S);
    expect(rd(REG_A) & 0x80).toBe(0);
    expect(rd(SEC)).toBe(0x01);
  });

  it("a divider held in reset stops the clock; the first update comes 500 ms after release", () => {
    wr(REG_A, 0x66);
    clock.advance(10 * S);
    expect(rd(SEC)).toBe(0x00);
    wr(REG_A, 0x26);
    clock.advance(0.499 * S);
    expect(rd(SEC)).toBe(0x00);
    clock.advance(0.001 * S);
    expect(rd(SEC)).toBe(0x01);
  });

  it("register D reports valid RAM and time; C and D ignore writes", () => {
    wr(REG_D, 0);
    wr(REG_C, 0xff);
    expect(rd(REG_D)).toBe(0x80);
    expect(rd(REG_C)).toBe(0);
  });

  it("bit 7 of the index port masks NMI and does not change the index", () => {
    wr(0x40, 0x5a);
    rtc.write(INDEX, 1, 0x80 | 0x40);
    expect(rtc.nmiMasked).toBe(true);
    expect(rtc.read(DATA, 1)).toBe(0x5a);
    rtc.write(INDEX, 1, 0x40);
    expect(rtc.nmiMasked).toBe(false);
  });

  it("NVRAM bytes keep what the guest and the machine wrote", () => {
    for (let i = 0x0e; i < 0x80; i++) if (i !== CENTURY) wr(i, i ^ 0xa5);
    rtc.setNvram(0x10, 0x44);
    for (let i = 0x0e; i < 0x80; i++) if (i !== CENTURY) expect(rd(i)).toBe(i === 0x10 ? 0x44 : i ^ 0xa5);
  });

  it("setMemorySize fills the fields SeaBIOS reads for 128 MiB", () => {
    rtc.setMemorySize(128 * 1024 * 1024);
    expect(rd(0x15) | (rd(0x16) << 8)).toBe(640);
    expect(rd(0x17) | (rd(0x18) << 8)).toBe(0xffff); // 127 MiB in KiB does not fit: clamped
    expect(rd(0x30) | (rd(0x31) << 8)).toBe(0xffff);
    expect(rd(0x34) | (rd(0x35) << 8)).toBe((128 - 16) * 16);
    expect([rd(0x5b), rd(0x5c), rd(0x5d)]).toEqual([0, 0, 0]);
  });

  it("setMemorySize splits RAM above the PCI hole into the 4 GiB field", () => {
    rtc.setMemorySize(6 * 1024 * 1024 * 1024);
    expect(rd(0x34) | (rd(0x35) << 8)).toBe((0xe000_0000 - 16 * 1024 * 1024) / 65536);
    expect(rd(0x5b) | (rd(0x5c) << 8) | (rd(0x5d) << 16)).toBe((6 * 1024 - 3584) * 16);
  });

  it("small memory sizes give small fields", () => {
    rtc.setMemorySize(8 * 1024 * 1024);
    expect(rd(0x17) | (rd(0x18) << 8)).toBe(7 * 1024);
    expect(rd(0x34) | (rd(0x35) << 8)).toBe(0);
  });

  it("garbage in time and control registers never throws and never breaks the clock", () => {
    for (const v of [0xff, 0x00, 0x99, 0x7f]) {
      for (let i = 0; i < 0x0e; i++) wr(i, v);
      wr(CENTURY, v);
      clock.advance(S);
      for (let i = 0; i < 0x0e; i++) rd(i);
    }
    rtc.write(5, 4, 0xffffffff);
    expect(rtc.read(INDEX, 1)).toBe(0xff);
  });
});
