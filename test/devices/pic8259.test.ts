// The dual 8259A through its registers, initialised the way a PC BIOS and Linux do it.
// Expected behaviour from the Intel 8259A data sheet (231468) and the PIIX4 data sheet for the ELCR.
import { beforeEach, describe, expect, it } from "vitest";
import { DualPic8259 } from "../../src/devices/pic8259";

const CMD = 0, DATA = 1;
// Command words from the data sheet, written out here rather than imported from the model.
const ICW1_INIT_IC4 = 0x11; // D4 = 1 (ICW1), IC4 = 1, cascade mode, edge-triggered
const ICW4_8086 = 0x01, ICW4_8086_AEOI = 0x03;
const OCW2_EOI = 0x20, OCW2_SPECIFIC_EOI = 0x60, OCW2_ROTATE_EOI = 0xa0, OCW2_SET_PRIORITY = 0xc0;
const OCW3_READ_IRR = 0x0a, OCW3_READ_ISR = 0x0b, OCW3_POLL = 0x0c;
const OCW3_SET_SMM = 0x68, OCW3_RESET_SMM = 0x48;

describe("DualPic8259", () => {
  let pic: DualPic8259;
  let intrChanges: boolean[];

  function init(icw4 = ICW4_8086): void {
    pic.master.write(CMD, 1, ICW1_INIT_IC4);
    pic.master.write(DATA, 1, 0x08); // ICW2: vectors 0x08..0x0F
    pic.master.write(DATA, 1, 0x04); // ICW3: slave on IR2
    pic.master.write(DATA, 1, icw4);
    pic.slave.write(CMD, 1, ICW1_INIT_IC4);
    pic.slave.write(DATA, 1, 0x70); // vectors 0x70..0x77
    pic.slave.write(DATA, 1, 0x02); // ICW3: slave identity 2
    pic.slave.write(DATA, 1, icw4);
  }
  const isr = (p: typeof pic.master) => { p.write(CMD, 1, OCW3_READ_ISR); return p.read(CMD, 1); };
  const irr = (p: typeof pic.master) => { p.write(CMD, 1, OCW3_READ_IRR); return p.read(CMD, 1); };

  beforeEach(() => {
    intrChanges = [];
    pic = new DualPic8259((level) => intrChanges.push(level));
    pic.reset();
    init();
  });

  it("an edge on IRQ1 raises INTR and acknowledge returns ICW2 base + 1", () => {
    pic.irqLine(1).raise();
    expect(pic.hasInterrupt()).toBe(true);
    expect(intrChanges).toEqual([true]);
    expect(pic.acknowledge()).toBe(0x09);
    expect(pic.hasInterrupt()).toBe(false);
    expect(isr(pic.master)).toBe(0b10);
    expect(irr(pic.master)).toBe(0);
  });

  it("a pulse (raise then lower) on an edge-triggered line is latched in IRR", () => {
    pic.irqLine(0).raise();
    pic.irqLine(0).lower();
    expect(irr(pic.master)).toBe(0b1);
    expect(pic.acknowledge()).toBe(0x08);
  });

  it("an edge-triggered line held high requests only once", () => {
    pic.irqLine(3).raise();
    pic.acknowledge();
    pic.master.write(CMD, 1, OCW2_EOI);
    pic.irqLine(3).raise();
    expect(pic.hasInterrupt()).toBe(false);
  });

  it("a masked request waits in IRR until OCW1 unmasks it", () => {
    pic.master.write(DATA, 1, 0xff);
    pic.irqLine(4).raise();
    expect(pic.hasInterrupt()).toBe(false);
    expect(irr(pic.master)).toBe(0b1_0000);
    expect(pic.master.read(DATA, 1)).toBe(0xff);
    pic.master.write(DATA, 1, 0xef);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x0c);
  });

  it("fully nested mode: a lower priority waits for EOI, a higher one nests", () => {
    pic.irqLine(3).raise();
    expect(pic.acknowledge()).toBe(0x0b);
    pic.irqLine(5).raise();
    expect(pic.hasInterrupt()).toBe(false);
    pic.irqLine(1).raise();
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x09);
    expect(isr(pic.master)).toBe(0b1010);
    pic.master.write(CMD, 1, OCW2_EOI); // non-specific: clears IR1, the highest in service
    expect(isr(pic.master)).toBe(0b1000);
    expect(pic.hasInterrupt()).toBe(false);
    pic.master.write(CMD, 1, OCW2_EOI);
    expect(pic.acknowledge()).toBe(0x0d);
  });

  it("simultaneous requests are served in priority order IR0 first", () => {
    pic.irqLine(6).raise();
    pic.irqLine(0).raise();
    pic.irqLine(4).raise();
    const order = [];
    for (let i = 0; i < 3; i++) {
      order.push(pic.acknowledge());
      pic.master.write(CMD, 1, OCW2_EOI);
    }
    expect(order).toEqual([0x08, 0x0c, 0x0e]);
  });

  it("slave IRQ cascades through master IR2 and acknowledge returns the slave vector", () => {
    pic.irqLine(12).raise();
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x74);
    expect(isr(pic.master)).toBe(0b100);
    expect(isr(pic.slave)).toBe(0b1_0000);
    pic.slave.write(CMD, 1, OCW2_EOI);
    pic.master.write(CMD, 1, OCW2_EOI);
    expect(isr(pic.master)).toBe(0);
    expect(isr(pic.slave)).toBe(0);
  });

  it("a second slave request is delivered after the first is ended", () => {
    pic.irqLine(8).raise();
    pic.irqLine(14).raise();
    expect(pic.acknowledge()).toBe(0x70);
    expect(pic.hasInterrupt()).toBe(false);
    pic.slave.write(CMD, 1, OCW2_EOI);
    pic.master.write(CMD, 1, OCW2_EOI);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x76);
  });

  it("ISA IRQ2 is routed to IRQ9 on the slave", () => {
    pic.irqLine(2).raise();
    expect(pic.acknowledge()).toBe(0x71);
  });

  it("level-triggered IRQ stays in IRR while the line is high", () => {
    pic.elcr.write(1, 1, 0b0000_1000); // IRQ11 level-triggered
    const line = pic.irqLine(11);
    line.raise();
    expect(pic.acknowledge()).toBe(0x73);
    expect(irr(pic.slave) & 0b1000).toBe(0b1000);
    pic.slave.write(CMD, 1, OCW2_EOI);
    pic.master.write(CMD, 1, OCW2_EOI);
    // Still high after EOI: requested again.
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x73);
    line.lower(); // the handler quiets the device before its EOI
    expect(irr(pic.slave) & 0b1000).toBe(0);
    pic.slave.write(CMD, 1, OCW2_EOI);
    pic.master.write(CMD, 1, OCW2_EOI);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it("ICW1 LTIM makes every input level-triggered", () => {
    pic.master.write(CMD, 1, ICW1_INIT_IC4 | 0x08);
    pic.master.write(DATA, 1, 0x08);
    pic.master.write(DATA, 1, 0x04);
    pic.master.write(DATA, 1, ICW4_8086);
    pic.irqLine(5).raise();
    pic.irqLine(5).lower();
    expect(irr(pic.master)).toBe(0);
  });

  it("ELCR keeps IRQ0-2, 8 and 13 edge-triggered (PIIX4 4.1.13)", () => {
    pic.elcr.write(0, 1, 0xff);
    pic.elcr.write(1, 1, 0xff);
    expect(pic.elcr.read(0, 1)).toBe(0xf8);
    expect(pic.elcr.read(1, 1)).toBe(0xde);
    expect(pic.elcr.read(0, 2)).toBe(0xdef8);
  });

  it("a request that vanishes before INTA gives spurious IRQ7 with nothing in service", () => {
    pic.elcr.write(0, 1, 0b0010_0000);
    pic.irqLine(5).raise();
    expect(pic.hasInterrupt()).toBe(true);
    pic.irqLine(5).lower();
    expect(pic.acknowledge()).toBe(0x0f);
    expect(isr(pic.master)).toBe(0);
  });

  it("a slave request gone after the master took IR2 gives spurious IRQ15; the master still has IR2 in service", () => {
    pic.elcr.write(1, 1, 0b0000_0010); // IRQ9 level-triggered
    pic.irqLine(9).raise();
    pic.irqLine(9).lower(); // the master's IR2 edge was latched already
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x77);
    expect(isr(pic.slave)).toBe(0);
    expect(isr(pic.master)).toBe(0b100);
  });

  it("auto-EOI mode leaves ISR clear after acknowledge", () => {
    init(ICW4_8086_AEOI);
    pic.irqLine(3).raise();
    expect(pic.acknowledge()).toBe(0x0b);
    expect(isr(pic.master)).toBe(0);
    pic.irqLine(4).raise();
    expect(pic.hasInterrupt()).toBe(true); // nothing in service blocks lower priorities
  });

  it("specific EOI clears only the named level", () => {
    pic.irqLine(4).raise();
    pic.acknowledge();
    pic.irqLine(1).raise();
    pic.acknowledge();
    pic.master.write(CMD, 1, OCW2_SPECIFIC_EOI | 4);
    expect(isr(pic.master)).toBe(0b10);
  });

  it("rotate on non-specific EOI gives the served level the lowest priority", () => {
    pic.irqLine(0).raise();
    pic.acknowledge();
    pic.master.write(CMD, 1, OCW2_ROTATE_EOI);
    // IR0 is now the lowest: IR1 > ... > IR7 > IR0.
    pic.irqLine(0).lower();
    pic.irqLine(0).raise();
    pic.irqLine(7).raise();
    expect(pic.acknowledge()).toBe(0x0f);
  });

  it("set priority command makes the given level the lowest", () => {
    pic.master.write(CMD, 1, OCW2_SET_PRIORITY | 3); // IR4 now has the highest priority
    pic.irqLine(1).raise();
    pic.irqLine(5).raise();
    expect(pic.acknowledge()).toBe(0x0d);
  });

  it("poll mode returns the highest request with bit 7 set and acknowledges it", () => {
    pic.master.write(DATA, 1, 0xff); // a polling driver masks the INTR output
    pic.master.write(CMD, 1, OCW3_POLL);
    expect(pic.master.read(CMD, 1)).toBe(0); // nothing pending
    pic.irqLine(6).raise();
    pic.master.write(DATA, 1, 0x00);
    pic.master.write(CMD, 1, OCW3_POLL);
    expect(pic.master.read(CMD, 1)).toBe(0x80 | 6);
    expect(isr(pic.master)).toBe(0b0100_0000);
  });

  it("special mask mode lets lower priorities in while a masked level is in service", () => {
    pic.irqLine(3).raise();
    pic.acknowledge(); // IR3 in service
    pic.master.write(CMD, 1, OCW3_SET_SMM);
    pic.master.write(DATA, 1, 0b1000); // mask IR3
    pic.irqLine(6).raise();
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x0e);
    pic.master.write(CMD, 1, OCW3_RESET_SMM);
    pic.master.write(DATA, 1, 0);
    pic.irqLine(7).raise();
    expect(pic.hasInterrupt()).toBe(false); // normal nesting again: IR3 blocks IR7
  });

  it("ICW1 clears IMR and ISR and requires a new edge", () => {
    pic.master.write(DATA, 1, 0xaa);
    pic.irqLine(1).raise();
    pic.acknowledge();
    init();
    expect(pic.master.read(DATA, 1)).toBe(0);
    expect(isr(pic.master)).toBe(0);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it("INTR notifications report each change once", () => {
    pic.irqLine(1).raise();
    pic.irqLine(3).raise();
    pic.acknowledge();
    pic.master.write(CMD, 1, OCW2_EOI);
    expect(intrChanges).toEqual([true, false, true]);
  });

  it("garbage in every register never throws", () => {
    for (const p of [pic.master, pic.slave, pic.elcr]) {
      for (let v = 0; v < 256; v += 7) {
        p.write(0, 1, v);
        p.write(1, 1, v);
        p.read(0, 1);
        p.read(1, 1);
        p.write(5, 4, v);
      }
    }
    for (let i = 0; i < 20; i++) pic.acknowledge();
    expect(() => pic.irqLine(16)).toThrow(RangeError);
  });
});
