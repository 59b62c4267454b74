// The I/O APIC through IOREGSEL/IOWIN, alone (recording what it delivers) and wired to a local APIC through the
// router. Expected behaviour from the Intel 82093AA data sheet (290566) and, for the version 0x20 EOI register,
// the ICH5 data sheet §9.5.
import { beforeEach, describe, expect, it } from "vitest";
import { IoApic } from "../../src/devices/ioapic";
import { InterruptRouter } from "../../src/devices/interrupt-router";
import { Lapic } from "../../src/devices/lapic";
import { ManualClock } from "./helpers";

// MMIO offsets and register indices, written out rather than imported from the model.
const IOREGSEL = 0x00, IOWIN = 0x10, IOEOI = 0x40;
const INDEX_ID = 0x00, INDEX_VERSION = 0x01, INDEX_ARBITRATION = 0x02, INDEX_TABLE = 0x10;
// Redirection entry bits (82093AA §3.2.4).
const DEST_LOGICAL = 0x800, POLARITY_LOW = 0x2000, REMOTE_IRR = 0x4000, LEVEL = 0x8000, MASKED = 0x1_0000;
const MODE_LOWEST = 0x100, MODE_NMI = 0x400, MODE_EXTINT = 0x700;
// Local APIC registers (SDM Table 10-1).
const LAPIC_EOI = 0x0b0, LAPIC_SVR = 0x0f0, LAPIC_TPR = 0x080, LAPIC_IRR = 0x200;

interface Delivery {
  destination: number;
  destMode: number;
  deliveryMode: number;
  vector: number;
  trigger: string;
}

function readReg(io: IoApic, index: number): number {
  io.write(IOREGSEL, 1, index);
  return io.read(IOWIN, 4);
}

function writeReg(io: IoApic, index: number, value: number): void {
  io.write(IOREGSEL, 4, index);
  io.write(IOWIN, 4, value);
}

function writeEntry(io: IoApic, pin: number, low: number, destination = 0): void {
  writeReg(io, INDEX_TABLE + 2 * pin + 1, destination << 24);
  writeReg(io, INDEX_TABLE + 2 * pin, low);
}

describe("IoApic registers", () => {
  let io: IoApic;
  let sent: Delivery[];

  beforeEach(() => {
    sent = [];
    io = new IoApic((destination, destMode, deliveryMode, vector, trigger) =>
      sent.push({ destination, destMode, deliveryMode, vector, trigger }));
  });

  it("the version register reads 0x20 with 24 entries (0x00170020)", () => {
    expect(readReg(io, INDEX_VERSION)).toBe(0x0017_0020);
    writeReg(io, INDEX_VERSION, 0);
    expect(readReg(io, INDEX_VERSION)).toBe(0x0017_0020);
  });

  it("the ID keeps bits 27:24 and the arbitration ID follows it (82093AA §3.2.1, §3.2.3)", () => {
    expect(readReg(io, INDEX_ID)).toBe(0);
    writeReg(io, INDEX_ID, 0xffff_ffff);
    expect(readReg(io, INDEX_ID)).toBe(0x0f00_0000);
    expect(readReg(io, INDEX_ARBITRATION)).toBe(0x0f00_0000);
  });

  it("IOREGSEL reads back the selected index", () => {
    io.write(IOREGSEL, 1, 0x21);
    expect(io.read(IOREGSEL, 4)).toBe(0x21);
  });

  it("redirection entries reset masked and read back their writable bits", () => {
    for (let pin = 0; pin < 24; pin++) {
      expect(readReg(io, INDEX_TABLE + 2 * pin)).toBe(0x0001_0000);
      expect(readReg(io, INDEX_TABLE + 2 * pin + 1)).toBe(0);
    }
    writeReg(io, INDEX_TABLE + 2 * 5, 0xffff_ffff);
    writeReg(io, INDEX_TABLE + 2 * 5 + 1, 0xffff_ffff);
    // Delivery status (12) and remote IRR (14) are read-only; bits 31:17 and 55:32 are reserved.
    expect(readReg(io, INDEX_TABLE + 2 * 5)).toBe(0x0001_afff);
    expect(readReg(io, INDEX_TABLE + 2 * 5 + 1)).toBe(0xff00_0000);
  });

  it("indices past the last entry read 0 and ignore writes", () => {
    writeReg(io, INDEX_TABLE + 48, 0x1234);
    expect(readReg(io, INDEX_TABLE + 48)).toBe(0);
    expect(readReg(io, 0x03)).toBe(0);
  });

  it("IOWIN ignores narrower writes; narrower reads return bytes of the register", () => {
    io.write(IOREGSEL, 1, INDEX_TABLE);
    io.write(IOWIN, 1, 0x30);
    expect(io.read(IOWIN, 4)).toBe(0x0001_0000);
    io.write(IOREGSEL, 1, INDEX_VERSION);
    expect(io.read(IOWIN, 1)).toBe(0x20);
    expect(io.read(IOWIN + 2, 1)).toBe(0x17);
  });

  it("an edge-triggered pin delivers once, on the rising edge", () => {
    writeEntry(io, 4, 0x34, 0x01);
    io.irqLine(4).raise();
    io.irqLine(4).raise();
    io.irqLine(4).lower();
    expect(sent).toEqual([{ destination: 0x01, destMode: 0, deliveryMode: 0, vector: 0x34, trigger: "edge" }]);
  });

  it("an edge on a masked pin is lost (82093AA §3.2.4, interrupt mask)", () => {
    writeEntry(io, 4, MASKED | 0x34);
    io.irqLine(4).raise();
    io.irqLine(4).lower();
    writeEntry(io, 4, 0x34);
    expect(sent).toEqual([]);
  });

  it("destination, destination mode and delivery mode come from the entry", () => {
    writeEntry(io, 9, DEST_LOGICAL | MODE_LOWEST | 0x39, 0x0f);
    io.irqLine(9).raise();
    expect(sent).toEqual([{ destination: 0x0f, destMode: 1, deliveryMode: 1, vector: 0x39, trigger: "edge" }]);
  });

  it("an NMI entry programmed level-triggered still delivers as an edge, without remote IRR", () => {
    writeEntry(io, 2, LEVEL | MODE_NMI);
    io.irqLine(2).raise();
    expect(sent.map((d) => [d.deliveryMode, d.trigger])).toEqual([[0b100, "edge"]]);
    expect(readReg(io, INDEX_TABLE + 4)).toBe(LEVEL | MODE_NMI);
  });

  it("an ExtINT entry passes the PIC's INTR on (virtual wire through the I/O APIC, MP spec 3.6.2.2)", () => {
    writeEntry(io, 0, MODE_EXTINT);
    io.irqLine(0).raise();
    expect(sent.map((d) => d.deliveryMode)).toEqual([0b111]);
  });

  it("a level-triggered pin sets remote IRR and delivers again only after EOI", () => {
    writeEntry(io, 10, LEVEL | POLARITY_LOW | 0x3a);
    io.irqLine(10).raise();
    expect(readReg(io, INDEX_TABLE + 20)).toBe(REMOTE_IRR | LEVEL | POLARITY_LOW | 0x3a);
    expect(sent.map((d) => d.trigger)).toEqual(["level"]);
    io.eoi(0x3b); // another vector: no effect
    expect(sent).toHaveLength(1);
    io.eoi(0x3a);
    expect(sent).toHaveLength(2); // still asserted
    io.irqLine(10).lower();
    io.eoi(0x3a);
    expect(sent).toHaveLength(2);
    expect(readReg(io, INDEX_TABLE + 20)).toBe(LEVEL | POLARITY_LOW | 0x3a);
  });

  it("the EOI register (version 0x20) clears remote IRR like an EOI broadcast", () => {
    writeEntry(io, 11, LEVEL | 0x3b);
    io.irqLine(11).raise();
    io.irqLine(11).lower();
    io.write(IOEOI, 4, 0x3b);
    expect(readReg(io, INDEX_TABLE + 22)).toBe(LEVEL | 0x3b);
  });

  it("unmasking an asserted level-triggered pin delivers", () => {
    writeEntry(io, 16, MASKED | LEVEL | 0x50);
    io.irqLine(16).raise();
    expect(sent).toEqual([]);
    writeEntry(io, 16, LEVEL | 0x50);
    expect(sent.map((d) => d.vector)).toEqual([0x50]);
  });

  it("reprogramming a pin as edge-triggered clears remote IRR (as Linux expects of pre-0x20 I/O APICs)", () => {
    writeEntry(io, 16, LEVEL | 0x50);
    io.irqLine(16).raise();
    writeEntry(io, 16, MASKED | 0x50);
    expect(readReg(io, INDEX_TABLE + 32)).toBe(MASKED | 0x50);
  });

  it("random register traffic and pin changes never throw", () => {
    let seed = 0x0bad_cafe;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0);
    const sizes = [1, 2, 4] as const;
    expect(() => {
      for (let i = 0; i < 20_000; i++) {
        const offset = next() % 0x100;
        if (next() & 1) io.write(offset, sizes[next() % 3], next());
        else io.read(offset, sizes[next() % 3]);
        const line = io.irqLine(next() % 24);
        if (next() & 1) line.raise();
        else line.lower();
        if ((next() & 7) === 0) io.eoi(next() & 0xff);
      }
    }).not.toThrow();
  });

  it("reset masks every entry again and clears the ID", () => {
    writeReg(io, INDEX_ID, 0x0200_0000);
    writeEntry(io, 1, 0x31);
    io.reset();
    expect(readReg(io, INDEX_ID)).toBe(0);
    expect(readReg(io, INDEX_TABLE + 2)).toBe(0x0001_0000);
  });
});

describe("IoApic with a local APIC through the router", () => {
  let io: IoApic;
  let lapic: Lapic;
  let intr: boolean;

  beforeEach(() => {
    intr = false;
    const router = new InterruptRouter();
    io = new IoApic((destination, destMode, deliveryMode, vector, trigger) =>
      router.deliver(destination, destMode, deliveryMode, vector, trigger));
    lapic = new Lapic({
      id: 0,
      clock: new ManualClock(),
      onIntr: (level) => { intr = level; },
      onNmi: () => {},
      onEoi: (vector) => io.eoi(vector),
      sendIpi: (from, ipi) => router.sendIpi(from, ipi),
    });
    router.attach(lapic);
    lapic.write(LAPIC_SVR, 4, 0x1ff);
  });

  it("EOI of a level-triggered vector clears remote IRR in the IOAPIC and a still-asserted line interrupts again", () => {
    writeEntry(io, 11, LEVEL | 0x3b, 0);
    io.irqLine(11).raise();
    expect(intr).toBe(true);
    expect(lapic.acknowledge()).toBe(0x3b);
    expect(intr).toBe(false);
    lapic.write(LAPIC_EOI, 4, 0);
    expect(intr).toBe(true); // the line is still high: delivered again
    expect(readReg(io, INDEX_TABLE + 22)).toBe(REMOTE_IRR | LEVEL | 0x3b);
    expect(lapic.acknowledge()).toBe(0x3b);
    io.irqLine(11).lower();
    lapic.write(LAPIC_EOI, 4, 0);
    expect(intr).toBe(false);
    expect(readReg(io, INDEX_TABLE + 22)).toBe(LEVEL | 0x3b);
  });

  it("a broadcast destination reaches LAPIC 0, and lowest priority with one vCPU lands there too", () => {
    writeEntry(io, 1, 0x31, 0xff);
    writeEntry(io, 3, DEST_LOGICAL | MODE_LOWEST | 0x33, 0xff);
    io.irqLine(1).raise();
    io.irqLine(3).raise();
    expect(lapic.read(LAPIC_IRR + 0x10, 4)).toBe((1 << (0x31 - 32)) | (1 << (0x33 - 32)));
  });

  it("a physical destination with no such APIC ID is dropped", () => {
    writeEntry(io, 1, 0x31, 0x05);
    io.irqLine(1).raise();
    expect(intr).toBe(false);
  });

  it("TPR holds back a pin's vector until lowered", () => {
    lapic.write(LAPIC_TPR, 4, 0x30);
    writeEntry(io, 1, 0x31, 0);
    io.irqLine(1).raise();
    expect(intr).toBe(false);
    lapic.write(LAPIC_TPR, 4, 0);
    expect(intr).toBe(true);
  });
});
