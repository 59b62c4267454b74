// The i440FX host bridge (00:00.0) and the PIIX3 ISA bridge (00:01.0) as SeaBIOS and Linux see them, through
// configuration mechanism #1 on a real IoBus. Expected values from the 440FX and PIIX3 data sheets.
import { beforeEach, describe, expect, it } from "vitest";
import type { AccessSize, IrqLine } from "../../src/devices/device";
import { PciBus, type PciFunction } from "../../src/devices/pci";
import { IntxPin, PciConfig } from "../../src/devices/pci-config";
import { I440fxHostBridge, PamAccess, pamRanges } from "../../src/devices/pci-hostbridge";
import { Piix3Lpc, pirqRouteTarget } from "../../src/devices/pci-lpc";
import { IoBus, MmioBus } from "../../src/machine/bus";
import { FakeIrq } from "./helpers";

const PAM0 = 0x59, SMRAM = 0x72, PIRQRC = 0x60;
const D_OPEN = 0x40, D_LCK = 0x10, G_SMRAME = 0x08;

/** A function with only an INTx# pin, to drive PIRQs. */
class PinOnly implements PciFunction {
  readonly config: PciConfig;
  constructor(pin: IntxPin) {
    this.config = new PciConfig({ vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000, interruptPin: pin });
  }
  barRead(): number { return 0; }
  barWrite(): void {}
  reset(): void {}
}

describe("i440FX and PIIX3", () => {
  let io: IoBus;
  let pci: PciBus;
  let host: I440fxHostBridge;
  let lpc: Piix3Lpc;
  let pam: Array<[number, number]>;
  let smram: number[];
  let routes: Array<[number, number | undefined]>;
  let resets: boolean[];
  let isa: Map<number, FakeIrq>;
  let apic: FakeIrq[];

  function cfgRead(slot: number, reg: number, size: AccessSize = 4): number {
    io.write(0xcf8, 4, (0x8000_0000 | (slot << 11) | (reg & 0xfc)) >>> 0);
    return io.read(0xcfc + (reg & 3), size);
  }
  function cfgWrite(slot: number, reg: number, size: AccessSize, value: number): void {
    io.write(0xcf8, 4, (0x8000_0000 | (slot << 11) | (reg & 0xfc)) >>> 0);
    io.write(0xcfc + (reg & 3), size, value);
  }
  const isaLine = (irq: number): FakeIrq => {
    if (!isa.has(irq)) isa.set(irq, new FakeIrq());
    return isa.get(irq)!;
  };

  beforeEach(() => {
    io = new IoBus();
    pam = [];
    smram = [];
    routes = [];
    resets = [];
    isa = new Map();
    apic = [new FakeIrq(), new FakeIrq(), new FakeIrq(), new FakeIrq()];
    host = new I440fxHostBridge({
      onPamChange: (i, v) => pam.push([i, v]),
      onSmramChange: (v) => smram.push(v),
    });
    lpc = new Piix3Lpc({
      isaIrq: (irq): IrqLine => isaLine(irq),
      apicPirq: (p) => apic[p],
      onPirqRoute: (p, irq) => routes.push([p, irq]),
      onReset: (hard) => resets.push(hard),
    });
    pci = new PciBus({
      io, mmio: new MmioBus(), pirq: lpc.pirqLines, resetControl: lpc.resetControl, msiSink: () => {},
    });
    io.insert(pci.configAddress, 0xcf8, 4, "pci-config-address");
    io.insert(pci.configData, 0xcfc, 4, "pci-config-data");
    pci.attach(0, 0, host, "i440FX");
    pci.attach(1, 0, lpc, "PIIX3");
  });

  describe("host bridge 00:00.0", () => {
    it("is an Intel 82441FX host bridge, revision 02", () => {
      expect(cfgRead(0, 0x00)).toBe(0x1237_8086);
      expect(cfgRead(0, 0x08)).toBe(0x0600_0002);
      expect(cfgRead(0, 0x0e, 1)).toBe(0x00);
      expect(cfgRead(0, 0x04)).toBe(0x0280_0006);
    });

    it("reports PAM writes the way SeaBIOS makes the BIOS area writable, masked to the defined fields", () => {
      cfgWrite(0, PAM0, 1, 0xff);
      for (let i = 1; i < 7; i++) cfgWrite(0, PAM0 + i, 1, 0x33);
      expect(pam).toEqual([[0, 0x30], [1, 0x33], [2, 0x33], [3, 0x33], [4, 0x33], [5, 0x33], [6, 0x33]]);
      expect(cfgRead(0, 0x58)).toBe(0x3333_3000);
      cfgWrite(0, 0x5c, 4, 0x3333_3333); // unchanged values are not reported again
      expect(pam).toHaveLength(7);
    });

    it("reports a dword write that spans several PAM registers once per changed register", () => {
      cfgWrite(0, 0x5c, 4, 0x1111_2211);
      expect(pam).toEqual([[3, 0x11], [4, 0x22], [5, 0x11], [6, 0x11]]);
    });

    it("decodes PAM values into address ranges", () => {
      expect(pamRanges(0, 0x30)).toEqual([{ base: 0xf0000, length: 0x10000, access: PamAccess.ReadWrite }]);
      expect(pamRanges(1, 0x21)).toEqual([
        { base: 0xc0000, length: 0x4000, access: PamAccess.ReadOnly },
        { base: 0xc4000, length: 0x4000, access: PamAccess.WriteOnly },
      ]);
      expect(pamRanges(6, 0)[1]).toEqual({ base: 0xec000, length: 0x4000, access: PamAccess.Pci });
    });

    it("stores SMRAM, and D_LCK closes it and freezes it until reset", () => {
      expect(cfgRead(0, SMRAM, 1)).toBe(0x02);
      cfgWrite(0, SMRAM, 1, D_OPEN | G_SMRAME);
      expect(cfgRead(0, SMRAM, 1)).toBe(D_OPEN | G_SMRAME | 0x02);
      cfgWrite(0, SMRAM, 1, D_LCK | D_OPEN | G_SMRAME);
      expect(cfgRead(0, SMRAM, 1)).toBe(D_LCK | G_SMRAME | 0x02);
      cfgWrite(0, SMRAM, 1, D_OPEN);
      expect(cfgRead(0, SMRAM, 1)).toBe(D_LCK | G_SMRAME | 0x02);
      expect(smram).toEqual([0x4a, 0x1a]);
      pci.reset();
      expect(cfgRead(0, SMRAM, 1)).toBe(0x02);
      cfgWrite(0, SMRAM, 1, D_OPEN);
      expect(cfgRead(0, SMRAM, 1)).toBe(D_OPEN | 0x02);
    });

    it("stores the other device-specific registers", () => {
      cfgWrite(0, 0x50, 4, 0x1234_5678);
      expect(cfgRead(0, 0x50)).toBe(0x1234_5678);
      expect(cfgRead(0, 0x60)).toBe(0x0101_0101); // DRB0..3 power-on value
    });

    it("tells the machine on reset that PAM is back to PCI", () => {
      cfgWrite(0, PAM0, 1, 0x30);
      pam.length = 0;
      pci.reset();
      expect(pam).toEqual([[0, 0]]);
    });
  });

  describe("ISA bridge 00:01.0", () => {
    it("is an Intel PIIX3 ISA bridge with its power-on register values", () => {
      expect(cfgRead(1, 0x00)).toBe(0x7000_8086);
      expect(cfgRead(1, 0x08) >>> 8).toBe(0x06_01_00);
      expect(cfgRead(1, PIRQRC)).toBe(0x8080_8080);
      expect(cfgRead(1, 0x4c, 1)).toBe(0x4d);
      expect(cfgRead(1, 0x4e, 1)).toBe(0x03);
      expect(cfgRead(1, 0x69, 1)).toBe(0x02);
    });

    it("routes PIRQA to the ISA IRQ programmed in PIRQRCA, and the IOAPIC input whatever the route", () => {
      const nic = new PinOnly(IntxPin.IntA);
      pci.attach(1, 1, nic); // slot 1 INTA#: PIRQA
      cfgWrite(1, PIRQRC, 1, 0x0b);
      expect(routes).toEqual([[0, 11]]);
      nic.config.intx.raise();
      expect(isaLine(11).level).toBe(true);
      expect(apic[0]!.level).toBe(true);
      nic.config.intx.lower();
      expect(isaLine(11).level).toBe(false);
      expect(apic[0]!.level).toBe(false);
    });

    it("moves an asserted PIRQ to its new IRQ when the route changes, and drops it when disabled", () => {
      const nic = new PinOnly(IntxPin.IntB); // slot 2 INTB#: PIRQC
      pci.attach(2, 0, nic);
      nic.config.intx.raise();
      cfgWrite(1, PIRQRC + 2, 1, 0x0b);
      expect(isaLine(11).level).toBe(true);
      cfgWrite(1, PIRQRC + 2, 1, 0x0a);
      expect(isaLine(11).level).toBe(false);
      expect(isaLine(10).level).toBe(true);
      cfgWrite(1, PIRQRC + 2, 1, 0x8a);
      expect(isaLine(10).level).toBe(false);
      expect(routes).toEqual([[2, 11], [2, 10], [2, undefined]]);
    });

    it("shares one IRQ between two PIRQs routed to it", () => {
      const a = new PinOnly(IntxPin.IntA), b = new PinOnly(IntxPin.IntA);
      pci.attach(2, 0, a); // PIRQB
      pci.attach(3, 0, b); // PIRQC
      cfgWrite(1, PIRQRC, 4, 0x800b_0b80);
      a.config.intx.raise();
      b.config.intx.raise();
      a.config.intx.lower();
      expect(isaLine(11).level).toBe(true);
      b.config.intx.lower();
      expect(isaLine(11).level).toBe(false);
    });

    it("does not route to the reserved IRQ values 0-2, 8 and 13", () => {
      for (const irq of [0, 1, 2, 8, 13]) expect(pirqRouteTarget(irq)).toBeUndefined();
      for (const irq of [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]) expect(pirqRouteTarget(irq)).toBe(irq);
      cfgWrite(1, PIRQRC, 1, 0x7d); // reserved bits 6:4 read back 0
      expect(cfgRead(1, PIRQRC, 1)).toBe(0x0d);
      expect(routes).toEqual([]);
    });

    it("disables every route on reset", () => {
      cfgWrite(1, PIRQRC, 1, 0x05);
      pci.reset();
      expect(cfgRead(1, PIRQRC)).toBe(0x8080_8080);
      expect(routes).toEqual([[0, 5], [0, undefined]]);
    });

    it("owns the Reset Control register at 0xCF9", () => {
      io.write(0xcf9, 1, 0x02);
      io.write(0xcf9, 1, 0x06);
      expect(resets).toEqual([true]);
      pci.reset();
      expect(io.read(0xcf9, 1)).toBe(0x00);
    });
  });

  it("lists both bridges like lspci", () => {
    expect(pci.listDevices().map((d) => `${d.address} ${d.classCode.toString(16)} ${d.name}`)).toEqual([
      "00:00.0 60000 i440FX", "00:01.0 60100 PIIX3",
    ]);
  });
});
