// A hostile guest against the AHCI HBA: random register writes, random command headers, FISes and PRDTs (huge
// entry counts, addresses past RAM, zero and maximal lengths), random PxCI/PxSACT bits and media changes. The
// host must never throw (synchronously or in a completion), and after an HBA reset a well-formed IDENTIFY must
// work again on every port.
import { describe, expect, it } from "vitest";
import { AhciHba } from "../../src/devices/ahci/hba";
import { AtaDisk, DmaStatus, type AtaResult, type AtaTaskFile, type DataBuffer, type SataDevice } from "../../src/devices/ahci/ata";
import { AtapiCdrom } from "../../src/devices/ahci/atapi";
import { MemoryBlockBackend } from "../../src/block/backend";
import { GuestMemory } from "../../src/machine/dma";
import { CpuHarness } from "../../src/machine/harness";
import { loadCoreModule } from "../../src/node/core-module";
import { rng } from '../helpers/rng';

const RAM = 4 << 20;
const GHC = 0x04, GHC_HR = 1, GHC_IE = 2, GHC_AE = 0x8000_0000;
const P_CLB = 0x00, P_FB = 0x08, P_IS = 0x10, P_IE = 0x14, P_CMD = 0x18, P_TFD = 0x20, P_SCTL = 0x2c, P_SACT = 0x34, P_CI = 0x38;
const CMD_ST = 1, CMD_FRE = 1 << 4;
/** PxIS.TFES, HBFS, IFS and OFS: the port halted (AHCI 1.3.1 §6.1.2). */
const ERROR_BITS = (1 << 30) | (1 << 29) | (1 << 27) | (1 << 24);
const PCI_COMMAND = 0x04, PCI_MEM = 0x2, PCI_MASTER = 0x4;
const PORTS = 4;
const clb = (p: number) => 0x1_0000 + p * 0x1000;
const fb = (p: number) => clb(p) + 0x400;
const table = (p: number, slot: number) => 0x4_0000 + p * 0x2_0000 + slot * 0x1000;
/** Commands worth aiming at: every one the devices implement, plus a few they do not. */
const COMMANDS = [0x00, 0x06, 0x08, 0x20, 0x24, 0x25, 0x29, 0x2f, 0x30, 0x34, 0x35, 0x39, 0x3d, 0x40, 0x42, 0x60,
  0x61, 0x90, 0xa0, 0xa1, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xce, 0xe0, 0xe1, 0xe5, 0xe7, 0xea, 0xec, 0xef, 0xff];
const OPCODES = [0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x5a, 0xa8, 0xbb, 0xbd, 0x55];


async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Counts what the guest got the devices to do, to show the fuzzing reaches the command paths. */
class Counted implements SataDevice {
  static readonly outcomes = new Map<string, number>();
  constructor(private readonly inner: SataDevice) {}
  get signature(): number { return this.inner.signature; }
  get resetStatus(): number { return this.inner.resetStatus; }
  get ncq(): boolean { return this.inner.ncq; }
  reset(): void { this.inner.reset(); }
  async execute(tf: AtaTaskFile, packet: Uint8Array, data: DataBuffer): Promise<AtaResult> {
    const r = await this.inner.execute(tf, packet, data);
    const kind = r.fault !== DmaStatus.Ok ? `fault${r.fault}` : r.status & 1 ? "error" : r.bytes > 0 ? "data" : "ok";
    Counted.outcomes.set(kind, (Counted.outcomes.get(kind) ?? 0) + 1);
    return r;
  }
}

class Target {
  readonly h = new CpuHarness(loadCoreModule(), RAM);
  readonly mem = new GuestMemory(this.h.core);
  readonly cd = new AtapiCdrom(new MemoryBlockBackend(64 * 2048, true, "cd"));
  readonly hba = new AhciHba({
    memory: this.mem,
    devices: [new AtaDisk(new MemoryBlockBackend(1 << 20, false, "d0")), this.cd, new AtaDisk(new MemoryBlockBackend(64 << 10, true, "d2"))]
      .map((d) => new Counted(d)),
    ports: PORTS,
    wake: () => {},
  });

  constructor() {
    this.hba.config.attach({ intx: () => {}, msi: () => {} });
    this.hba.config.write(PCI_COMMAND, 2, PCI_MEM | PCI_MASTER);
  }

  w(off: number, v: number, size: 1 | 2 | 4 = 4): void { this.hba.barWrite(5, off, size, v >>> 0); }
  pr(p: number, reg: number): number { return this.hba.barRead(5, 0x100 + p * 0x80 + reg, 4); }
  pw(p: number, reg: number, v: number): void { this.w(0x100 + p * 0x80 + reg, v); }

  /** ahci_port_start: both halves of the command list and FIS area addresses, FRE, ST, interrupts on. */
  start(p: number): void {
    this.pw(p, P_CLB, clb(p));
    this.pw(p, P_CLB + 4, 0);
    this.pw(p, P_FB, fb(p));
    this.pw(p, P_FB + 4, 0);
    this.pw(p, P_CMD, CMD_FRE);
    this.pw(p, P_CMD, CMD_FRE | CMD_ST);
    this.pw(p, P_IE, 0xffff_ffff);
  }
}

/** What is wrong with a generated command: nothing, or one part. */
const enum Flaw { None, Header, Table, FisType, Control, PrdtCount, PrdtAddress, PrdtLength, Lba, Bytes }
const FLAWS = [Flaw.None, Flaw.None, Flaw.None, Flaw.Header, Flaw.Table, Flaw.FisType, Flaw.Control, Flaw.PrdtCount,
  Flaw.PrdtAddress, Flaw.PrdtAddress, Flaw.PrdtLength, Flaw.PrdtLength, Flaw.Lba, Flaw.Bytes];

/** A command header, table and PRDT from random numbers: a plausible command with at most one flaw. */
function randomCommand(t: Target, rnd: () => number, p: number, slot: number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const u32 = () => Math.floor(rnd() * 2 ** 32);
  const flaw = pick(FLAWS);
  const prdtl = flaw === Flaw.PrdtCount ? pick([0, 255, 65535, Math.floor(rnd() * 65536)]) : 1 + Math.floor(rnd() * 4);
  const ct = flaw === Flaw.Table ? pick([RAM - 64, RAM, u32()]) : table(p, slot);
  const hdr = new DataView(new ArrayBuffer(32));
  hdr.setUint32(0, (flaw === Flaw.Header ? u32() & 0xffff : 5 | (rnd() < 0.3 ? 1 << 5 : 0)) | (prdtl << 16), true);
  hdr.setUint32(8, ct >>> 0, true);
  hdr.setUint32(12, flaw === Flaw.Table && rnd() < 0.5 ? u32() : 0, true);
  t.mem.write(clb(p) + slot * 32, new Uint8Array(hdr.buffer));
  if (ct + 0x80 > RAM) return;
  const cfis = new Uint8Array(0x80);
  for (let i = 0; i < cfis.length; i++) cfis[i] = Math.floor(rnd() * 256);
  cfis[0] = flaw === Flaw.FisType ? pick([0x34, 0xa1, 0x5f, 0x46, 0x39, cfis[0]!]) : 0x27;
  cfis[1] = flaw === Flaw.Control ? cfis[1]! & 0x7f : 0x80;
  cfis[2] = flaw === Flaw.Bytes ? cfis[2]! : pick(COMMANDS);
  if (flaw !== Flaw.Lba && flaw !== Flaw.Bytes) {
    cfis[6] = cfis[8] = cfis[9] = cfis[10] = 0; cfis[5] &= 0x7; cfis[7] &= 0xf0;   // LBAs inside the disks
    cfis[13] = cfis[11] = 0; cfis[12] &= 0xf; cfis[3] &= 0xf;                      // modest counts
    cfis[0x42] = cfis[0x43] = cfis[0x44] = cfis[0x46] = cfis[0x47] = 0; cfis[0x48] &= 0x7;
  }
  if (flaw !== Flaw.Bytes) cfis[0x40] = pick(OPCODES);
  t.mem.write(ct, cfis);
  const entries = Math.min(prdtl, 16);
  const prdt = new DataView(new ArrayBuffer(16 * entries));
  for (let i = 0; i < entries; i++) {
    const bad = flaw === Flaw.PrdtAddress && (i === 0 || rnd() < 0.5);
    prdt.setUint32(16 * i, (bad ? pick([RAM - 16, RAM + 0x1000, u32()]) : 0x20_0000 + Math.floor(rnd() * 0x10_0000)) >>> 0, true);
    prdt.setUint32(16 * i + 4, bad && rnd() < 0.3 ? u32() : 0, true);
    const dbc = flaw === Flaw.PrdtLength ? pick([0, 1, 0x3f_ffff, u32()]) : pick([511, 2047, 4095, 0xffff, 0x3f_ffff]);
    prdt.setUint32(16 * i + 12, dbc >>> 0, true);
  }
  if (entries) t.mem.write(ct + 0x80, new Uint8Array(prdt.buffer));
}

/** PxIS bits the fuzzing produced, over all runs. */
let seen = 0;

async function fuzz(seed: number, steps: number): Promise<Target> {
  const t = new Target();
  const rnd = rng(seed);
  const u32 = () => Math.floor(rnd() * 2 ** 32);
  const revive = (p: number) => {
    seen |= t.pr(p, P_IS);
    t.pw(p, P_CMD, CMD_FRE);
    t.pw(p, P_IS, 0xffff_ffff);
    t.start(p);
  };
  t.w(GHC, GHC_AE | GHC_IE);
  for (let p = 0; p < PORTS; p++) {
    t.start(p);
    for (let slot = 0; slot < 32; slot++) randomCommand(t, rnd, p, slot);
  }
  for (let i = 0; i < steps; i++) {
    const r = rnd();
    const p = Math.floor(rnd() * PORTS);
    const slot = Math.floor(rnd() * 32);
    if (r < 0.06) {
      const size = ([1, 2, 4] as const)[Math.floor(rnd() * 3)]!;
      const off = Math.floor(rnd() * (0x100 + PORTS * 0x80 + 0x40)) & ~(size - 1);
      if (off === GHC && rnd() < 0.7) continue;                         // HBA resets, but not too often
      t.w(off, u32(), size);
    } else if (r < 0.46) {
      // A driver's error handler restarts a halted port before it issues more.
      if (t.pr(p, P_IS) & ERROR_BITS && rnd() < 0.8) revive(p);
      randomCommand(t, rnd, p, slot);
      if (rnd() < 0.5) t.pw(p, P_SACT, 1 << slot);
      t.pw(p, P_CI, 1 << slot);
      if (rnd() < 0.5) await settle();
    } else if (r < 0.54) {
      t.pw(p, P_CI, rnd() < 0.3 ? u32() : 1 << slot);
    } else if (r < 0.57) {
      t.pw(p, P_SACT, u32());
    } else if (r < 0.67) {
      revive(p);
    } else if (r < 0.69) {
      t.pw(p, P_SCTL, 1);                                                // COMRESET, usually released
      if (rnd() < 0.8) t.pw(p, P_SCTL, 0);
    } else if (r < 0.71) {
      if (rnd() < 0.5) t.cd.eject(rnd() < 0.5);
      else t.cd.insert(new MemoryBlockBackend(Math.floor(1 + rnd() * 64) * 2048, true, "cd"));
    } else if (r < 0.72) {
      t.hba.config.write(PCI_COMMAND, 2, rnd() < 0.7 ? PCI_MEM | PCI_MASTER : PCI_MEM);
    } else {
      await settle();
    }
  }
  await settle();
  return t;
}

/** After an HBA reset, or a port stop and COMRESET as libahci's hardreset does it, IDENTIFY (PACKET) DEVICE
 *  on a freshly started port. */
async function identifyAfterReset(t: Target, how: "hba" | "comreset"): Promise<number[]> {
  t.hba.config.write(PCI_COMMAND, 2, PCI_MEM | PCI_MASTER);
  if (how === "hba") t.w(GHC, GHC_AE | GHC_HR);
  t.w(GHC, GHC_AE | GHC_IE);
  const words: number[] = [];
  for (const [p, cmd] of [[0, 0xec], [1, 0xa1], [2, 0xec]] as const) {
    if (how === "comreset") {
      t.pw(p, P_CMD, 0);
      t.pw(p, P_SCTL, 0x301);
      t.pw(p, P_SCTL, 0x300);
      t.pw(p, P_IS, 0xffff_ffff);
    }
    t.start(p);
    const hdr = new DataView(new ArrayBuffer(32));
    hdr.setUint32(0, 5 | (1 << 16), true);
    hdr.setUint32(8, table(p, 0), true);
    t.mem.write(clb(p), new Uint8Array(hdr.buffer));
    const ct = new Uint8Array(0x90);
    ct.set([0x27, 0x80, cmd, 0, 0, 0, 0, 0x40]);
    new DataView(ct.buffer).setUint32(0x80, 0x30_0000, true);
    new DataView(ct.buffer).setUint32(0x8c, 511, true);
    t.mem.write(table(p, 0), ct);
    t.mem.write(0x30_0000, new Uint8Array(512));
    t.pw(p, P_CI, 1);
    await settle();
    expect(t.pr(p, P_CI)).toBe(0);
    expect(t.pr(p, P_TFD) & 1).toBe(0);
    words.push(t.h.readMem(0x30_0000, 2)[0]! | (t.h.readMem(0x30_0001, 1)[0]! << 8));
  }
  return words;
}

describe("AHCI under a hostile guest", () => {
  for (const seed of [1, 2, 3, 0xdecafbad]) {
    it(`survives random registers, commands and PRDTs (seed ${seed}) and identifies its devices after a ${seed % 2 ? "COMRESET" : "HBA reset"}`, async () => {
      const t = await fuzz(seed, 2500);
      expect(await identifyAfterReset(t, seed % 2 ? "comreset" : "hba")).toEqual([0x0040, 0x85c0, 0x0040]);
    });
  }

  it("reached every kind of ending: data, good status, device errors, overflow, host bus and interface faults", () => {
    const o = Counted.outcomes;
    for (const kind of ["data", "ok", "error", `fault${DmaStatus.Overflow}`, `fault${DmaStatus.HostBus}`]) {
      expect(o.get(kind) ?? 0, kind).toBeGreaterThan(5);
    }
    // D2H, PIO Setup and Set Device Bits FISes; task file, overflow, interface and host bus errors.
    for (const bit of [0, 1, 3, 30, 24, 27, 29]) expect((seen >>> bit) & 1, `PxIS bit ${bit}`).toBe(1);
  });

  it("refuses a 65535-entry PRDT of maximal lengths pointing past RAM without touching host memory", async () => {
    const t = new Target();
    t.w(GHC, GHC_AE | GHC_IE);
    t.start(0);
    const hdr = new DataView(new ArrayBuffer(32));
    hdr.setUint32(0, 5 | (0xffff << 16), true);
    hdr.setUint32(8, table(0, 0), true);
    t.mem.write(clb(0), new Uint8Array(hdr.buffer));
    const ct = new Uint8Array(0x80 + 16 * 0xffff);
    ct.set([0x27, 0x80, 0x25, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0x00, 0x08]);   // READ DMA EXT, 2048 sectors
    const v = new DataView(ct.buffer);
    for (let i = 0; i < 0xffff; i++) { v.setUint32(0x80 + 16 * i, RAM + 0x1000, true); v.setUint32(0x80 + 16 * i + 12, 0x3f_ffff, true); }
    t.mem.write(table(0, 0), ct);
    t.pw(0, P_CI, 1);
    await settle();
    expect(t.pr(0, P_IS) & (1 << 29)).toBe(1 << 29);                  // HBFS
    expect(t.pr(0, P_CI)).toBe(1);
  });
});
