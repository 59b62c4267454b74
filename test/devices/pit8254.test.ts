// The 8254 and port 0x61 through their registers. Behaviour from the Intel 8254 data sheet (231164),
// sections "Mode 0" .. "Mode 5", "Counter Latch Command" and "Read-Back Command".
import { beforeEach, describe, expect, it } from "vitest";
import { Pit8254, SystemControlPortB } from "../../src/devices/pit8254";
import { FakeIrq, ManualClock } from "./helpers";

const C0 = 0, C2 = 2, CTRL = 3;
const HZ = 1_193_182;
/** Virtual time of the CLK edge number `tick` (the first edge after time 0 is tick 1). */
const tickNs = (tick: number) => Math.ceil((tick * 1e9) / HZ);
// Control words: SC RW M BCD.
const cw = (counter: number, rw: number, mode: number, bcd = 0) => (counter << 6) | (rw << 4) | (mode << 1) | bcd;
const LSB = 1, MSB = 2, LSB_MSB = 3;
const PORTB_GATE2 = 0x01, PORTB_REFRESH = 0x10, PORTB_OUT2 = 0x20;

describe("Pit8254", () => {
  let clock: ManualClock;
  let irq: FakeIrq;
  let pit: Pit8254;
  let portB: SystemControlPortB;

  const writeCount = (counter: number, n: number) => {
    pit.write(counter, 1, n & 0xff);
    pit.write(counter, 1, n >> 8);
  };
  const readCount = (counter: number) => pit.read(counter, 1) | (pit.read(counter, 1) << 8);
  const out2 = () => (portB.read(0, 1) & PORTB_OUT2) !== 0;

  beforeEach(() => {
    clock = new ManualClock();
    irq = new FakeIrq();
    pit = new Pit8254(clock, irq);
    portB = new SystemControlPortB(pit, clock);
    portB.reset();
  });

  it("PIT mode 2 fires IRQ0 every count ticks", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 2));
    writeCount(C0, 1000);
    // Loaded on the first CLK, OUT low while the count is 1, high again as it reloads: period N.
    clock.advanceTo(tickNs(1001) - 1);
    expect(irq.raised).toBe(0);
    clock.advanceTo(tickNs(1001));
    expect(irq.raised).toBe(1);
    clock.advanceTo(tickNs(2001));
    expect(irq.raised).toBe(2);
    clock.advanceTo(1e9);
    expect(irq.raised).toBe(Math.floor((HZ - 1) / 1000));
  });

  it("PIT mode 2 at the PC's 18.2 Hz rate gives 18 interrupts a second", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 2));
    writeCount(C0, 0); // 0 means 65536
    clock.advance(1e9);
    expect(irq.raised).toBe(18);
  });

  it("mode 0 raises IRQ0 once, N+1 clocks after the count is written", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 0));
    writeCount(C0, 100);
    clock.advanceTo(tickNs(100));
    expect(irq.raised).toBe(0);
    clock.advanceTo(tickNs(101));
    expect(irq.raised).toBe(1);
    clock.advance(1e8);
    expect(irq.raised).toBe(1); // OUT stays high until a new count or mode
    expect(clock.nextDeadline()).toBeUndefined();
  });

  it("mode 0 keeps counting down past zero, wrapping to 0xFFFF", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 0));
    writeCount(C0, 10);
    clock.advanceTo(tickNs(1 + 12));
    pit.write(CTRL, 1, cw(C0, 0, 0)); // latch
    expect(readCount(C0)).toBe(0xfffe);
  });

  it("mode 0: the first byte of a two-byte count sets OUT low at once and stops counting", () => {
    pit.write(CTRL, 1, cw(C2, LSB_MSB, 0));
    portB.write(0, 1, PORTB_GATE2);
    writeCount(C2, 5);
    clock.advanceTo(tickNs(10));
    expect(out2()).toBe(true);
    pit.write(C2, 1, 50);
    expect(out2()).toBe(false);
    clock.advanceTo(tickNs(100));
    expect(out2()).toBe(false);
    pit.write(C2, 1, 0);
    clock.advanceTo(tickNs(100 + 50));
    expect(out2()).toBe(false);
    clock.advanceTo(tickNs(100 + 51));
    expect(out2()).toBe(true);
  });

  it("mode 0 with gate low holds the count; raising the gate resumes counting", () => {
    pit.write(CTRL, 1, cw(C2, LSB_MSB, 0));
    writeCount(C2, 20);
    clock.advanceTo(tickNs(50));
    pit.write(CTRL, 1, cw(C2, 0, 0));
    expect(readCount(C2)).toBe(20);
    portB.write(0, 1, PORTB_GATE2); // gate high between edges 50 and 51
    clock.advanceTo(tickNs(60));
    pit.write(CTRL, 1, cw(C2, 0, 0));
    expect(readCount(C2)).toBe(10);
    clock.advanceTo(tickNs(69));
    expect(out2()).toBe(false);
    clock.advanceTo(tickNs(70));
    expect(out2()).toBe(true);
  });

  it("mode 3 square wave: OUT2 high for N/2 and low for N/2, visible in port 0x61 bit 5", () => {
    portB.write(0, 1, PORTB_GATE2);
    pit.write(CTRL, 1, cw(C2, LSB_MSB, 3));
    writeCount(C2, 10);
    const levels = [];
    for (let t = 1; t <= 21; t++) {
      clock.advanceTo(tickNs(t));
      levels.push(out2() ? 1 : 0);
    }
    expect(levels).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1]);
  });

  it("mode 3 with an odd count is high one clock longer than low", () => {
    portB.write(0, 1, PORTB_GATE2);
    pit.write(CTRL, 1, cw(C2, LSB_MSB, 3));
    writeCount(C2, 5);
    const levels = [];
    for (let t = 1; t <= 10; t++) {
      clock.advanceTo(tickNs(t));
      levels.push(out2() ? 1 : 0);
    }
    expect(levels).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 0, 0]);
  });

  it("mode 3 counts down by two and reloads at each half-cycle", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 3));
    writeCount(C0, 8);
    const seen = [];
    for (let t = 1; t <= 5; t++) {
      clock.advanceTo(tickNs(t));
      pit.write(CTRL, 1, cw(C0, 0, 0));
      seen.push(readCount(C0));
    }
    expect(seen).toEqual([8, 6, 4, 2, 8]);
  });

  it("mode 2: a new count takes effect at the end of the current period", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 2));
    writeCount(C0, 100);
    clock.advanceTo(tickNs(50));
    writeCount(C0, 10);
    clock.advanceTo(tickNs(101));
    expect(irq.raised).toBe(1);
    clock.advanceTo(tickNs(111));
    expect(irq.raised).toBe(2);
    clock.advanceTo(tickNs(121));
    expect(irq.raised).toBe(3);
  });

  it("mode 4 strobes OUT low for one clock at terminal count, so IRQ0 comes at N+2", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 4));
    writeCount(C0, 30);
    clock.advanceTo(tickNs(31));
    expect(irq.raised).toBe(0);
    clock.advanceTo(tickNs(32));
    expect(irq.raised).toBe(1);
    clock.advance(1e8);
    expect(irq.raised).toBe(1);
  });

  it("mode 1 one-shot is triggered by a rising gate and keeps OUT low for N clocks", () => {
    pit.write(CTRL, 1, cw(C2, LSB_MSB, 1));
    writeCount(C2, 10);
    clock.advanceTo(tickNs(5));
    expect(out2()).toBe(true);
    portB.write(0, 1, PORTB_GATE2); // trigger between edges 5 and 6
    clock.advanceTo(tickNs(6));
    expect(out2()).toBe(false);
    clock.advanceTo(tickNs(15));
    expect(out2()).toBe(false);
    clock.advanceTo(tickNs(16));
    expect(out2()).toBe(true);
  });

  it("mode 5 strobes after a gate trigger", () => {
    pit.write(CTRL, 1, cw(C2, LSB_MSB, 5));
    writeCount(C2, 4);
    portB.write(0, 1, PORTB_GATE2);
    clock.advanceTo(tickNs(4));
    expect(out2()).toBe(true);
    clock.advanceTo(tickNs(5));
    expect(out2()).toBe(false);
    clock.advanceTo(tickNs(6));
    expect(out2()).toBe(true);
  });

  it("mode 2 with gate low forces OUT high and a rising gate restarts the period", () => {
    pit.write(CTRL, 1, cw(C2, LSB_MSB, 2));
    writeCount(C2, 10);
    portB.write(0, 1, PORTB_GATE2);
    clock.advanceTo(tickNs(10)); // count is 1: OUT low
    expect(out2()).toBe(false);
    portB.write(0, 1, 0);
    expect(out2()).toBe(true);
    clock.advanceTo(tickNs(30));
    portB.write(0, 1, PORTB_GATE2);
    // Reloaded with N on the CLK after the trigger (tick 31), so the count is 1 nine clocks later.
    clock.advanceTo(tickNs(39));
    expect(out2()).toBe(true);
    clock.advanceTo(tickNs(40));
    expect(out2()).toBe(false);
  });

  it("counter latch freezes the count until both bytes are read", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 2));
    writeCount(C0, 1000);
    clock.advanceTo(tickNs(101));
    pit.write(CTRL, 1, cw(C0, 0, 0));
    clock.advanceTo(tickNs(500));
    pit.write(CTRL, 1, cw(C0, 0, 0)); // ignored: the first latch has not been read
    expect(readCount(C0)).toBe(900);
    clock.advanceTo(tickNs(601));
    expect(readCount(C0)).toBe(400); // unlatched: the live count
  });

  it("read-back latches status and count", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 2));
    // Before a count is written NULL COUNT is 1 and OUT is high (mode 2's initial state).
    pit.write(CTRL, 1, 0b1110_0010); // read-back: status (D4 = 0) of counter 0, not its count (D5 = 1)
    expect(pit.read(C0, 1)).toBe(0x80 | 0x40 | 0x30 | 0x04);
    writeCount(C0, 300);
    clock.advanceTo(tickNs(101));
    pit.write(CTRL, 1, 0b1100_0010); // count and status
    clock.advanceTo(tickNs(200));
    expect(pit.read(C0, 1)).toBe(0x80 | 0x30 | 0x04); // count loaded: NULL COUNT cleared
    expect(readCount(C0)).toBe(200);
  });

  it("read-back of status only leaves the count live", () => {
    pit.write(CTRL, 1, cw(C2, LSB, 0, 1));
    pit.write(CTRL, 1, 0b1110_1000); // status of counter 2 only
    expect(pit.read(C2, 1)).toBe(0x40 | 0x10 | 0x00 | 0x01);
    portB.write(0, 1, PORTB_GATE2);
    clock.advanceTo(tickNs(3));
    pit.write(C2, 1, 0x10); // BCD 10
    clock.advanceTo(tickNs(3 + 1 + 3));
    expect(pit.read(C2, 1)).toBe(0x07); // live, in BCD
  });

  it("NULL COUNT stays set in mode 2 until the new count is loaded at the period end", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 2));
    writeCount(C0, 100);
    clock.advanceTo(tickNs(10));
    writeCount(C0, 50);
    pit.write(CTRL, 1, 0b1110_0010);
    expect(pit.read(C0, 1) & 0x40).toBe(0x40);
    clock.advanceTo(tickNs(101));
    pit.write(CTRL, 1, 0b1110_0010);
    expect(pit.read(C0, 1) & 0x40).toBe(0);
  });

  it("BCD counting reads the count back in BCD", () => {
    pit.write(CTRL, 1, cw(C0, LSB_MSB, 2, 1));
    writeCount(C0, 0x1000); // 1000 decimal
    clock.advanceTo(tickNs(1 + 7));
    pit.write(CTRL, 1, cw(C0, 0, 0));
    expect(readCount(C0)).toBe(0x0993);
    clock.advanceTo(tickNs(1001));
    expect(irq.raised).toBe(1);
  });

  it("LSB-only and MSB-only access load the other byte as zero", () => {
    pit.write(CTRL, 1, cw(C0, LSB, 0));
    pit.write(C0, 1, 0x20);
    clock.advanceTo(tickNs(1));
    expect(pit.read(C0, 1)).toBe(0x20);
    pit.write(CTRL, 1, cw(C0, MSB, 0));
    pit.write(C0, 1, 0x02);
    clock.advanceTo(tickNs(2));
    expect(pit.read(C0, 1)).toBe(0x02);
    clock.advanceTo(tickNs(2 + 0x200));
    expect(irq.raised).toBe(1);
  });

  it("port 0x61 bit 4 toggles with the refresh clock and bits 0-1 read back", () => {
    portB.write(0, 1, 0x03);
    const first = portB.read(0, 1);
    expect(first & 0x03).toBe(0x03);
    clock.advance(15_085);
    expect((portB.read(0, 1) ^ first) & PORTB_REFRESH).toBe(PORTB_REFRESH);
  });

  it("garbage written to every port never throws", () => {
    for (let v = 0; v < 256; v++) {
      pit.write(CTRL, 1, v);
      for (let c = 0; c < 3; c++) {
        pit.write(c, 1, v);
        pit.write(c, 1, 0);
        pit.read(c, 1);
      }
      portB.write(0, 1, v);
      clock.advance(1000);
    }
    expect(pit.read(CTRL, 1)).toBe(0xff);
  });
});
