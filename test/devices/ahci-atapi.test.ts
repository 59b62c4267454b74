// An ATAPI CD/DVD-ROM behind the AHCI HBA: PACKET commands (ATA8-ACS §7.24) carrying MMC-5 / SPC-3 CDBs in the
// command table's ACMD area, issued through BAR5 registers as libata's ahci driver does.
import { beforeEach, describe, expect, it } from "vitest";
import { AhciHba } from "../../src/devices/ahci/hba";
import { AtapiCdrom } from "../../src/devices/ahci/atapi";
import { MemoryBlockBackend } from "../../src/block/backend";
import { GuestMemory } from "../../src/machine/dma";
import { CpuHarness } from "../../src/machine/harness";
import { loadCoreModule } from "../../src/node/core-module";

const GHC = 0x04, GHC_IE = 2, GHC_AE = 0x8000_0000;
const P_CLB = 0x00, P_FB = 0x08, P_IS = 0x10, P_IE = 0x14, P_CMD = 0x18, P_TFD = 0x20, P_SIG = 0x24, P_CI = 0x38;
const CMD_ST = 1, CMD_FRE = 1 << 4, CMD_ATAPI = 1 << 24;
const IS_DHRS = 1, IS_PSS = 2, IS_TFES = 1 << 30;
const STS_ERR = 0x01;
const PACKET = 0xa0, IDENTIFY_PACKET = 0xa1, IDENTIFY = 0xec;
const CLB = 0x1_0000, FB = 0x1_0400, TABLE = 0x2_0000, DATA = 0x10_0000;
const BLOCK = 2048;

/** Sense (key, ASC, ASCQ) of a REQUEST SENSE reply (SPC-3 §4.5.3). */
type Sense = [number, number, number];

class Drive {
  readonly h = new CpuHarness(loadCoreModule(), 4 << 20);
  readonly cd: AtapiCdrom;
  readonly hba: AhciHba;

  constructor(medium?: MemoryBlockBackend) {
    this.cd = new AtapiCdrom(medium);
    this.hba = new AhciHba({ memory: new GuestMemory(this.h.core), devices: [this.cd], wake: () => {} });
    this.hba.config.attach({ intx: () => {}, msi: () => {} });
    this.hba.config.write(0x04, 2, 0x6);
    this.w(GHC, GHC_AE | GHC_IE);
    this.pw(P_CLB, CLB);
    this.pw(P_FB, FB);
    this.pw(P_CMD, CMD_FRE | CMD_ATAPI);
    this.pw(P_CMD, CMD_FRE | CMD_ATAPI | CMD_ST);
    this.pw(P_IE, 0xfdc0_00ff);
  }

  w(off: number, v: number): void { this.hba.barWrite(5, off, 4, v >>> 0); }
  pr(reg: number): number { return this.hba.barRead(5, 0x100 + reg, 4); }
  pw(reg: number, v: number): void { this.w(0x100 + reg, v); }

  /** Issue an ATA command in slot 0 with `bytes` of PRDT at DATA; returns the error-free status. */
  async ata(cmd: number, bytes: number, features = 0, acmd?: number[]): Promise<void> {
    const hdr = new DataView(new ArrayBuffer(32));
    hdr.setUint32(0, 5 | (acmd ? 1 << 5 : 0) | ((bytes ? 1 : 0) << 16), true);
    hdr.setUint32(8, TABLE, true);
    this.h.writeMem(CLB, new Uint8Array(hdr.buffer));
    const t = new Uint8Array(0x90);
    t.set([0x27, 0x80, cmd, features]);
    if (acmd) t.set(acmd, 0x40);
    new DataView(t.buffer).setUint32(0x80, DATA, true);
    new DataView(t.buffer).setUint32(0x8c, bytes - 1, true);
    this.h.writeMem(TABLE, t);
    this.h.writeMem(DATA, new Uint8Array(Math.max(bytes, 64)));
    this.pw(P_CI, 1);
    await settle();
  }

  /** Send a CDB (12 bytes) by DMA or PIO; returns the data the drive moved. */
  async packet(cdb: number[], bytes = 0, dma = false): Promise<Uint8Array> {
    await this.ata(PACKET, bytes, dma ? 1 : 0, [...cdb, ...new Array<number>(12 - cdb.length).fill(0)]);
    const moved = new DataView(this.h.readMem(CLB + 4, 4).buffer).getUint32(0, true);
    return this.h.readMem(DATA, moved);
  }

  /** Whether the last command ended in CHECK CONDITION; recovers the port (stop, clear, start) if so. */
  failed(): boolean {
    const bad = (this.pr(P_TFD) & STS_ERR) !== 0;
    if (bad) {
      expect(this.pr(P_IS) & IS_TFES).toBe(IS_TFES);
      this.pw(P_CMD, CMD_FRE | CMD_ATAPI);
      this.pw(P_CMD, CMD_FRE | CMD_ATAPI | CMD_ST);
    }
    this.pw(P_IS, 0xffff_ffff);
    return bad;
  }

  async sense(): Promise<Sense> {
    const s = await this.packet([0x03, 0, 0, 0, 18], 18);
    this.failed();
    return [s[2]! & 0xf, s[12]!, s[13]!];
  }

  async testUnitReady(): Promise<boolean> {
    await this.packet([0x00]);
    return !this.failed();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await new Promise<void>((r) => setImmediate(r));
}

function disc(blocks: number, id = "cd-1"): MemoryBlockBackend {
  const data = new Uint8Array(blocks * BLOCK);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >>> 11)) & 0xff;
  return new MemoryBlockBackend(data, true, id);
}

const be32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, false);

describe("AHCI ATAPI CD-ROM", () => {
  let d: Drive;
  beforeEach(() => { d = new Drive(disc(400)); });

  it("carries the PACKET signature and answers IDENTIFY PACKET DEVICE by PIO", async () => {
    expect(d.pr(P_SIG)).toBe(0xeb14_0101);
    await d.ata(IDENTIFY_PACKET, 512);
    const w = new Uint16Array(d.h.readMem(DATA, 512).buffer);
    expect(w[0]).toBe(0x85c0);
    expect(w[49]! & 0x0300).toBe(0x0300);
    expect(d.pr(P_IS) & IS_PSS).toBe(IS_PSS);
    expect(d.pr(P_CI)).toBe(0);
  });

  it("aborts IDENTIFY DEVICE and leaves the signature in the D2H FIS", async () => {
    await d.ata(IDENTIFY, 512);
    const fis = d.h.readMem(FB + 0x40, 16);
    expect(fis[2]! & STS_ERR).toBe(STS_ERR);
    expect(fis[3]! & 0x04).toBe(0x04);
    expect([fis[5], fis[6]]).toEqual([0x14, 0xeb]);
  });

  it("reports no unit attention for a disc present at power-on", async () => {
    expect(await d.testUnitReady()).toBe(true);
  });

  it("returns INQUIRY data of a removable CD/DVD device", async () => {
    const inq = await d.packet([0x12, 0, 0, 0, 36], 36);
    expect(inq[0]).toBe(0x05);
    expect(inq[1]).toBe(0x80);
    expect(String.fromCharCode(...inq.subarray(16, 32)).trim()).toBe("WASMPC DVD-ROM");
  });

  it("reads the capacity as the last LBA and a 2048-byte block", async () => {
    const cap = await d.packet([0x25], 8, true);
    expect([be32(cap, 0), be32(cap, 4)]).toEqual([399, 2048]);
    expect(d.pr(P_IS) & IS_DHRS).toBe(IS_DHRS);
  });

  it("reads blocks with READ (10) by DMA and READ (12) by PIO", async () => {
    const medium = d.cd.medium as MemoryBlockBackend;
    const a = await d.packet([0x28, 0, 0, 0, 0, 10, 0, 0, 2], 2 * BLOCK, true);
    expect(a).toEqual(medium.data.subarray(10 * BLOCK, 12 * BLOCK));
    const b = await d.packet([0xa8, 0, 0, 0, 1, 0x8f, 0, 0, 0, 1], BLOCK);
    expect(b).toEqual(medium.data.subarray(399 * BLOCK, 400 * BLOCK));
    expect(d.pr(P_IS) & (IS_PSS | IS_DHRS)).toBe(IS_PSS | IS_DHRS);     // data, then the ending status
    expect(d.h.readMem(FB + 0x40, 4)[2]).toBe(0x40);
  });

  it("refuses reads past the last block with ILLEGAL REQUEST / LBA OUT OF RANGE", async () => {
    await d.packet([0x28, 0, 0, 0, 1, 0x8f, 0, 0, 2], 2 * BLOCK, true);
    expect(d.failed()).toBe(true);
    expect(await d.sense()).toEqual([0x5, 0x21, 0x00]);
  });

  it("reads the TOC in LBA and MSF form, and the session information", async () => {
    const toc = await d.packet([0x43, 0, 0, 0, 0, 0, 0, 0, 100], 100);
    expect(toc.length).toBe(20);
    expect([toc[2], toc[3], toc[6], toc[14]]).toEqual([1, 1, 1, 0xaa]);
    expect(be32(toc, 16)).toBe(400);
    const msf = await d.packet([0x43, 0x02, 0, 0, 0, 0, 0, 0, 100], 100);
    expect(Array.from(msf.subarray(16, 20))).toEqual([0, 0, 7, 25]);   // 400 + 150 frames = 00:07:25
    const session = await d.packet([0x43, 0, 1, 0, 0, 0, 0, 0, 12], 12);
    expect([session[1], session[2], session[3], be32(session, 8)]).toEqual([0x0a, 1, 1, 0]);
  });

  it("reports the CD-ROM profile through GET CONFIGURATION, and no profile without a disc", async () => {
    const cfg = await d.packet([0x46, 0, 0, 0, 0, 0, 0, 0, 64], 64);
    expect((cfg[6]! << 8) | cfg[7]!).toBe(0x0008);
    d.cd.eject();
    const empty = await d.packet([0x46, 0x02, 0, 0x03, 0, 0, 0, 0, 64], 64);
    expect((empty[6]! << 8) | empty[7]!).toBe(0);
    expect((empty[8]! << 8) | empty[9]!).toBe(0x0003);                // only the Removable Medium feature
    expect(empty.length).toBe(16);
  });

  it("returns the capabilities page through MODE SENSE (10), with the lock state", async () => {
    await d.packet([0x1e, 0, 0, 0, 1]);
    const page = await d.packet([0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64], 64);
    expect([page[8], page[9]]).toEqual([0x2a, 0x14]);
    expect(page[8 + 6]! & 0b1011).toBe(0b1011);                      // lock, locked, eject
    await d.packet([0x5a, 0, 0xea, 0, 0, 0, 0, 0, 64], 64);
    expect(d.failed()).toBe(true);
    expect(await d.sense()).toEqual([0x5, 0x39, 0x00]);
  });

  it("ejects through START STOP UNIT, then reports NOT READY / MEDIUM NOT PRESENT - TRAY OPEN", async () => {
    await d.packet([0x1b, 0, 0, 0, 0b10]);
    expect(d.failed()).toBe(false);
    expect(await d.testUnitReady()).toBe(false);
    expect(await d.sense()).toEqual([0x2, 0x3a, 0x02]);
    // The disc is on the open tray, not in the drive: Door Open without Media Present (the guest's eject
    // reads the tray open through this, test/pc/guest-ahci.test.ts).
    const ev = await d.packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8], 8);
    expect(ev[5]).toBe(0b01);
    await d.packet([0x1b, 0, 0, 0, 0b11]);                            // load: the disc is back, a new medium
    expect(await d.testUnitReady()).toBe(false);
    expect(await d.sense()).toEqual([0x6, 0x28, 0x00]);
    expect(await d.testUnitReady()).toBe(true);
  });

  it("refuses to eject while PREVENT ALLOW MEDIUM REMOVAL holds the tray", async () => {
    await d.packet([0x1e, 0, 0, 0, 1]);
    await d.packet([0x1b, 0, 0, 0, 0b10]);
    expect(d.failed()).toBe(true);
    expect(await d.sense()).toEqual([0x5, 0x53, 0x02]);
    expect(d.cd.eject()).toBe(false);
    expect(d.cd.medium).toBeDefined();
    const ev = await d.packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8], 8);
    expect(ev[4]).toBe(1);                                            // EjectRequest
    await d.packet([0x1e, 0, 0, 0, 0]);
    expect(d.cd.eject()).toBe(true);
  });

  it("reports a media change made through the API as UNIT ATTENTION and a NewMedia event", async () => {
    expect(d.cd.eject()).toBe(true);
    await d.packet([0x00]);
    expect(d.failed()).toBe(true);
    expect(await d.sense()).toEqual([0x6, 0x28, 0x00]);                // the removal is a change too
    expect(await d.testUnitReady()).toBe(false);
    expect(await d.sense()).toEqual([0x2, 0x3a, 0x01]);                // tray closed, empty
    d.cd.insert(disc(1000, "cd-2"));
    const ev = await d.packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8], 8);
    expect([ev[2], ev[4], ev[5]]).toEqual([4, 2, 0b10]);               // media class, NewMedia, present
    expect(await d.sense()).toEqual([0x6, 0x28, 0x00]);
    expect(await d.testUnitReady()).toBe(true);
    const cap = await d.packet([0x25], 8, true);
    expect(be32(cap, 0)).toBe(999);
    const again = await d.packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8], 8);
    expect(again[4]).toBe(0);                                         // reported once
  });

  it("fails the first command after a media change with UNIT ATTENTION, then works", async () => {
    d.cd.insert(disc(50));
    await d.packet([0x25], 8, true);
    expect(d.failed()).toBe(true);
    expect(d.pr(P_TFD) >>> 12).toBe(0x6);                              // sense key in Error 7:4
    const cap = await d.packet([0x25], 8, true);
    expect(be32(cap, 0)).toBe(49);
  });

  it("answers unknown operation codes with ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE", async () => {
    await d.packet([0xff]);
    expect(d.failed()).toBe(true);
    expect(await d.sense()).toEqual([0x5, 0x20, 0x00]);
  });
});

describe("AHCI ATAPI drive without a disc", () => {
  it("is NOT READY with MEDIUM NOT PRESENT until a disc goes in", async () => {
    const d = new Drive();
    expect(await d.testUnitReady()).toBe(false);
    expect(await d.sense()).toEqual([0x2, 0x3a, 0x01]);
    await d.packet([0x25], 8, true);
    expect(d.failed()).toBe(true);
    d.cd.insert(disc(16));
    expect(await d.testUnitReady()).toBe(false);
    expect(await d.sense()).toEqual([0x6, 0x28, 0x00]);
    expect(await d.sense()).toEqual([0x0, 0, 0]);
    expect(await d.testUnitReady()).toBe(true);
  });
});
