// The local APIC through its registers, and the router that carries IPIs between local APICs.
// Expected behaviour from the Intel SDM Vol. 3A chapter 10 (section numbers in the comments).
import { beforeEach, describe, expect, it } from "vitest";
import { Lapic, type LapicOptions } from "../../src/devices/lapic";
import { InterruptRouter } from "../../src/devices/interrupt-router";
import { DualPic8259 } from "../../src/devices/pic8259";
import { ManualClock } from "./helpers";

// Register offsets (SDM Table 10-1), written out rather than imported from the model.
const ID = 0x020, VERSION = 0x030, TPR = 0x080, APR = 0x090, PPR = 0x0a0, EOI = 0x0b0, LDR = 0x0d0, DFR = 0x0e0;
const SVR = 0x0f0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LOW = 0x300, ICR_HIGH = 0x310;
const LVT_TIMER = 0x320, LVT_THERMAL = 0x330, LVT_PERF = 0x340, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360;
const LVT_ERROR = 0x370, TIMER_INITIAL = 0x380, TIMER_CURRENT = 0x390, TIMER_DIVIDE = 0x3e0;
// Bits (SDM Figures 10-8, 10-9, 10-12, 10-23).
const SVR_ENABLED = 0x100;
const LVT_MASKED = 0x1_0000, LVT_PERIODIC = 0x2_0000, LVT_LEVEL = 0x8000, LVT_REMOTE_IRR = 0x4000;
const MODE_LOWEST = 0x100, MODE_NMI = 0x400, MODE_INIT = 0x500, MODE_STARTUP = 0x600, MODE_EXTINT = 0x700;
const ICR_ASSERT = 0x4000, ICR_LEVEL = 0x8000, ICR_LOGICAL = 0x800, ICR_SELF = 0x4_0000;
const ICR_ALL_EXCLUDING_SELF = 0xc_0000;
const ESR_SEND_ILLEGAL_VECTOR = 0x20, ESR_RECEIVE_ILLEGAL_VECTOR = 0x40, ESR_ILLEGAL_REGISTER = 0x80;
const DIVIDE_BY_1 = 0b1011, DIVIDE_BY_16 = 0b0011;

/** What a vCPU saw from its local APIC. */
class Cpu {
  intr = false;
  nmis = 0;
  inits = 0;
  sipis: number[] = [];
  eois: number[] = [];
}

function makeLapic(clock: ManualClock, cpu: Cpu, extra: Partial<LapicOptions> = {}): Lapic {
  return new Lapic({
    id: 0,
    clock,
    onIntr: (level) => { cpu.intr = level; },
    onNmi: () => { cpu.nmis++; },
    onInit: () => { cpu.inits++; },
    onSipi: (vector) => { cpu.sipis.push(vector); },
    onEoi: (vector) => { cpu.eois.push(vector); },
    ...extra,
  });
}

/** Bit `vector` of a 256-bit register (ISR, TMR, IRR): dword vector / 32 at a 16-byte stride. */
function bit(apic: Lapic, base: number, vector: number): boolean {
  return ((apic.read(base + (vector >> 5) * 0x10, 4) >>> (vector & 31)) & 1) === 1;
}

/** SDM 10.5.3: write ESR, then read it. */
function esr(apic: Lapic): number {
  apic.write(ESR, 4, 0);
  return apic.read(ESR, 4);
}

describe("Lapic", () => {
  let clock: ManualClock;
  let cpu: Cpu;
  let apic: Lapic;

  beforeEach(() => {
    clock = new ManualClock();
    cpu = new Cpu();
    apic = makeLapic(clock, cpu);
    apic.write(SVR, 4, SVR_ENABLED | 0xff);
  });

  describe("registers", () => {
    it("after reset the registers hold their power-up values (SDM 10.4.7.1)", () => {
      const fresh = makeLapic(clock, cpu, { id: 3 });
      expect(fresh.read(ID, 4)).toBe(0x0300_0000);
      expect(fresh.read(VERSION, 4)).toBe(0x0005_0014); // version 0x14, max LVT entry 5
      expect(fresh.read(SVR, 4)).toBe(0x0000_00ff);
      expect(fresh.read(DFR, 4)).toBe(0xffff_ffff);
      expect(fresh.read(LDR, 4)).toBe(0);
      expect(fresh.read(TPR, 4)).toBe(0);
      for (const lvt of [LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR]) {
        expect(fresh.read(lvt, 4)).toBe(0x0001_0000);
      }
      expect(fresh.readBaseMsr()).toBe(0xfee0_0800); // base 0xFEE00000, global enable, not the BSP
    });

    it("the BSP starts with BSP set in IA32_APIC_BASE and LINT0 in ExtINT mode (virtual wire, as QEMU)", () => {
      const bsp = makeLapic(clock, cpu, { bsp: true });
      expect(bsp.readBaseMsr()).toBe(0xfee0_0900);
      expect(bsp.read(LVT_LINT0, 4)).toBe(0x0000_0700);
    });

    it("the version register is read-only (Linux verify_local_APIC writes it)", () => {
      apic.write(VERSION, 4, 0x0005_0014 ^ 0xff);
      expect(apic.read(VERSION, 4)).toBe(0x0005_0014);
    });

    it("a byte read returns a byte of the containing register; narrower writes are ignored (SDM 10.4.1)", () => {
      apic.write(TPR, 4, 0x5a);
      apic.write(ID, 4, 0x0700_0000);
      expect(apic.read(ID + 3, 1)).toBe(0x07);
      expect(apic.read(ID + 2, 2)).toBe(0x0700);
      expect(apic.read(ID + 4, 4)).toBe(0); // bytes 4..15 of a 16-byte slot
      apic.write(TPR, 1, 0x20);
      expect(apic.read(TPR, 4)).toBe(0x5a);
    });

    it("LDR keeps bits 31:24 and DFR keeps its model in bits 31:28 with the rest reading 1 (SDM 10.6.2.2)", () => {
      apic.write(LDR, 4, 0x12ff_ffff);
      expect(apic.read(LDR, 4)).toBe(0x1200_0000);
      apic.write(DFR, 4, 0);
      expect(apic.read(DFR, 4)).toBe(0x0fff_ffff);
    });

    it("the ESR shows errors only after a write, and the next write clears them (SDM 10.5.3)", () => {
      apic.read(0x040, 4); // a reserved slot
      expect(apic.read(ESR, 4)).toBe(0);
      apic.write(ESR, 4, 0);
      expect(apic.read(ESR, 4)).toBe(ESR_ILLEGAL_REGISTER);
      apic.write(ESR, 4, 0);
      expect(apic.read(ESR, 4)).toBe(0);
    });

    it("a write to a reserved register sets ESR illegal register address", () => {
      apic.write(0x2f0, 4, 0x10); // LVT CMCI: absent on this model
      expect(esr(apic)).toBe(ESR_ILLEGAL_REGISTER);
    });

    it("a globally disabled APIC has no registers: reads are all ones, writes are ignored", () => {
      apic.setBaseMsr(0xfee0_0000);
      expect(apic.read(VERSION, 4)).toBe(0xffff_ffff);
      expect(apic.read(VERSION, 1)).toBe(0xff);
      apic.setBaseMsr(0xfee0_0800);
      expect(apic.read(SVR, 4)).toBe(0xff); // back in the power-up state (SDM 10.4.3)
    });

    it("IA32_APIC_BASE moves the page but keeps the read-only BSP bit", () => {
      apic.setBaseMsr(0xfed0_0900);
      expect(apic.baseAddress()).toBe(0xfed0_0000);
      expect(apic.readBaseMsr()).toBe(0xfed0_0800);
    });
  });

  describe("interrupt acceptance and priority", () => {
    it("an accepted vector raises INTR, INTA moves it from IRR to ISR and EOI clears ISR (SDM 10.8.4)", () => {
      apic.accept(0x31, "edge");
      expect(bit(apic, IRR, 0x31)).toBe(true);
      expect(cpu.intr).toBe(true);
      expect(apic.acknowledge()).toBe(0x31);
      expect(bit(apic, IRR, 0x31)).toBe(false);
      expect(bit(apic, ISR, 0x31)).toBe(true);
      expect(cpu.intr).toBe(false);
      apic.write(EOI, 4, 0);
      expect(bit(apic, ISR, 0x31)).toBe(false);
      expect(cpu.eois).toEqual([]); // edge-triggered: no EOI message
    });

    it("the highest class goes first and a lower one waits for its EOI; a higher one nests", () => {
      apic.accept(0x41, "edge");
      apic.accept(0x61, "edge");
      expect(apic.acknowledge()).toBe(0x61);
      expect(apic.hasInterrupt()).toBe(false); // 0x41 is below PPR 0x60
      apic.accept(0x81, "edge");
      expect(apic.acknowledge()).toBe(0x81);
      apic.write(EOI, 4, 0); // retires 0x81, the highest in service
      expect(bit(apic, ISR, 0x61)).toBe(true);
      apic.write(EOI, 4, 0);
      expect(apic.acknowledge()).toBe(0x41);
    });

    it("a vector in the class already in service waits (SDM 10.8.3.1: above PPR's class)", () => {
      apic.accept(0x50, "edge");
      apic.acknowledge();
      apic.accept(0x5f, "edge");
      expect(apic.hasInterrupt()).toBe(false);
      apic.write(EOI, 4, 0);
      expect(apic.hasInterrupt()).toBe(true);
    });

    it("TPR above the vector's class blocks delivery until lowered", () => {
      apic.write(TPR, 4, 0x40);
      apic.accept(0x45, "edge");
      expect(cpu.intr).toBe(false);
      apic.write(TPR, 4, 0x3f);
      expect(cpu.intr).toBe(true);
      expect(apic.acknowledge()).toBe(0x45);
    });

    it("PPR is TPR, or the class of the highest in-service vector when that is higher", () => {
      apic.write(TPR, 4, 0x25);
      expect(apic.read(PPR, 4)).toBe(0x25);
      apic.accept(0x41, "edge");
      apic.acknowledge();
      expect(apic.read(PPR, 4)).toBe(0x40);
      apic.write(TPR, 4, 0x55);
      expect(apic.read(PPR, 4)).toBe(0x55);
    });

    it("APR is TPR while TPR dominates, else the highest of the TPR, ISR and IRR classes (SDM 10.6.2.4)", () => {
      apic.write(TPR, 4, 0x35);
      expect(apic.read(APR, 4)).toBe(0x35);
      apic.write(TPR, 4, 0x40);
      apic.accept(0x72, "edge");
      expect(apic.read(APR, 4)).toBe(0x70);
    });

    it("spurious vector when nothing is pending at INTA, and ISR stays empty (SDM 10.9)", () => {
      apic.write(SVR, 4, SVR_ENABLED | 0x3f);
      apic.accept(0x45, "edge");
      expect(cpu.intr).toBe(true);
      apic.write(TPR, 4, 0xf0); // raised between INTR and INTA
      expect(apic.acknowledge()).toBe(0x3f);
      for (let w = 0; w < 8; w++) expect(apic.read(ISR + w * 0x10, 4)).toBe(0);
    });

    it("a vector below 16 sets ESR receive illegal vector and is not accepted (SDM 10.5.2)", () => {
      apic.accept(0x0f, "edge");
      expect(apic.read(IRR, 4)).toBe(0);
      expect(esr(apic)).toBe(ESR_RECEIVE_ILLEGAL_VECTOR);
    });

    it("a level-triggered vector sets TMR and its EOI is reported for the I/O APIC (SDM 10.8.5)", () => {
      apic.accept(0x38, "level");
      expect(bit(apic, TMR, 0x38)).toBe(true);
      apic.acknowledge();
      apic.write(EOI, 4, 0);
      expect(cpu.eois).toEqual([0x38]);
      apic.accept(0x38, "edge");
      expect(bit(apic, TMR, 0x38)).toBe(false);
    });

    it("EOI with nothing in service does nothing", () => {
      apic.write(EOI, 4, 0);
      expect(cpu.eois).toEqual([]);
      expect(cpu.intr).toBe(false);
    });
  });

  describe("software enable (SVR bit 8)", () => {
    it("software-disabled APIC (SVR bit 8 clear) masks all LVTs, and they stay masked", () => {
      apic.write(LVT_TIMER, 4, 0x40);
      apic.write(LVT_LINT1, 4, MODE_NMI);
      apic.write(SVR, 4, 0xff);
      expect(apic.read(LVT_TIMER, 4)).toBe(0x0001_0040);
      expect(apic.read(LVT_LINT1, 4)).toBe(0x0001_0400);
      apic.write(LVT_TIMER, 4, 0x40); // the mask cannot be cleared while disabled
      expect(apic.read(LVT_TIMER, 4)).toBe(0x0001_0040);
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(TIMER_INITIAL, 4, 100);
      clock.advance(100);
      expect(apic.read(IRR + 0x20, 4)).toBe(0);
      apic.setLint1(true);
      expect(cpu.nmis).toBe(0);
    });

    it("a software-disabled APIC drops fixed interrupts but still takes NMI (SDM 10.4.7.2)", () => {
      apic.write(SVR, 4, 0xff);
      apic.accept(0x40, "edge");
      expect(apic.read(IRR + 0x20, 4)).toBe(0);
      apic.receive(0b100, 0, "edge");
      expect(cpu.nmis).toBe(1);
    });
  });

  describe("timer (SDM 10.5.4, 1 GHz bus clock)", () => {
    it("current count decreases at bus clock / divide", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_16);
      apic.write(LVT_TIMER, 4, 0x40);
      apic.write(TIMER_INITIAL, 4, 1000);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(1000);
      clock.advance(160);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(990);
      clock.advanceTo(15_999);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(1);
      expect(cpu.intr).toBe(false);
    });

    it("the divide configuration encodes 2, 4, ..., 128 and 0b1011 divides by 1", () => {
      const expected: Array<[number, number]> = [
        [0b0000, 2], [0b0001, 4], [0b0010, 8], [0b0011, 16], [0b1000, 32], [0b1001, 64], [0b1010, 128], [0b1011, 1],
      ];
      for (const [code, divisor] of expected) {
        apic.write(TIMER_DIVIDE, 4, code);
        expect(apic.read(TIMER_DIVIDE, 4)).toBe(code);
        apic.write(TIMER_INITIAL, 4, 1_000_000);
        clock.advance(divisor * 10);
        expect(apic.read(TIMER_CURRENT, 4)).toBe(999_990);
      }
    });

    it("a one-shot timer fires once after initial count × divide ns and stays at zero", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_16);
      apic.write(LVT_TIMER, 4, 0x40);
      apic.write(TIMER_INITIAL, 4, 1000);
      clock.advanceTo(16_000);
      expect(bit(apic, IRR, 0x40)).toBe(true);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(0);
      expect(apic.acknowledge()).toBe(0x40);
      apic.write(EOI, 4, 0);
      clock.advance(1_000_000);
      expect(cpu.intr).toBe(false);
      expect(clock.nextDeadline()).toBeUndefined();
    });

    it("periodic timer reloads the initial count and fires every period", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(LVT_TIMER, 4, LVT_PERIODIC | 0x40);
      apic.write(TIMER_INITIAL, 4, 200_000);
      for (let period = 1; period <= 3; period++) {
        clock.advanceTo(period * 200_000 - 1);
        expect(cpu.intr).toBe(false);
        clock.advanceTo(period * 200_000);
        expect(apic.acknowledge()).toBe(0x40);
        apic.write(EOI, 4, 0);
      }
      clock.advance(50_000);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(150_000);
    });

    it("a masked LVT timer counts but does not interrupt", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(LVT_TIMER, 4, LVT_MASKED | 0x40);
      apic.write(TIMER_INITIAL, 4, 1000);
      clock.advance(400);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(600);
      clock.advance(600);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(0);
      expect(bit(apic, IRR, 0x40)).toBe(false);
    });

    it("writing an initial count of 0 stops the timer", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(LVT_TIMER, 4, LVT_PERIODIC | 0x40);
      apic.write(TIMER_INITIAL, 4, 200_000);
      clock.advance(1000);
      apic.write(TIMER_INITIAL, 4, 0);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(0);
      clock.advance(1_000_000);
      expect(cpu.intr).toBe(false);
    });

    it("a new divider applies from the write on and the current count carries over", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(LVT_TIMER, 4, 0x40);
      apic.write(TIMER_INITIAL, 4, 1000);
      clock.advance(400);
      apic.write(TIMER_DIVIDE, 4, 0b0000); // divide by 2
      expect(apic.read(TIMER_CURRENT, 4)).toBe(600);
      clock.advance(1198);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(1);
      expect(cpu.intr).toBe(false);
      clock.advance(2);
      expect(cpu.intr).toBe(true);
    });

    it("a periodic timer switched to one-shot stops at the end of its current period", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(LVT_TIMER, 4, LVT_PERIODIC | 0x40);
      apic.write(TIMER_INITIAL, 4, 200_000);
      clock.advanceTo(250_000);
      apic.acknowledge();
      apic.write(EOI, 4, 0);
      apic.write(LVT_TIMER, 4, 0x40);
      clock.advanceTo(400_000);
      expect(apic.acknowledge()).toBe(0x40);
      apic.write(EOI, 4, 0);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(0);
      clock.advance(1_000_000);
      expect(cpu.intr).toBe(false);
    });

    it("a periodic period shorter than 100 µs counts exactly but interrupts at most every 100 µs", () => {
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(LVT_TIMER, 4, LVT_PERIODIC | 0x40);
      apic.write(TIMER_INITIAL, 4, 10);
      clock.advance(3);
      expect(apic.read(TIMER_CURRENT, 4)).toBe(7);
      expect(clock.nextDeadline()).toBe(100_000);
    });
  });

  describe("errors (SDM 10.5.3) and the error LVT", () => {
    it("an ICR vector below 16 sets ESR send illegal vector, sends nothing and fires the error LVT", () => {
      const sent: unknown[] = [];
      const sender = makeLapic(clock, cpu, { sendIpi: (_from, ipi) => sent.push(ipi) });
      sender.write(SVR, 4, SVR_ENABLED | 0xff);
      sender.write(LVT_ERROR, 4, 0xfe);
      sender.write(ICR_LOW, 4, ICR_ASSERT | 0x05);
      expect(sent).toEqual([]);
      expect(sender.acknowledge()).toBe(0xfe);
      expect(esr(sender)).toBe(ESR_SEND_ILLEGAL_VECTOR);
    });

    it("an LVT with a vector below 16 logs receive illegal vector when it fires", () => {
      apic.write(LVT_TIMER, 4, 0x08);
      apic.write(TIMER_DIVIDE, 4, DIVIDE_BY_1);
      apic.write(TIMER_INITIAL, 4, 10);
      expect(esr(apic)).toBe(0);
      clock.advance(10);
      expect(esr(apic)).toBe(ESR_RECEIVE_ILLEGAL_VECTOR);
      expect(apic.read(IRR, 4)).toBe(0);
    });

    it("an error LVT with an illegal vector logs it without firing itself again", () => {
      apic.write(LVT_ERROR, 4, 0x03);
      apic.read(0x040, 4);
      expect(esr(apic)).toBe(ESR_ILLEGAL_REGISTER | ESR_RECEIVE_ILLEGAL_VECTOR);
    });
  });

  describe("LINT0 and LINT1 (SDM 10.5.1)", () => {
    let pic: DualPic8259;

    function initPic(): void {
      pic.master.write(0, 1, 0x11);
      pic.master.write(1, 1, 0x08);
      pic.master.write(1, 1, 0x04);
      pic.master.write(1, 1, 0x01);
      pic.slave.write(0, 1, 0x11);
      pic.slave.write(1, 1, 0x70);
      pic.slave.write(1, 1, 0x02);
      pic.slave.write(1, 1, 0x01);
    }

    beforeEach(() => {
      apic = makeLapic(clock, cpu, { extInt: { acknowledge: () => pic.acknowledge() } });
      pic = new DualPic8259((level) => apic.setLint0(level));
      initPic();
      apic.write(SVR, 4, SVR_ENABLED | 0xff);
    });

    it("ExtINT through LINT0 returns the PIC's vector, whatever TPR says", () => {
      apic.write(LVT_LINT0, 4, MODE_EXTINT);
      apic.write(TPR, 4, 0xf0);
      pic.irqLine(1).raise();
      expect(cpu.intr).toBe(true);
      expect(apic.acknowledge()).toBe(0x09);
      expect(cpu.intr).toBe(false);
      expect(apic.read(ISR + 0x00, 4)).toBe(0); // the 8259A's vector does not enter the APIC's ISR
    });

    it("with LINT0 masked the PIC's INTR does not reach the CPU", () => {
      apic.write(LVT_LINT0, 4, LVT_MASKED | MODE_EXTINT);
      pic.irqLine(1).raise();
      expect(cpu.intr).toBe(false);
      apic.write(LVT_LINT0, 4, MODE_EXTINT);
      expect(cpu.intr).toBe(true);
    });

    it("an APIC vector and a PIC request: INTA serves the ExtINT first", () => {
      apic.write(LVT_LINT0, 4, MODE_EXTINT);
      apic.accept(0x80, "edge");
      pic.irqLine(3).raise();
      expect(apic.acknowledge()).toBe(0x0b);
      expect(apic.acknowledge()).toBe(0x80);
    });

    it("a globally disabled APIC (IA32_APIC_BASE bit 11 clear) passes the PIC's INTR through; LINT1 is NMI", () => {
      apic.setBaseMsr(0xfee0_0000);
      pic.irqLine(1).raise();
      expect(cpu.intr).toBe(true);
      expect(apic.acknowledge()).toBe(0x09);
      apic.setLint1(true);
      apic.setLint1(false);
      expect(cpu.nmis).toBe(1);
    });

    it("LINT1 in NMI mode raises NMI on each rising edge", () => {
      apic.write(LVT_LINT1, 4, MODE_NMI);
      apic.setLint1(true);
      apic.setLint1(true);
      expect(cpu.nmis).toBe(1);
      apic.setLint1(false);
      apic.setLint1(true);
      expect(cpu.nmis).toBe(2);
    });

    it("a level-triggered fixed LINT0 sets remote IRR until EOI and interrupts again while asserted", () => {
      apic.write(LVT_LINT0, 4, LVT_LEVEL | 0x51);
      apic.setLint0(true);
      expect(apic.read(LVT_LINT0, 4)).toBe(LVT_LEVEL | LVT_REMOTE_IRR | 0x51);
      expect(apic.acknowledge()).toBe(0x51);
      expect(apic.hasInterrupt()).toBe(false);
      apic.write(EOI, 4, 0);
      expect(cpu.eois).toEqual([0x51]);
      expect(apic.read(LVT_LINT0, 4)).toBe(LVT_LEVEL | LVT_REMOTE_IRR | 0x51);
      expect(apic.acknowledge()).toBe(0x51);
      apic.setLint0(false);
      apic.write(EOI, 4, 0);
      expect(apic.read(LVT_LINT0, 4)).toBe(LVT_LEVEL | 0x51);
      expect(cpu.intr).toBe(false);
    });

    it("an edge-triggered fixed LINT0 interrupts once per rising edge", () => {
      apic.write(LVT_LINT0, 4, 0x52);
      apic.setLint0(true);
      expect(apic.acknowledge()).toBe(0x52);
      apic.write(EOI, 4, 0);
      apic.setLint0(true);
      expect(cpu.intr).toBe(false);
    });
  });
});

describe("Lapic under arbitrary guest traffic", () => {
  it("random register reads, writes and time steps never throw", () => {
    const clock = new ManualClock();
    const router = new InterruptRouter();
    const apics = [0, 1].map((id) => {
      const apic = makeLapic(clock, new Cpu(), { id, sendIpi: (from, ipi) => router.sendIpi(from, ipi) });
      router.attach(apic);
      return apic;
    });
    let seed = 0x1234_5678;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0);
    const sizes = [1, 2, 4] as const;
    expect(() => {
      for (let i = 0; i < 20_000; i++) {
        const apic = apics[next() & 1];
        const offset = next() % 0x1000;
        const size = sizes[next() % 3];
        if (next() & 1) apic.write(offset & ~0xf, 4, next());
        else apic.read(offset, size);
        if ((next() & 0xff) === 0) apic.setBaseMsr(next() * 16);
        if ((next() & 0xf) === 0) apic.acknowledge();
        apic.setLint0((next() & 1) === 1);
        clock.advance(next() % 50_000);
      }
    }).not.toThrow();
  });
});

describe("InterruptRouter with IPIs", () => {
  let clock: ManualClock;
  let router: InterruptRouter;
  let cpus: Cpu[];
  let apics: Lapic[];

  beforeEach(() => {
    clock = new ManualClock();
    router = new InterruptRouter();
    cpus = [new Cpu(), new Cpu(), new Cpu()];
    apics = cpus.map((cpu, id) => {
      const apic = makeLapic(clock, cpu, { id, sendIpi: (from, ipi) => router.sendIpi(from, ipi) });
      router.attach(apic);
      apic.write(SVR, 4, SVR_ENABLED | 0xff);
      return apic;
    });
  });

  function send(from: number, destination: number, low: number): void {
    apics[from].write(ICR_HIGH, 4, destination << 24);
    apics[from].write(ICR_LOW, 4, low);
  }
  const pending = (i: number, vector: number) => bit(apics[i], IRR, vector);

  it("a physical fixed IPI reaches the APIC with that ID, and ICR delivery status reads idle", () => {
    send(0, 2, ICR_ASSERT | 0x40);
    expect([pending(0, 0x40), pending(1, 0x40), pending(2, 0x40)]).toEqual([false, false, true]);
    expect(apics[0].read(ICR_LOW, 4)).toBe(0x0000_4040); // bit 12 clear
    expect(apics[0].read(ICR_HIGH, 4)).toBe(0x0200_0000);
  });

  it("destination 0xFF broadcasts, and the shorthands select self, all, or all but self (SDM 10.6.1)", () => {
    send(0, 0xff, ICR_ASSERT | 0x41);
    expect([pending(0, 0x41), pending(1, 0x41), pending(2, 0x41)]).toEqual([true, true, true]);
    send(1, 0, ICR_SELF | ICR_ASSERT | 0x42);
    expect([pending(0, 0x42), pending(1, 0x42), pending(2, 0x42)]).toEqual([false, true, false]);
    send(1, 0, ICR_ALL_EXCLUDING_SELF | ICR_ASSERT | 0x43);
    expect([pending(0, 0x43), pending(1, 0x43), pending(2, 0x43)]).toEqual([true, false, true]);
  });

  it("a level-triggered IPI sets TMR at the target", () => {
    send(0, 1, ICR_LEVEL | ICR_ASSERT | 0x44);
    expect(bit(apics[1], TMR, 0x44)).toBe(true);
  });

  it("flat logical destinations match any set bit of the LDR (SDM 10.6.2.2)", () => {
    apics.forEach((a, i) => a.write(LDR, 4, (1 << i) << 24));
    send(0, 0b011, ICR_LOGICAL | ICR_ASSERT | 0x45);
    expect([pending(0, 0x45), pending(1, 0x45), pending(2, 0x45)]).toEqual([true, true, false]);
  });

  it("cluster logical destinations match the cluster and a bit of the member mask", () => {
    const ldrs = [0x11, 0x12, 0x21];
    apics.forEach((a, i) => {
      a.write(DFR, 4, 0x0fff_ffff);
      a.write(LDR, 4, ldrs[i] << 24);
    });
    send(0, 0x13, ICR_LOGICAL | ICR_ASSERT | 0x46);
    expect([pending(0, 0x46), pending(1, 0x46), pending(2, 0x46)]).toEqual([true, true, false]);
    send(0, 0x21, ICR_LOGICAL | ICR_ASSERT | 0x47);
    expect([pending(0, 0x47), pending(1, 0x47), pending(2, 0x47)]).toEqual([false, false, true]);
  });

  it("lowest priority picks the lowest PPR, ties going to the lowest APIC ID", () => {
    apics[0].write(TPR, 4, 0x30);
    apics[1].write(TPR, 4, 0x10);
    apics[2].write(TPR, 4, 0x10);
    send(0, 0xff, MODE_LOWEST | ICR_ASSERT | 0x50);
    expect([pending(0, 0x50), pending(1, 0x50), pending(2, 0x50)]).toEqual([false, true, false]);
  });

  it("lowest priority prefers the focus processor that already has the vector (SDM 10.6.2.4)", () => {
    apics[2].accept(0x51, "edge");
    apics[2].write(TPR, 4, 0x40);
    send(0, 0xff, MODE_LOWEST | ICR_ASSERT | 0x51);
    expect([pending(0, 0x51), pending(1, 0x51)]).toEqual([false, false]);
  });

  it("NMI, INIT and SIPI reach their callbacks; INIT resets the target but keeps its APIC ID", () => {
    apics[1].write(TPR, 4, 0x20);
    send(0, 1, MODE_NMI | ICR_ASSERT);
    expect(cpus[1].nmis).toBe(1);
    send(0, 1, MODE_INIT | ICR_ASSERT);
    expect(cpus[1].inits).toBe(1);
    expect(apics[1].read(TPR, 4)).toBe(0);
    expect(apics[1].read(SVR, 4)).toBe(0xff);
    expect(apics[1].read(ID, 4)).toBe(0x0100_0000);
    send(0, 1, MODE_STARTUP | ICR_ASSERT | 0x9a);
    expect(cpus[1].sipis).toEqual([0x9a]);
  });

  it("INIT level de-assert is not sent (not supported by the xAPIC, SDM 10.6.1)", () => {
    send(0, 0xff, MODE_INIT | ICR_LEVEL);
    expect(cpus.map((c) => c.inits)).toEqual([0, 0, 0]);
  });
});
