// The AHCI HBA driven as Linux's libahci drives it: through the ABAR registers (BAR5), with command lists,
// command tables, PRDTs and the received-FIS area in guest RAM (AHCI 1.3.1 §4.2), and ATA disks behind it.
import { beforeEach, describe, expect, it } from "vitest";
import { AhciHba } from "../../src/devices/ahci/hba";
import { AtaDisk } from "../../src/devices/ahci/ata";
import { AtapiCdrom } from "../../src/devices/ahci/atapi";
import { MemoryBlockBackend, type BlockBackend } from "../../src/block/backend";
import { GuestMemory } from "../../src/machine/dma";
import { CpuHarness } from "../../src/machine/harness";
import { loadCoreModule } from "../../src/node/core-module";

// Register offsets and bits written out from the spec rather than imported from the model.
const CAP = 0x00, GHC = 0x04, IS = 0x08, PI = 0x0c, VS = 0x10;
const GHC_HR = 1, GHC_IE = 2, GHC_AE = 0x8000_0000;
const P_CLB = 0x00, P_FB = 0x08, P_IS = 0x10, P_IE = 0x14, P_CMD = 0x18, P_TFD = 0x20, P_SIG = 0x24;
const P_SSTS = 0x28, P_SCTL = 0x2c, P_SACT = 0x34, P_CI = 0x38;
const CMD_ST = 1 << 0, CMD_FRE = 1 << 4, CMD_FR = 1 << 14, CMD_CR = 1 << 15;
const IS_DHRS = 1 << 0, IS_PSS = 1 << 1, IS_SDBS = 1 << 3, IS_OFS = 1 << 24, IS_HBFS = 1 << 29, IS_TFES = 1 << 30;
const STS_ERR = 0x01, STS_DRDY = 0x40, ERR_ABRT = 0x04;
const PCI_COMMAND = 0x04, PCI_MEM = 0x2, PCI_MASTER = 0x4;
const RAM = 4 << 20;
const DATA = 0x10_0000;

interface H2d { lba?: number; count?: number; features?: number; device?: number; control?: number; command?: boolean }

/** A Register H2D FIS (SATA 2.6 §10.3.4). */
function h2d(cmd: number, o: H2d = {}): number[] {
  const f = new Array<number>(20).fill(0);
  const lba = o.lba ?? 0, count = o.count ?? 0, features = o.features ?? 0;
  f[0] = 0x27; f[1] = o.command === false ? 0 : 0x80; f[2] = cmd; f[3] = features & 0xff;
  f[4] = lba & 0xff; f[5] = (lba >>> 8) & 0xff; f[6] = (lba >>> 16) & 0xff; f[7] = o.device ?? 0x40;
  const hi = Math.floor(lba / 2 ** 24);
  f[8] = hi & 0xff; f[9] = (hi >>> 8) & 0xff; f[10] = (hi >>> 16) & 0xff; f[11] = features >>> 8;
  f[12] = count & 0xff; f[13] = count >>> 8; f[15] = o.control ?? 0;
  return f;
}

/** A driver's view of the HBA: guest RAM from a CPU harness, registers through BAR5. */
class Driver {
  readonly h = new CpuHarness(loadCoreModule(), RAM);
  readonly mem = new GuestMemory(this.h.core);
  readonly hba: AhciHba;
  intx = false;
  readonly msis: Array<[number, number]> = [];
  wakes = 0;

  constructor(devices: Array<AtaDisk | AtapiCdrom | undefined>) {
    this.hba = new AhciHba({ memory: this.mem, devices, wake: () => this.wakes++ });
    this.hba.config.attach({ intx: (a) => { this.intx = a; }, msi: (a, d) => { this.msis.push([a, d]); } });
    this.hba.config.write(PCI_COMMAND, 2, PCI_MEM | PCI_MASTER);
  }

  r(off: number): number { return this.hba.barRead(5, off, 4); }
  w(off: number, v: number): void { this.hba.barWrite(5, off, 4, v >>> 0); }
  pr(p: number, reg: number): number { return this.r(0x100 + p * 0x80 + reg); }
  pw(p: number, reg: number, v: number): void { this.w(0x100 + p * 0x80 + reg, v); }
  clb(p: number): number { return 0x1_0000 + p * 0x1000; }
  fb(p: number): number { return this.clb(p) + 0x400; }
  table(p: number, slot: number): number { return 0x4_0000 + p * 0x8000 + slot * 0x400; }

  /** ahci_port_start + ahci_start_engine: command list, FIS area, FRE, ST, and every interrupt enabled. */
  start(p: number): void {
    this.w(GHC, GHC_AE | GHC_IE);
    this.pw(p, P_CLB, this.clb(p));
    this.pw(p, P_FB, this.fb(p));
    this.pw(p, P_CMD, CMD_FRE);
    this.pw(p, P_CMD, CMD_FRE | CMD_ST);
    this.pw(p, P_IE, 0xfdc0_00ff);
  }

  /** Build command header `slot` and its table: CFIS, ACMD and a PRDT of [address, bytes] entries. */
  prepare(p: number, slot: number, fis: number[], prdt: Array<[number, number]> = [], acmd?: number[]): void {
    const t = this.table(p, slot);
    const hdr = new DataView(new ArrayBuffer(32));
    hdr.setUint32(0, 5 | (acmd ? 1 << 5 : 0) | (prdt.length << 16), true);
    hdr.setUint32(8, t, true);
    this.h.writeMem(this.clb(p) + slot * 32, new Uint8Array(hdr.buffer));
    const cfis = new Uint8Array(64);
    cfis.set(fis);
    this.h.writeMem(t, cfis);
    const packet = new Uint8Array(16);
    if (acmd) packet.set(acmd);
    this.h.writeMem(t + 0x40, packet);
    const entries = new DataView(new ArrayBuffer(16 * prdt.length));
    prdt.forEach(([addr, bytes], i) => {
      entries.setUint32(16 * i, addr, true);
      entries.setUint32(16 * i + 12, (bytes - 1) & 0x3f_ffff, true);
    });
    if (prdt.length) this.h.writeMem(t + 0x80, new Uint8Array(entries.buffer));
  }

  issue(p: number, slots: number): void { this.pw(p, P_CI, slots); }

  /** Build, issue and wait for a command in slot 0. */
  async run(p: number, fis: number[], prdt: Array<[number, number]> = [], acmd?: number[]): Promise<void> {
    this.prepare(p, 0, fis, prdt, acmd);
    this.issue(p, 1);
    await settle();
  }

  prdbc(p: number, slot: number): number { return new DataView(this.h.readMem(this.clb(p) + slot * 32 + 4, 4).buffer).getUint32(0, true); }
  rfis(p: number, offset: number, length: number): Uint8Array { return this.h.readMem(this.fb(p) + offset, length); }
  words(addr: number): Uint16Array { return new Uint16Array(this.h.readMem(addr, 512).buffer); }
  ackAll(p: number): void { this.pw(p, P_IS, 0xffff_ffff); this.w(IS, 0xffff_ffff); }
}

/** Let promise chains of the backends and the port run, as the machine does between CPU slices. */
async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await new Promise<void>((r) => setImmediate(r));
}

function pattern(bytes: number, seed = 1): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 7 + seed * 13 + (i >>> 9)) & 0xff;
  return out;
}

/** A backend whose requests wait until the test lets them go, to complete queued commands out of order. */
class GatedBackend extends MemoryBlockBackend {
  readonly gates: Array<() => void> = [];
  flushes = 0;
  discards: Array<[number, number]> = [];
  gated = false;
  override async read(offset: number, into: Uint8Array): Promise<void> {
    if (this.gated) await new Promise<void>((r) => this.gates.push(r));
    return super.read(offset, into);
  }
  override async flush(): Promise<void> { this.flushes++; }
  override async discard(offset: number, length: number): Promise<void> {
    this.discards.push([offset, length]);
    return super.discard(offset, length);
  }
}

describe("AHCI HBA registers", () => {
  let d: Driver;
  beforeEach(() => { d = new Driver([new AtaDisk(new MemoryBlockBackend(1 << 20)), new AtapiCdrom()]); });

  it("is an ICH9 AHCI function with class 01/06/01, an 8 KiB ABAR in BAR5, INTA and MSI", () => {
    const c = d.hba.config;
    expect([c.vendorId, c.deviceId, c.classCode]).toEqual([0x8086, 0x2922, 0x010601]);
    expect(c.bars[5]?.size).toBe(0x2000);
    expect(c.interruptPin).toBe(1);
    expect(c.msi).toBeDefined();
  });

  it("reports 64-bit, NCQ, CLO, AHCI-only, 32 slots and six ports in CAP, with PI and VS 1.3", () => {
    const cap = d.r(CAP);
    expect(cap & 0x1f).toBe(5);
    expect((cap >>> 8) & 0x1f).toBe(31);
    expect(cap >>> 31).toBe(1);
    expect((cap >>> 30) & 1).toBe(1);
    expect((cap >>> 24) & 1).toBe(1);
    expect((cap >>> 18) & 1).toBe(1);
    expect(d.r(PI)).toBe(0x3f);
    expect(d.r(VS)).toBe(0x0001_0300);
    expect(d.r(GHC) >>> 0).toBe(GHC_AE);
  });

  it("shows each device's signature and a live link after reset, and an empty port as absent", () => {
    expect(d.pr(0, P_SIG)).toBe(0x0000_0101);
    expect(d.pr(1, P_SIG)).toBe(0xeb14_0101);
    expect(d.pr(0, P_SSTS)).toBe(0x113);
    expect(d.pr(0, P_TFD)).toBe(0x150);
    expect(d.pr(2, P_SIG)).toBe(0xffff_ffff);
    expect(d.pr(2, P_SSTS)).toBe(0);
    expect(d.pr(2, P_TFD)).toBe(0x7f);
  });

  it("follows FRE with FR and ST with CR, and clears both when stopped", () => {
    d.pw(0, P_CMD, CMD_FRE | CMD_ST);
    expect(d.pr(0, P_CMD) & (CMD_FR | CMD_CR)).toBe(CMD_FR | CMD_CR);
    d.pw(0, P_CMD, 0);
    expect(d.pr(0, P_CMD) & (CMD_FR | CMD_CR | CMD_ST)).toBe(0);
  });

  it("resets GHC.IE, IS and the ports on GHC.HR, and HR reads back 0", () => {
    d.start(0);
    d.w(GHC, GHC_AE | GHC_IE | GHC_HR);
    expect(d.r(GHC) >>> 0).toBe(GHC_AE);
    expect(d.pr(0, P_CMD) & CMD_ST).toBe(0);
    expect(d.pr(0, P_CLB)).toBe(0);
    expect(d.pr(0, P_SIG)).toBe(0x101);
  });

  it("performs a COMRESET through PxSCTL.DET and posts the signature FIS", () => {
    d.start(1);
    d.pw(1, P_SCTL, 0x301);
    expect(d.pr(1, P_SSTS) & 0xf).toBe(0);
    expect(d.pr(1, P_TFD)).toBe(0x7f);
    expect(d.pr(1, P_SIG)).toBe(0xffff_ffff);
    d.pw(1, P_SCTL, 0x300);
    expect(d.pr(1, P_SSTS)).toBe(0x113);
    expect(d.pr(1, P_SIG)).toBe(0xeb14_0101);
    const fis = d.rfis(1, 0x40, 20);
    expect([fis[0], fis[4], fis[5], fis[6], fis[12]]).toEqual([0x34, 0x01, 0x14, 0xeb, 0x01]);
  });

  it("ignores PxCI while the port is stopped", async () => {
    d.pw(0, P_CLB, d.clb(0));
    d.prepare(0, 0, h2d(0xec), [[DATA, 512]]);
    d.issue(0, 1);
    await settle();
    expect(d.pr(0, P_CI)).toBe(0);
    expect(d.h.readMem(DATA, 2)).toEqual(new Uint8Array(2));
  });
});

describe("AHCI with an ATA disk", () => {
  const SECTORS = 2048;
  let backend: GatedBackend;
  let d: Driver;
  beforeEach(() => {
    backend = new GatedBackend(pattern(SECTORS * 512), false, "disk-serial-0042");
    d = new Driver([new AtaDisk(backend)]);
    d.start(0);
  });

  it("answers IDENTIFY DEVICE per ATA8-ACS, ending with a PIO Setup FIS", async () => {
    await d.run(0, h2d(0xec), [[DATA, 512]]);
    const w = d.words(DATA);
    const text = (first: number, n: number) => Array.from(w.subarray(first, first + n), (x) => String.fromCharCode(x >> 8, x & 0xff)).join("").trim();
    expect(text(27, 20)).toBe("WASMPC HARDDISK");
    expect(text(10, 10)).toBe("disk-serial-0042");
    expect(w[49]! & 0x0300).toBe(0x0300);                     // LBA and DMA
    expect(w[60]! | (w[61]! << 16)).toBe(SECTORS);            // LBA28 capacity
    expect(w[75]! & 0x1f).toBe(31);                           // queue depth 32
    expect(w[76]! & 0x0100).toBe(0x0100);                     // NCQ
    expect(w[83]! & 0x0400).toBe(0x0400);                     // 48-bit
    expect(w[100]! + w[101]! * 0x10000 + w[102]! * 2 ** 32).toBe(SECTORS);
    expect(w[82]! & 0x20).toBe(0x20);                         // write cache supported
    expect(w[85]! & 0x20).toBe(0x20);                         // and enabled
    expect(w[169]! & 1).toBe(1);                              // TRIM
    expect(w[255]! & 0xff).toBe(0xa5);
    expect(d.h.readMem(DATA, 512).reduce((a, b) => a + b, 0) & 0xff).toBe(0);
    expect(d.pr(0, P_CI)).toBe(0);
    expect(d.prdbc(0, 0)).toBe(512);
    const pio = d.rfis(0, 0x20, 20);
    expect(pio[0]).toBe(0x5f);
    expect(pio[15]).toBe(0x50);                               // E_Status
    expect(d.pr(0, P_IS) & IS_PSS).toBe(IS_PSS);
    expect(d.pr(0, P_TFD)).toBe(0x50);
  });

  it("raises INTx through PxIS, PxIE and GHC.IE, and drops it when software clears PxIS and IS", async () => {
    await d.run(0, h2d(0xec), [[DATA, 512]]);
    expect(d.r(IS)).toBe(1);
    expect(d.intx).toBe(true);
    expect(d.wakes).toBeGreaterThan(0);
    d.w(IS, 1);
    expect(d.r(IS)).toBe(1);                                  // the port still asks
    d.pw(0, P_IS, 0xffff_ffff);
    d.w(IS, 1);
    expect(d.r(IS)).toBe(0);
    expect(d.intx).toBe(false);
  });

  it("keeps INTx low with GHC.IE clear and sends an MSI message instead of INTx when MSI is on", async () => {
    d.w(GHC, GHC_AE);
    await d.run(0, h2d(0xec), [[DATA, 512]]);
    expect(d.intx).toBe(false);
    d.ackAll(0);
    d.w(GHC, GHC_AE | GHC_IE);
    const msi = d.hba.config.msi!;
    d.hba.config.write(msi.offset + 4, 4, 0xfee0_0000);
    d.hba.config.write(msi.offset + 12, 2, 0x0041);
    d.hba.config.write(msi.offset + 2, 2, 1);
    await d.run(0, h2d(0xec), [[DATA, 512]]);
    expect(d.msis).toEqual([[0xfee0_0000, 0x41]]);
    expect(d.intx).toBe(false);
  });

  it("reads with READ DMA EXT through a scattered PRDT and ends with a D2H FIS", async () => {
    await d.run(0, h2d(0x25, { lba: 100, count: 3 }), [[DATA, 1000], [DATA + 0x2000, 24], [DATA + 0x4000, 512]]);
    const want = backend.data.subarray(100 * 512, 103 * 512);
    expect(d.h.readMem(DATA, 1000)).toEqual(want.subarray(0, 1000));
    expect(d.h.readMem(DATA + 0x2000, 24)).toEqual(want.subarray(1000, 1024));
    expect(d.h.readMem(DATA + 0x4000, 512)).toEqual(want.subarray(1024));
    expect(d.prdbc(0, 0)).toBe(1536);
    const fis = d.rfis(0, 0x40, 4);
    expect([fis[0], fis[1]! & 0x40, fis[2]]).toEqual([0x34, 0x40, 0x50]);
    expect(d.pr(0, P_IS) & IS_DHRS).toBe(IS_DHRS);
  });

  it("reads LBA28 with READ DMA, taking LBA 27:24 from the Device field", async () => {
    await d.run(0, h2d(0xc8, { lba: 0x10, count: 1, device: 0x40 }), [[DATA, 512]]);
    expect(d.h.readMem(DATA, 512)).toEqual(backend.data.subarray(0x10 * 512, 0x11 * 512));
  });

  it("writes with WRITE DMA EXT", async () => {
    const data = pattern(1024, 99);
    d.h.writeMem(DATA, data);
    await d.run(0, h2d(0x35, { lba: 7, count: 2 }), [[DATA, 1024]]);
    expect(backend.data.subarray(7 * 512, 9 * 512)).toEqual(data);
    expect(d.pr(0, P_CI)).toBe(0);
    expect(backend.flushes).toBe(0);
  });

  it("completes FPDMA QUEUED commands out of order through Set Device Bits FISes", async () => {
    backend.gated = true;
    const tags = [0, 1, 2];
    for (const t of tags) {
      d.prepare(0, t, h2d(0x60, { lba: 10 * (t + 1), features: 1, count: t << 3 }), [[DATA + t * 0x1000, 512]]);
    }
    d.pw(0, P_SACT, 0b111);
    d.issue(0, 0b111);
    await settle();
    expect(d.pr(0, P_CI)).toBe(0);                             // accepted: the slots are free
    expect(d.pr(0, P_SACT)).toBe(0b111);
    expect(backend.gates.length).toBe(3);
    const order: number[] = [];
    for (const t of [2, 1, 0]) {
      backend.gates[t]!();
      await settle();
      order.push(d.pr(0, P_SACT));
      const sdb = d.rfis(0, 0x58, 8);
      expect(sdb[0]).toBe(0xa1);
      expect(new DataView(sdb.buffer).getUint32(4, true)).toBe(1 << t);
      expect(d.pr(0, P_IS) & IS_SDBS).toBe(IS_SDBS);
      d.ackAll(0);
    }
    expect(order).toEqual([0b011, 0b001, 0]);
    for (const t of tags) expect(d.h.readMem(DATA + t * 0x1000, 512)).toEqual(backend.data.subarray(10 * (t + 1) * 512, (10 * (t + 1) + 1) * 512));
  });

  it("writes with WRITE FPDMA QUEUED and flushes when FUA is set", async () => {
    d.h.writeMem(DATA, pattern(512, 5));
    d.prepare(0, 3, h2d(0x61, { lba: 50, features: 1, count: 3 << 3, device: 0xc0 }), [[DATA, 512]]);
    d.pw(0, P_SACT, 1 << 3);
    d.issue(0, 1 << 3);
    await settle();
    expect(d.pr(0, P_SACT)).toBe(0);
    expect(backend.data.subarray(50 * 512, 51 * 512)).toEqual(pattern(512, 5));
    expect(backend.flushes).toBe(1);
  });

  it("calls the backend's flush for FLUSH CACHE EXT, and after every write once SET FEATURES disables the cache", async () => {
    await d.run(0, h2d(0xea));
    expect(backend.flushes).toBe(1);
    await d.run(0, h2d(0xef, { features: 0x82 }));
    await d.run(0, h2d(0x35, { lba: 1, count: 1 }), [[DATA, 512]]);
    expect(backend.flushes).toBe(2);
    await d.run(0, h2d(0xec), [[DATA, 512]]);
    expect(d.words(DATA)[85]! & 0x20).toBe(0);
  });

  it("passes DATA SET MANAGEMENT TRIM ranges to discard", async () => {
    const ranges = new DataView(new ArrayBuffer(512));
    ranges.setUint32(0, 20, true); ranges.setUint16(6, 4, true);      // LBA 20, 4 sectors
    ranges.setUint32(8, 1000, true); ranges.setUint16(14, 1, true);   // LBA 1000, 1 sector
    d.h.writeMem(DATA, new Uint8Array(ranges.buffer));
    await d.run(0, h2d(0x06, { features: 1, count: 1 }), [[DATA, 512]]);
    expect(backend.discards).toEqual([[20 * 512, 4 * 512], [1000 * 512, 512]]);
    expect(backend.data.subarray(20 * 512, 24 * 512).every((b) => b === 0)).toBe(true);
  });

  it("fails a read beyond capacity with TFES and ERR/ABRT, keeps the slot in PxCI, and recovers after a restart", async () => {
    await d.run(0, h2d(0x25, { lba: SECTORS - 1, count: 2 }), [[DATA, 1024]]);
    expect(d.pr(0, P_IS) & IS_TFES).toBe(IS_TFES);
    const tfd = d.pr(0, P_TFD);
    expect(tfd & STS_ERR).toBe(STS_ERR);
    expect((tfd >>> 8) & ERR_ABRT).toBe(ERR_ABRT);
    expect(d.pr(0, P_CI)).toBe(1);
    d.prepare(0, 1, h2d(0xec), [[DATA, 512]]);
    d.issue(0, 2);
    await settle();
    expect(d.pr(0, P_CI)).toBe(3);                             // halted (AHCI 1.3.1 §6.1.2)
    d.pw(0, P_CMD, CMD_FRE);
    expect(d.pr(0, P_CI)).toBe(0);
    d.ackAll(0);
    d.pw(0, P_CMD, CMD_FRE | CMD_ST);
    await d.run(0, h2d(0xec), [[DATA, 512]]);
    expect(d.pr(0, P_CI)).toBe(0);
    expect(d.pr(0, P_TFD)).toBe(0x50);
  });

  it("aborts IDENTIFY PACKET DEVICE, NOP and unknown commands on a disk", async () => {
    for (const cmd of [0xa1, 0x00, 0xfe]) {
      await d.run(0, h2d(cmd), [[DATA, 512]]);
      expect(d.pr(0, P_TFD)).toBe((ERR_ABRT << 8) | STS_DRDY | STS_ERR);
      d.pw(0, P_CMD, CMD_FRE);
      d.ackAll(0);
      d.pw(0, P_CMD, CMD_FRE | CMD_ST);
    }
  });

  it("reports a PRDT shorter than the data as an overflow (OFS)", async () => {
    await d.run(0, h2d(0x25, { lba: 0, count: 2 }), [[DATA, 512]]);
    expect(d.pr(0, P_IS) & IS_OFS).toBe(IS_OFS);
    expect(d.pr(0, P_CI)).toBe(1);
  });

  it("reports buffers outside RAM, and DMA without bus mastering, as host bus errors (HBFS)", async () => {
    await d.run(0, h2d(0x25, { lba: 0, count: 1 }), [[RAM - 256, 512]]);
    expect(d.pr(0, P_IS) & IS_HBFS).toBe(IS_HBFS);
    d.pw(0, P_CMD, CMD_FRE);
    d.ackAll(0);
    d.pw(0, P_CMD, CMD_FRE | CMD_ST);
    d.hba.config.write(PCI_COMMAND, 2, PCI_MEM);
    await d.run(0, h2d(0xec), [[DATA, 512]]);
    expect(d.pr(0, P_IS) & IS_HBFS).toBe(IS_HBFS);
  });

  it("resets the device with a software reset (SRST in two control FISes)", async () => {
    d.prepare(0, 0, h2d(0, { command: false, control: 0x04 }));
    d.issue(0, 1);
    expect(d.pr(0, P_CI)).toBe(0);
    d.prepare(0, 1, h2d(0, { command: false, control: 0 }));
    d.issue(0, 2);
    expect(d.pr(0, P_CI)).toBe(0);
    expect(d.pr(0, P_SIG)).toBe(0x101);
    expect(d.pr(0, P_TFD)).toBe(0x150);
  });

  it("drops a completion that arrives after the port was stopped, without touching guest memory", async () => {
    backend.gated = true;
    d.prepare(0, 0, h2d(0x25, { lba: 0, count: 1 }), [[DATA, 512]]);
    d.issue(0, 1);
    await settle();
    d.pw(0, P_CMD, CMD_FRE);
    backend.gates[0]!();
    await settle();
    expect(d.h.readMem(DATA, 512).every((b) => b === 0)).toBe(true);
    expect(d.pr(0, P_IS)).toBe(0);
  });

  it("records a failed queued command in the NCQ Command Error log (READ LOG EXT 10h)", async () => {
    d.prepare(0, 5, h2d(0x60, { lba: SECTORS, features: 1, count: 5 << 3 }), [[DATA, 512]]);
    d.pw(0, P_SACT, 1 << 5);
    d.issue(0, 1 << 5);
    await settle();
    expect(d.pr(0, P_IS) & IS_TFES).toBe(IS_TFES);
    expect(d.pr(0, P_SACT)).toBe(1 << 5);
    d.pw(0, P_CMD, CMD_FRE);
    d.ackAll(0);
    d.pw(0, P_CMD, CMD_FRE | CMD_ST);
    await d.run(0, h2d(0x2f, { lba: 0x10, count: 1 }), [[DATA, 512]]);
    const log = d.h.readMem(DATA, 512);
    expect(log[0]).toBe(5);
    expect(log[3]).toBe(ERR_ABRT);
    expect(log.reduce((a, b) => a + b, 0) & 0xff).toBe(0);
  });
});

describe("AHCI port count", () => {
  it("implements as many ports as asked, up to 32", () => {
    const disk = (b: BlockBackend) => new AtaDisk(b);
    const h = new CpuHarness(loadCoreModule(), 1 << 20);
    const hba = new AhciHba({ memory: new GuestMemory(h.core), devices: [disk(new MemoryBlockBackend(4096))], ports: 32, wake: () => {} });
    expect(hba.barRead(5, PI, 4)).toBe(0xffff_ffff);
    expect(hba.barRead(5, CAP, 4) & 0x1f).toBe(31);
    expect(() => new AhciHba({ memory: new GuestMemory(h.core), devices: [], ports: 33, wake: () => {} })).toThrow(/ports/);
  });
});
