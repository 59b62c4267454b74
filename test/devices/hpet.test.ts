// The HPET through its registers. Expected values from the IA-PC HPET Specification 1.0a: 2.3.4 (capabilities:
// REV_ID 7:0, NUM_TIM_CAP 12:8, COUNT_SIZE_CAP 13, LEG_RT_CAP 15, VENDOR_ID 31:16, COUNTER_CLK_PERIOD 63:32 in fs,
// at most 0x05F5E100), 2.3.5 (ENABLE_CNF starts and halts the main counter), 2.3.7 (level-triggered status,
// write 1 to clear), 2.3.8 (Tn_CONF_CAP: INT_TYPE 1, INT_ENB 2, TYPE 3, PER_INT_CAP 4, SIZE_CAP 5, VAL_SET 6,
// 32MODE 8, INT_ROUTE 13:9, INT_ROUTE_CAP 63:32) and 2.3.9 (comparators: one-shot matches once, then only after a
// wrap; periodic adds the last value written). The periodic programming sequence is Linux's
// (arch/x86/kernel/hpet.c, hpet_clkevt_set_state_periodic).
import { beforeEach, describe, expect, it } from "vitest";
import { Hpet } from "../../src/devices/hpet";
import { FakeIrq, ManualClock } from "./helpers";

const CAP = 0x000, CAP_HI = 0x004, CFG = 0x010, STS = 0x020, CNT = 0x0f0, CNT_HI = 0x0f4;
const TCFG = (n: number) => 0x100 + 0x20 * n;
const TCMP = (n: number) => 0x108 + 0x20 * n;
const LEVEL = 1 << 1, INT_ENB = 1 << 2, PERIODIC = 1 << 3, PER_CAP = 1 << 4, SIZE_CAP = 1 << 5, VAL_SET = 1 << 6;
const MODE32 = 1 << 8;
const route = (pin: number) => pin << 9;
const NS_PER_TICK = 10; // a 100 MHz counter
const ROUTE_CAP = 0x00f0_0000; // pins 20-23

describe("Hpet", () => {
  let clock: ManualClock;
  let pins: Map<number, FakeIrq>;
  let hpet: Hpet;
  const rd = (offset: number) => hpet.read(offset, 4);
  const wr = (offset: number, value: number) => hpet.write(offset, 4, value);
  const counter = () => rd(CNT) + rd(CNT_HI) * 2 ** 32;
  const pin = (n: number) => pins.get(n)!;

  beforeEach(() => {
    clock = new ManualClock();
    pins = new Map();
    for (let p = 0; p < 24; p++) pins.set(p, new FakeIrq());
    hpet = new Hpet({ clock, ioapicPin: (p) => pin(p), routeCapability: ROUTE_CAP });
  });

  it("reports revision 1, three 64-bit comparators, no legacy route, vendor 8086 and a 10 ns period", () => {
    const cap = rd(CAP);
    expect(cap & 0xff).toBe(1);
    expect(((cap >>> 8) & 0x1f) + 1).toBe(3);
    expect((cap >>> 13) & 1).toBe(1);
    expect((cap >>> 15) & 1).toBe(0);
    expect(cap >>> 16).toBe(0x8086);
    expect(rd(CAP_HI)).toBe(10_000_000);
    expect(rd(CAP_HI)).toBeLessThanOrEqual(0x05f5_e100);
  });

  it("holds the counter at 0 until ENABLE_CNF, then counts 100,000,000 per second, and halts with its value", () => {
    clock.advance(5e6);
    expect(counter()).toBe(0);
    wr(CFG, 1);
    clock.advance(1e9);
    expect(counter()).toBe(100_000_000);
    wr(CFG, 0);
    clock.advance(1e9);
    expect(counter()).toBe(100_000_000);
    expect(rd(CFG) & 2).toBe(0); // LEG_RT_CNF is reserved without LEG_RT_CAP
  });

  it("takes a counter written in halves while halted, past 32 bits", () => {
    wr(CNT, 0xffff_fff0);
    wr(CNT_HI, 0x1);
    expect(counter()).toBe(0x1_ffff_fff0);
    wr(CFG, 1);
    clock.advance(0x20 * NS_PER_TICK);
    expect(counter()).toBe(0x2_0000_0010);
  });

  it("resets every comparator to all ones with the capabilities in its configuration", () => {
    for (let n = 0; n < 3; n++) {
      expect([rd(TCMP(n)), rd(TCMP(n) + 4)]).toEqual([0xffff_ffff, 0xffff_ffff]);
      expect(rd(TCFG(n)) & (PER_CAP | SIZE_CAP)).toBe(PER_CAP | SIZE_CAP);
      expect(rd(TCFG(n) + 4)).toBe(ROUTE_CAP);
    }
  });

  it("fires a one-shot edge interrupt when the counter reaches the comparator, and not again", () => {
    wr(TCFG(0), INT_ENB | route(20));
    wr(TCMP(0), 1000);
    wr(TCMP(0) + 4, 0);
    wr(CFG, 1);
    clock.advance(1000 * NS_PER_TICK - 1);
    expect(pin(20).raised).toBe(0);
    clock.advance(1);
    expect(pin(20).raised).toBe(1);
    expect(pin(20).level).toBe(false); // an edge: raised, then lowered
    clock.advance(1e9);
    expect(pin(20).raised).toBe(1);
  });

  it("runs Linux's periodic sequence: the first expiry with VAL_SET, then the period", () => {
    wr(CFG, 1);
    clock.advance(12_345);
    const now = counter();
    const delta = 400_000; // 4 ms (HZ=250)
    wr(TCFG(1), INT_ENB | PERIODIC | VAL_SET | MODE32 | route(21));
    wr(TCMP(1), now + delta);
    expect(rd(TCFG(1)) & VAL_SET).toBe(0);
    wr(TCMP(1), delta);
    expect(rd(TCMP(1))).toBe(now + delta); // the period write left the comparator alone
    clock.advance(delta * NS_PER_TICK * 10);
    expect(pin(21).raised).toBe(10);
    expect(rd(TCMP(1))).toBe(now + 11 * delta);
  });

  it("holds a level-triggered interrupt with its status bit until software writes 1 to it", () => {
    wr(TCFG(2), LEVEL | INT_ENB | route(22));
    wr(TCMP(2), 50);
    wr(TCMP(2) + 4, 0);
    wr(CFG, 1);
    clock.advance(50 * NS_PER_TICK);
    expect(pin(22).level).toBe(true);
    expect(rd(STS)).toBe(0b100);
    wr(STS, 0b011); // other bits: no effect
    expect(pin(22).level).toBe(true);
    wr(STS, 0b100);
    expect(pin(22).level).toBe(false);
    expect(rd(STS)).toBe(0);
  });

  it("matches a 32-bit comparator behind the counter only after the counter wraps", () => {
    wr(CNT, 2000);
    wr(TCFG(0), INT_ENB | MODE32 | route(20));
    wr(TCMP(0), 1000);
    wr(CFG, 1);
    clock.advance(1e9);
    expect(pin(20).raised).toBe(0);
    clock.advance((2 ** 32 - 1000) * NS_PER_TICK - 1e9);
    expect(pin(20).raised).toBe(1);
  });

  it("keeps the old route when software writes one outside Tn_INT_ROUTE_CAP", () => {
    wr(TCFG(0), route(20));
    wr(TCFG(0), route(5));
    expect((rd(TCFG(0)) >>> 9) & 0x1f).toBe(20);
  });

  it("reads 64-bit registers byte by byte in their lanes", () => {
    expect(hpet.read(CAP + 2, 2)).toBe(0x8086);
    expect(hpet.read(CAP_HI + 3, 1)).toBe((10_000_000 >>> 24) & 0xff);
  });
});
