// The PCI core through the ports a guest uses: configuration mechanism #1 at 0xCF8/0xCFC (PCI 3.0
// §3.2.2.3.2) and ECAM, with real IoBus/MmioBus instances so BAR placement is seen where a CPU would see it.
import { beforeEach, describe, expect, it } from "vitest";
import type { AccessSize } from "../../src/devices/device";
import { PciBus, pirqForPin, type PciFunction } from "../../src/devices/pci";
import { BarKind, IntxPin, PciConfig, type MsiCapability, type MsixCapability } from "../../src/devices/pci-config";
import { Piix3ResetControl } from "../../src/devices/pci-lpc";
import { IoBus, MmioBus } from "../../src/machine/bus";
import { FakeIrq } from "./helpers";

// Register offsets and bits written out from the spec rather than imported from the model.
const VENDOR = 0x00, COMMAND = 0x04, STATUS = 0x06, CLASS_REV = 0x08, HEADER_TYPE = 0x0e;
const BAR0 = 0x10, BAR1 = 0x14, BAR2 = 0x18, BAR3 = 0x1c, ROM = 0x30, CAP_PTR = 0x34, INT_LINE = 0x3c;
const CMD_IO = 0x1, CMD_MEM = 0x2, CMD_MASTER = 0x4, CMD_INTX_DISABLE = 0x400;
const STS_INTERRUPT = 0x08, STS_CAP_LIST = 0x10, STS_RECEIVED_MASTER_ABORT = 0x2000;
const CAP_MSI = 0x05, CAP_MSIX = 0x11;
const ECAM_BASE = 0xb000_0000;

interface Access { bar: number; offset: number; size: number; value?: number }

/** A function with an I/O BAR, a 32-bit memory BAR, a 64-bit prefetchable BAR, a ROM, MSI and MSI-X. */
class TestFunction implements PciFunction {
  readonly config: PciConfig;
  readonly reads: Access[] = [];
  readonly writes: Access[] = [];
  readonly msi: MsiCapability;
  readonly msix: MsixCapability;
  resets = 0;

  constructor(deviceId = 0x1000, pin: IntxPin = IntxPin.IntA) {
    const c = new PciConfig({ vendorId: 0x1af4, deviceId, classCode: 0x02_00_00, revision: 1, interruptPin: pin });
    c.declareBar(0, { kind: BarKind.Io, size: 0x20 });
    c.declareBar(1, { kind: BarKind.Mem32, size: 0x1000 });
    c.declareBar(2, { kind: BarKind.Mem64, size: 0x4000, prefetchable: true });
    c.declareRom(0x8000);
    this.msi = c.addMsi({ vectors: 4, address64: true, perVectorMask: true });
    this.msix = c.addMsix({ vectors: 4, tableBar: 1, tableOffset: 0x800, pbaBar: 1, pbaOffset: 0xc00 });
    this.config = c;
  }

  barRead(bar: number, offset: number, size: AccessSize): number {
    this.reads.push({ bar, offset, size });
    return (0xb0 + bar) << 24 | offset;
  }

  barWrite(bar: number, offset: number, size: AccessSize, value: number): void {
    this.writes.push({ bar, offset, size, value });
  }

  reset(): void { this.resets++; }
}

describe("PciBus", () => {
  let io: IoBus;
  let mmio: MmioBus;
  let pci: PciBus;
  let messages: Array<[number, number]>;
  let warnings: string[];
  let pirq: FakeIrq[];
  let resets: boolean[];
  let dev: TestFunction;

  const address = (slot: number, fn: number, reg: number) => (0x8000_0000 | (slot << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
  function cfgRead(slot: number, fn: number, reg: number, size: AccessSize = 4): number {
    io.write(0xcf8, 4, address(slot, fn, reg));
    return io.read(0xcfc + (reg & 3), size);
  }
  function cfgWrite(slot: number, fn: number, reg: number, size: AccessSize, value: number): void {
    io.write(0xcf8, 4, address(slot, fn, reg));
    io.write(0xcfc + (reg & 3), size, value);
  }
  /** Walk the capability list from the Capabilities Pointer (PCI 3.0 §6.7). */
  function findCapability(slot: number, id: number): number | undefined {
    let at = cfgRead(slot, 0, CAP_PTR, 1);
    for (let hops = 0; at !== 0 && hops < 48; hops++) {
      if (cfgRead(slot, 0, at, 1) === id) return at;
      at = cfgRead(slot, 0, at + 1, 1);
    }
    return undefined;
  }

  beforeEach(() => {
    io = new IoBus();
    mmio = new MmioBus();
    messages = [];
    warnings = [];
    resets = [];
    pirq = [new FakeIrq(), new FakeIrq(), new FakeIrq(), new FakeIrq()];
    pci = new PciBus({
      io, mmio, pirq,
      msiSink: (a, d) => messages.push([a, d]),
      resetControl: new Piix3ResetControl((hard) => resets.push(hard)),
      onWarning: (m) => warnings.push(m),
    });
    io.insert(pci.configAddress, 0xcf8, 4, "pci-config-address");
    io.insert(pci.configData, 0xcfc, 4, "pci-config-data");
    mmio.insert(pci.ecam(1), ECAM_BASE, 1 << 20, "pci-ecam");
    dev = new TestFunction();
    pci.attach(3, 0, dev, "test-nic");
  });

  describe("configuration mechanism #1", () => {
    it("reads vendor, device, class and revision of an attached function", () => {
      expect(cfgRead(3, 0, VENDOR)).toBe(0x1000_1af4);
      expect(cfgRead(3, 0, CLASS_REV)).toBe(0x0200_0001);
    });

    it("reads all ones from an empty slot, an absent function, another bus and with the enable bit clear", () => {
      expect(cfgRead(4, 0, VENDOR)).toBe(0xffff_ffff);
      expect(cfgRead(3, 1, VENDOR)).toBe(0xffff_ffff);
      io.write(0xcf8, 4, (0x8001_0000 | (3 << 11)) >>> 0);
      expect(io.read(0xcfc, 4)).toBe(0xffff_ffff);
      io.write(0xcf8, 4, 3 << 11);
      expect(io.read(0xcfc, 2)).toBe(0xffff);
    });

    it("keeps CONFIG_ADDRESS on dword writes only, with bits 1:0 reading 0 (Linux's type 1 probe)", () => {
      io.write(0xcf8, 4, 0x8000_0000);
      io.write(0xcfb, 1, 0x01);
      expect(io.read(0xcf8, 4)).toBe(0x8000_0000);
      io.write(0xcf8, 4, 0x8000_1807);
      expect(io.read(0xcf8, 4)).toBe(0x8000_1804);
      expect(io.read(0xcf8, 1)).toBe(0xff);
    });

    it("does byte and word accesses at every offset of CONFIG_DATA", () => {
      expect(cfgRead(3, 0, 0x02, 2)).toBe(0x1000);
      expect(cfgRead(3, 0, 0x0b, 1)).toBe(0x02);
      expect(cfgRead(3, 0, 0x01, 2)).toBe(0x001a);
      cfgWrite(3, 0, INT_LINE, 1, 0x0b);
      cfgWrite(3, 0, 0x0d, 1, 0x40); // latency timer
      expect(cfgRead(3, 0, 0x0c, 4) & 0xff00).toBe(0x4000);
      expect(cfgRead(3, 0, INT_LINE, 2)).toBe(0x010b); // pin INTA# above the line
    });

    it("ignores writes to read-only fields", () => {
      cfgWrite(3, 0, VENDOR, 4, 0x1234_5678);
      cfgWrite(3, 0, 0x3d, 1, 0x04);
      expect(cfgRead(3, 0, VENDOR)).toBe(0x1000_1af4);
      expect(cfgRead(3, 0, 0x3d, 1)).toBe(0x01);
    });

    it("clears status error bits by writing ones and leaves the others", () => {
      dev.config.setStatus(STS_RECEIVED_MASTER_ABORT, true);
      expect(cfgRead(3, 0, STATUS, 2) & STS_RECEIVED_MASTER_ABORT).toBeTruthy();
      cfgWrite(3, 0, STATUS, 2, 0xffff);
      expect(cfgRead(3, 0, STATUS, 2)).toBe(STS_CAP_LIST);
    });

    it("sets the multi-function bit of function 0 when function 1 is attached", () => {
      expect(cfgRead(3, 0, HEADER_TYPE, 1)).toBe(0x00);
      pci.attach(3, 1, new TestFunction(0x1001));
      expect(cfgRead(3, 0, HEADER_TYPE, 1)).toBe(0x80);
      expect(cfgRead(3, 1, VENDOR)).toBe(0x1001_1af4);
    });
  });

  describe("ECAM", () => {
    const ecam = (slot: number, fn: number, reg: number) => ECAM_BASE + (slot << 15) + (fn << 12) + reg;

    it("sees the same config space as CF8/CFC", () => {
      expect(mmio.read(ecam(3, 0, VENDOR), 4)).toBe(0x1000_1af4);
      mmio.write(ecam(3, 0, INT_LINE), 1, 0x0a);
      expect(cfgRead(3, 0, INT_LINE, 1)).toBe(0x0a);
      cfgWrite(3, 0, COMMAND, 2, CMD_IO);
      expect(mmio.read(ecam(3, 0, COMMAND), 2)).toBe(CMD_IO);
    });

    it("reads all ones past 0xFF of a conventional function and from absent functions", () => {
      expect(mmio.read(ecam(3, 0, 0x100), 4)).toBe(0xffff_ffff);
      expect(mmio.read(ecam(5, 2, VENDOR), 4)).toBe(0xffff_ffff);
    });

    it("moves BARs when they are programmed through ECAM", () => {
      mmio.write(ecam(3, 0, BAR0), 4, 0xc000);
      mmio.write(ecam(3, 0, COMMAND), 2, CMD_IO);
      io.read(0xc004, 2);
      expect(dev.reads).toEqual([{ bar: 0, offset: 4, size: 2 }]);
    });
  });

  describe("BARs", () => {
    it("return their size mask with the type bits after all ones are written", () => {
      for (const reg of [BAR0, BAR1, BAR2, BAR3, ROM]) cfgWrite(3, 0, reg, 4, 0xffff_ffff);
      expect(cfgRead(3, 0, BAR0)).toBe(0xffff_ffe1); // 32 bytes of I/O
      expect(cfgRead(3, 0, BAR1)).toBe(0xffff_f000); // 4 KiB, 32-bit, not prefetchable
      expect(cfgRead(3, 0, BAR2)).toBe(0xffff_c00c); // 16 KiB, 64-bit, prefetchable
      expect(cfgRead(3, 0, BAR3)).toBe(0xffff_ffff); // upper half of the 64-bit BAR
      expect(cfgRead(3, 0, ROM)).toBe(0xffff_8001); // 32 KiB ROM with its enable bit
      expect(cfgRead(3, 0, 0x24)).toBe(0); // undeclared BAR5 is read-only 0
    });

    it("decode at the programmed address once COMMAND enables the space", () => {
      cfgWrite(3, 0, BAR1, 4, 0xfeb0_0000);
      expect(mmio.read(0xfeb0_0010, 4)).toBe(0xffff_ffff);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM);
      expect(mmio.read(0xfeb0_0010, 4)).toBe((0xb1 << 24 | 0x10) >>> 0);
      mmio.write(0xfeb0_0ff0, 2, 0xbeef);
      expect(dev.writes).toEqual([{ bar: 1, offset: 0xff0, size: 2, value: 0xbeef }]);
    });

    it("move: the old address stops decoding and the new one starts", () => {
      cfgWrite(3, 0, BAR1, 4, 0xfeb0_0000);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM);
      cfgWrite(3, 0, BAR1, 4, 0xfeb1_0000);
      expect(mmio.read(0xfeb0_0000, 4)).toBe(0xffff_ffff);
      expect(mmio.read(0xfeb1_0004, 4)).toBe((0xb1 << 24 | 4) >>> 0);
      expect(dev.reads).toHaveLength(1);
    });

    it("unmap when COMMAND.MEM or COMMAND.IO is cleared, and map again when set", () => {
      cfgWrite(3, 0, BAR0, 4, 0xc001);
      cfgWrite(3, 0, BAR1, 4, 0xfeb0_0000);
      cfgWrite(3, 0, COMMAND, 2, CMD_IO | CMD_MEM);
      cfgWrite(3, 0, COMMAND, 2, CMD_IO);
      expect(mmio.read(0xfeb0_0000, 4)).toBe(0xffff_ffff);
      expect(io.read(0xc004, 1)).toBe(0x04);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM);
      expect(io.read(0xc004, 1)).toBe(0xff);
      expect(mmio.read(0xfeb0_0000, 4)).toBe(0xb100_0000);
    });

    it("place a 64-bit BAR below 4 GiB and leave it unmapped while its upper half is set", () => {
      cfgWrite(3, 0, BAR2, 4, 0xfe00_0000);
      cfgWrite(3, 0, BAR3, 4, 0x1);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM);
      expect(mmio.read(0xfe00_0000, 4)).toBe(0xffff_ffff);
      expect(pci.listDevices()[0]!.bars.find((b) => b.index === 2)!.base).toBeUndefined();
      cfgWrite(3, 0, BAR3, 4, 0);
      expect(mmio.read(0xfe00_0008, 4)).toBe((0xb2 << 24 | 8) >>> 0);
      expect(cfgRead(3, 0, BAR2)).toBe(0xfe00_000c);
    });

    it("are not placed at the all-ones sizing pattern while decode is enabled", () => {
      cfgWrite(3, 0, COMMAND, 2, CMD_IO | CMD_MEM);
      cfgWrite(3, 0, BAR1, 4, 0xffff_ffff);
      cfgWrite(3, 0, BAR0, 4, 0xffff_ffff);
      expect(mmio.list().length).toBe(1); // only the ECAM window
      expect(pci.barConflicts).toBe(0);
    });

    it("map the expansion ROM only while its enable bit and COMMAND.MEM are set", () => {
      cfgWrite(3, 0, ROM, 4, 0xfeb8_0000);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM);
      expect(mmio.read(0xfeb8_0000, 1)).toBe(0xff);
      cfgWrite(3, 0, ROM, 4, 0xfeb8_0001);
      mmio.read(0xfeb8_0002, 2);
      expect(dev.reads).toEqual([{ bar: 6, offset: 2, size: 2 }]);
    });

    it("moved onto another device's range is refused without throwing and placed once the range is free", () => {
      const other = new TestFunction(0x1002);
      pci.attach(4, 0, other, "other");
      cfgWrite(4, 0, BAR1, 4, 0xfeb0_0000);
      cfgWrite(4, 0, COMMAND, 2, CMD_MEM);
      cfgWrite(3, 0, BAR1, 4, 0xfea0_0000);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM);
      expect(() => cfgWrite(3, 0, BAR1, 4, 0xfeb0_0000)).not.toThrow();
      expect(pci.barConflicts).toBe(1);
      expect(warnings[0]).toMatch(/00:03\.0 test-nic BAR1 left unmapped/);
      mmio.read(0xfeb0_0000, 4);
      expect(other.reads).toHaveLength(1);
      expect(dev.reads).toHaveLength(0);
      expect(mmio.read(0xfea0_0000, 4)).toBe(0xffff_ffff); // the old range was released
      cfgWrite(4, 0, BAR1, 4, 0xfec0_0000);
      mmio.read(0xfeb0_0000, 4);
      expect(dev.reads).toHaveLength(1);
    });

    it("over a fixed device on the I/O bus is refused too", () => {
      io.insert({ read: () => 0x55, write: () => {} }, 0x3f8, 8, "com1");
      cfgWrite(3, 0, BAR0, 4, 0x3e0);
      cfgWrite(3, 0, COMMAND, 2, CMD_IO);
      expect(pci.barConflicts).toBe(1);
      expect(io.read(0x3f8, 1)).toBe(0x55);
    });
  });

  describe("capabilities and MSI", () => {
    it("the capability list walk from 0x34 finds MSI and MSI-X", () => {
      expect(cfgRead(3, 0, STATUS, 2) & STS_CAP_LIST).toBe(STS_CAP_LIST);
      expect(findCapability(3, CAP_MSI)).toBe(dev.msi.offset);
      expect(findCapability(3, CAP_MSIX)).toBe(dev.msix.offset);
      expect(findCapability(3, 0x10)).toBeUndefined();
    });

    function enableMsi(vectorsLog2 = 0): number {
      const cap = findCapability(3, CAP_MSI)!;
      cfgWrite(3, 0, cap + 4, 4, 0xfee0_1000);
      cfgWrite(3, 0, cap + 8, 4, 0);
      cfgWrite(3, 0, cap + 0x0c, 2, 0x4041);
      cfgWrite(3, 0, cap + 2, 2, 1 | (vectorsLog2 << 4));
      cfgWrite(3, 0, COMMAND, 2, CMD_MASTER);
      return cap;
    }

    it("reports its layout in Message Control: 4 vectors capable, 64-bit, per-vector masking", () => {
      const cap = findCapability(3, CAP_MSI)!;
      expect(cfgRead(3, 0, cap + 2, 2)).toBe(0x0184);
    });

    it("enable and trigger calls the sink with the programmed address and data", () => {
      enableMsi();
      expect(dev.msi.notify(0)).toBe(true);
      expect(messages).toEqual([[0xfee0_1000, 0x4041]]);
      expect(dev.msi.notify(1)).toBe(false); // only one vector allocated
    });

    it("puts the vector number in the low data bits when several vectors are enabled", () => {
      enableMsi(2);
      dev.msi.notify(3);
      expect(messages).toEqual([[0xfee0_1000, 0x4043]]);
    });

    it("sends nothing while disabled or without bus mastering", () => {
      expect(dev.msi.notify(0)).toBe(false);
      enableMsi();
      cfgWrite(3, 0, COMMAND, 2, 0);
      expect(dev.msi.notify(0)).toBe(false);
      expect(messages).toEqual([]);
    });

    it("holds a masked vector pending and sends it when unmasked", () => {
      const cap = enableMsi();
      cfgWrite(3, 0, cap + 0x10, 4, 0b1);
      dev.msi.notify(0);
      expect(messages).toEqual([]);
      expect(cfgRead(3, 0, cap + 0x14)).toBe(0b1);
      cfgWrite(3, 0, cap + 0x10, 4, 0);
      expect(messages).toEqual([[0xfee0_1000, 0x4041]]);
      expect(cfgRead(3, 0, cap + 0x14)).toBe(0);
    });

    it("enabling MSI takes the function off its INTx# line", () => {
      dev.config.intx.raise();
      expect(pirq[pirqForPin(3, IntxPin.IntA)]!.level).toBe(true);
      enableMsi();
      expect(pirq[pirqForPin(3, IntxPin.IntA)]!.level).toBe(false);
    });

    it("MSI-X: a table entry written through the BAR is sent once enabled and unmasked", () => {
      const cap = findCapability(3, CAP_MSIX)!;
      expect(cfgRead(3, 0, cap + 2, 2)).toBe(3); // table size 4, encoded N-1
      expect(cfgRead(3, 0, cap + 4)).toBe(0x0000_0801); // table at BAR1 + 0x800
      expect(cfgRead(3, 0, cap + 8)).toBe(0x0000_0c01); // PBA at BAR1 + 0xC00
      cfgWrite(3, 0, BAR1, 4, 0xfeb0_0000);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM | CMD_MASTER);
      cfgWrite(3, 0, cap + 2, 2, 0x8000);
      mmio.write(0xfeb0_0810, 4, 0xfee0_2000);
      mmio.write(0xfeb0_0818, 4, 0x0051);
      expect(mmio.read(0xfeb0_081c, 4)).toBe(1); // masked at reset
      expect(dev.msix.notify(1)).toBe(false);
      expect(mmio.read(0xfeb0_0c00, 4)).toBe(0b10); // pending in the PBA
      mmio.write(0xfeb0_081c, 4, 0);
      expect(messages).toEqual([[0xfee0_2000, 0x51]]);
      expect(mmio.read(0xfeb0_0c00, 4)).toBe(0);
      dev.msix.notify(1);
      expect(messages).toHaveLength(2);
      expect(dev.reads).toEqual([]); // the table and PBA never reach the device
    });

    it("MSI-X: the function mask holds every vector pending", () => {
      const cap = findCapability(3, CAP_MSIX)!;
      cfgWrite(3, 0, COMMAND, 2, CMD_MASTER);
      cfgWrite(3, 0, cap + 2, 2, 0xc000);
      dev.msix.tableWrite(0x0c, 4, 0);
      dev.msix.notify(0);
      expect(messages).toEqual([]);
      cfgWrite(3, 0, cap + 2, 2, 0x8000);
      expect(messages).toEqual([[0, 0]]);
    });
  });

  describe("INTx", () => {
    it("swizzles slots 1-4, pins A-D onto PIRQA-D as (slot + pin - 1) mod 4", () => {
      const expected = [[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2]];
      for (let slot = 1; slot <= 4; slot++) {
        for (let pin = IntxPin.IntA; pin <= IntxPin.IntD; pin++) {
          const io2 = new IoBus(), lines = [new FakeIrq(), new FakeIrq(), new FakeIrq(), new FakeIrq()];
          const bus = new PciBus({ io: io2, mmio: new MmioBus(), pirq: lines, msiSink: () => {} });
          const f = new TestFunction(0x1000, pin);
          bus.attach(slot, 0, f);
          f.config.intx.raise();
          expect(lines.map((l) => l.level).indexOf(true)).toBe(expected[slot - 1]![pin - 1]);
          expect(bus.listDevices()[0]!.pirq).toBe(expected[slot - 1]![pin - 1]);
        }
      }
    });

    it("wire-ORs functions sharing a PIRQ", () => {
      const other = new TestFunction(0x1002);
      pci.attach(7, 0, other); // slot 7 INTA# and slot 3 INTA# both land on PIRQC
      const line = pirq[2]!;
      dev.config.intx.raise();
      other.config.intx.raise();
      dev.config.intx.lower();
      expect(line.level).toBe(true);
      other.config.intx.lower();
      expect(line.level).toBe(false);
      expect(line.raised).toBe(1);
    });

    it("Interrupt Disable masks the pin while Interrupt Status still shows it", () => {
      const line = pirq[pirqForPin(3, IntxPin.IntA)]!;
      cfgWrite(3, 0, COMMAND, 2, CMD_INTX_DISABLE);
      dev.config.intx.raise();
      expect(line.level).toBe(false);
      expect(cfgRead(3, 0, STATUS, 2) & STS_INTERRUPT).toBe(STS_INTERRUPT);
      cfgWrite(3, 0, COMMAND, 2, 0);
      expect(line.level).toBe(true);
    });
  });

  describe("reset and listing", () => {
    it("0xCF9 requests a hard reset with SRST set and a soft one without", () => {
      io.write(0xcf9, 1, 0x02);
      expect(io.read(0xcf9, 1)).toBe(0x02);
      expect(resets).toEqual([]);
      io.write(0xcf9, 1, 0x06);
      io.write(0xcf9, 1, 0x04);
      expect(resets).toEqual([true, false]);
      io.write(0xcf8, 4, 0x8000_0604); // a dword at 0xCF8 is CONFIG_ADDRESS, not the reset register
      expect(resets).toHaveLength(2);
    });

    it("a bus reset restores config space, unmaps BARs, drops INTx and resets the device", () => {
      cfgWrite(3, 0, BAR1, 4, 0xfeb0_0000);
      cfgWrite(3, 0, COMMAND, 2, CMD_MEM);
      cfgWrite(3, 0, INT_LINE, 1, 11);
      dev.config.intx.raise();
      pci.reset();
      expect(mmio.read(0xfeb0_0000, 4)).toBe(0xffff_ffff);
      expect(cfgRead(3, 0, COMMAND, 2)).toBe(0);
      expect(cfgRead(3, 0, BAR1)).toBe(0);
      expect(cfgRead(3, 0, INT_LINE, 1)).toBe(0);
      expect(pirq.some((l) => l.level)).toBe(false);
      expect(dev.resets).toBe(1);
    });

    it("lists functions with IDs, class, interrupt routing and decoded BARs", () => {
      cfgWrite(3, 0, BAR0, 4, 0xc000);
      cfgWrite(3, 0, COMMAND, 2, CMD_IO);
      const [info] = pci.listDevices();
      expect(info).toMatchObject({
        address: "00:03.0", name: "test-nic", vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000,
        interruptPin: IntxPin.IntA, pirq: 2,
      });
      expect(info!.bars.map((b) => [b.index, b.size, b.base])).toEqual([
        [0, 0x20, 0xc000], [1, 0x1000, undefined], [2, 0x4000, undefined], [6, 0x8000, undefined],
      ]);
    });

    it("refuses to attach two functions at one address, naming the occupant", () => {
      expect(() => pci.attach(3, 0, new TestFunction())).toThrow(/00:03\.0 is taken by test-nic/);
    });

    it("refuses impossible BAR declarations when a device is built", () => {
      const c = new PciConfig({ vendorId: 1, deviceId: 2, classCode: 0 });
      expect(() => c.declareBar(0, { kind: BarKind.Mem32, size: 0x3000 })).toThrow(/power of two/);
      expect(() => c.declareBar(5, { kind: BarKind.Mem64, size: 0x1000 })).toThrow(/BAR 5/);
    });
  });
});
