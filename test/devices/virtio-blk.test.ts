// virtio-blk behind the modern virtio-pci transport, driven the way Linux's virtio_pci_modern and virtio_blk
// drive it: config cycles through 0xCF8/0xCFC on a real PciBus, the capability list walked to find the register
// blocks, MMIO to the BARs the test placed, and real split virtqueues in guest RAM (virtio 1.2 §3.1, §4.1, §5.2).
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccessSize } from '../../src/devices/device';
import { PciBus } from '../../src/devices/pci';
import { IoBus, MmioBus } from '../../src/machine/bus';
import { GuestMemory } from '../../src/machine/dma';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { MemoryBlockBackend, type BlockBackend } from '../../src/block/backend';
import { VirtioBlk } from '../../src/devices/virtio/blk';
import { VirtioPci } from '../../src/devices/virtio/pci';
import { FakeIrq } from './helpers';

// Spec values written out rather than imported from the model.
const ACK = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8, NEEDS_RESET = 0x40;
const F_INDIRECT = 28, F_EVENT_IDX = 29, F_VERSION_1 = 32;
const BLK_F_SIZE_MAX = 1, BLK_F_SEG_MAX = 2, BLK_F_RO = 5, BLK_F_BLK_SIZE = 6, BLK_F_FLUSH = 9, BLK_F_TOPOLOGY = 10;
const BLK_F_DISCARD = 13, BLK_F_WRITE_ZEROES = 14;
const T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13;
const S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
const CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4, CAP_PCI_CFG = 5;
const NO_VECTOR = 0xffff;
// Common configuration offsets (§4.1.4.3).
const DFSELECT = 0x00, DF = 0x04, GFSELECT = 0x08, GF = 0x0c, MSIX_CONFIG = 0x10, NUM_QUEUES = 0x12, STATUS = 0x14;
const Q_SELECT = 0x16, Q_SIZE = 0x18, Q_MSIX = 0x1a, Q_ENABLE = 0x1c, Q_NOFF = 0x1e, Q_DESC = 0x20, Q_AVAIL = 0x28, Q_USED = 0x30;
const VRING_DESC_F_NEXT = 1, VRING_DESC_F_WRITE = 2, VRING_DESC_F_INDIRECT = 4;

const RAM = 2 << 20;
const SLOT = 4;
const BAR4_BASE = 0xe000_0000, BAR1_BASE = 0xe001_0000;
const DESC = 0x10000, AVAIL = 0x11000, USED = 0x12000, INDIRECT = 0x13000;
const HDR = 0x20000, STATUS_AREA = 0x30000, DATA = 0x40000;
const DISK = 1 << 20;

interface Part { addr: number; len: number; write?: boolean }

/** A backend whose operations complete only when the test says so. */
class ControlledBackend extends MemoryBlockBackend {
  readonly waiting: Array<{ op: string; resolve: () => void }> = [];
  override async read(offset: number, into: Uint8Array): Promise<void> {
    await new Promise<void>((resolve) => this.waiting.push({ op: `read@${offset}`, resolve }));
    return super.read(offset, into);
  }
}

class Driver {
  readonly io = new IoBus();
  readonly mmio = new MmioBus();
  readonly msi: Array<[number, number]> = [];
  readonly pirq = [new FakeIrq(), new FakeIrq(), new FakeIrq(), new FakeIrq()];
  readonly pci: PciBus;
  readonly dev: VirtioPci;
  readonly blk: VirtioBlk;
  wakes = 0;
  caps = new Map<number, { at: number; bar: number; offset: number; length: number }>();
  notifyMultiplier = 0;
  msixCap = 0;
  queueSize = 0;
  private availIdx = 0;
  private nextDesc = 0;
  private nextSlot = 0;

  constructor(readonly mem: GuestMemory, readonly backend: BlockBackend, queueSize = 16) {
    this.pci = new PciBus({ io: this.io, mmio: this.mmio, msiSink: (a, d) => this.msi.push([a, d]), pirq: this.pirq });
    this.io.insert(this.pci.configAddress, 0xcf8, 4, 'pci-config-address');
    this.io.insert(this.pci.configData, 0xcfc, 4, 'pci-config-data');
    this.blk = new VirtioBlk(backend, { queueSize, serial: 'wasmpc-disk-0' });
    this.dev = new VirtioPci({ device: this.blk, mem, wake: () => this.wakes++ });
    this.pci.attach(SLOT, 0, this.dev, 'virtio-blk');
    this.cfgWrite(0x20, 4, BAR4_BASE);
    this.cfgWrite(0x24, 4, 0);
    this.cfgWrite(0x14, 4, BAR1_BASE);
    this.cfgWrite(0x04, 2, 0b110); // memory space, bus master
    // §4.1.4.1: walk the capability list for vendor-specific (0x09) virtio structures.
    for (let at = this.cfgRead(0x34, 1), hops = 0; at !== 0 && hops < 48; at = this.cfgRead(at + 1, 1), hops++) {
      const id = this.cfgRead(at, 1);
      if (id === 0x11) this.msixCap = at;
      if (id !== 0x09) continue;
      const type = this.cfgRead(at + 3, 1);
      if (this.caps.has(type)) continue;
      this.caps.set(type, { at, bar: this.cfgRead(at + 4, 1), offset: this.cfgRead(at + 8, 4), length: this.cfgRead(at + 12, 4) });
      if (type === CAP_NOTIFY) this.notifyMultiplier = this.cfgRead(at + 16, 4);
    }
  }

  cfgRead(reg: number, size: AccessSize): number {
    this.io.write(0xcf8, 4, (0x8000_0000 | (SLOT << 11) | (reg & 0xfc)) >>> 0);
    return this.io.read(0xcfc + (reg & 3), size);
  }
  cfgWrite(reg: number, size: AccessSize, value: number): void {
    this.io.write(0xcf8, 4, (0x8000_0000 | (SLOT << 11) | (reg & 0xfc)) >>> 0);
    this.io.write(0xcfc + (reg & 3), size, value);
  }
  private addr(type: number, offset: number): number {
    const c = this.caps.get(type)!;
    expect(c.bar).toBe(4);
    return BAR4_BASE + c.offset + offset;
  }
  common(offset: number, size: AccessSize): number { return this.mmio.read(this.addr(CAP_COMMON, offset), size); }
  setCommon(offset: number, size: AccessSize, value: number): void { this.mmio.write(this.addr(CAP_COMMON, offset), size, value); }
  deviceCfg(offset: number, size: AccessSize): number { return this.mmio.read(this.addr(CAP_DEVICE, offset), size); }
  isr(): number { return this.mmio.read(this.addr(CAP_ISR, 0), 1); }
  status(): number { return this.common(STATUS, 1); }
  notify(): void { this.mmio.write(this.addr(CAP_NOTIFY, this.common(Q_NOFF, 2) * this.notifyMultiplier), 2, 0); }

  deviceFeatures(): bigint {
    this.setCommon(DFSELECT, 4, 0);
    const lo = this.common(DF, 4);
    this.setCommon(DFSELECT, 4, 1);
    return (BigInt(this.common(DF, 4)) << 32n) | BigInt(lo);
  }

  /** §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns whether the device kept it. */
  negotiate(features: bigint): boolean {
    this.setCommon(STATUS, 1, 0);
    this.setCommon(STATUS, 1, ACK);
    this.setCommon(STATUS, 1, ACK | DRIVER);
    for (const sel of [0, 1]) {
      this.setCommon(GFSELECT, 4, sel);
      this.setCommon(GF, 4, Number((features >> BigInt(32 * sel)) & 0xffff_ffffn));
    }
    this.setCommon(STATUS, 1, ACK | DRIVER | FEATURES_OK);
    return (this.status() & FEATURES_OK) !== 0;
  }

  /** The whole of §3.1.1, with queue 0 at the test's rings; `used` lets a test misplace the used ring. */
  init(opts: { extra?: bigint[]; msix?: boolean; size?: number; used?: number } = {}): void {
    const f = bit(F_VERSION_1) | bit(F_INDIRECT) | bit(BLK_F_FLUSH) | bit(BLK_F_DISCARD) | bit(BLK_F_WRITE_ZEROES) | bit(BLK_F_RO) |
      (opts.extra ?? []).reduce((a, b) => a | b, 0n);
    expect(this.negotiate(f & this.deviceFeatures())).toBe(true);
    this.setCommon(Q_SELECT, 2, 0);
    if (opts.size) this.setCommon(Q_SIZE, 2, opts.size);
    this.queueSize = this.common(Q_SIZE, 2);
    this.mem.write(DESC, new Uint8Array(0x3000));
    this.setCommon(Q_DESC, 4, DESC);
    this.setCommon(Q_DESC + 4, 4, 0);
    this.setCommon(Q_AVAIL, 4, AVAIL);
    this.setCommon(Q_AVAIL + 4, 4, 0);
    this.setCommon(Q_USED, 4, opts.used ?? USED);
    this.setCommon(Q_USED + 4, 4, 0);
    if (opts.msix) {
      this.enableMsix();
      this.setCommon(MSIX_CONFIG, 2, 0);
      this.setCommon(Q_MSIX, 2, 1);
    }
    this.setCommon(Q_ENABLE, 2, 1);
    this.availIdx = this.nextDesc = this.nextSlot = 0;
    this.setCommon(STATUS, 1, ACK | DRIVER | FEATURES_OK | DRIVER_OK);
  }

  /** MSI-X on, entry v sends vector 0x40 + v to the BSP's LAPIC (PCI 3.0 §6.8.2). */
  enableMsix(): void {
    for (let v = 0; v < 2; v++) {
      this.mmio.write(BAR1_BASE + 16 * v, 4, 0xfee0_0000);
      this.mmio.write(BAR1_BASE + 16 * v + 4, 4, 0);
      this.mmio.write(BAR1_BASE + 16 * v + 8, 4, 0x40 + v);
      this.mmio.write(BAR1_BASE + 16 * v + 12, 4, 0);
    }
    this.cfgWrite(this.msixCap + 2, 2, 0x8000);
  }

  /** Place a chain in the descriptor table (or an indirect table) and make it available; returns the head. */
  submit(parts: Part[], opts: { indirect?: boolean; kick?: boolean } = {}): number {
    const ram = this.view();
    const n = this.queueSize;
    const put = (table: number, i: number, p: Part, next: number | undefined) => {
      ram.setUint32(table + 16 * i, p.addr % 2 ** 32, true);
      ram.setUint32(table + 16 * i + 4, Math.floor(p.addr / 2 ** 32), true);
      ram.setUint32(table + 16 * i + 8, p.len >>> 0, true);
      ram.setUint16(table + 16 * i + 12, (p.write ? VRING_DESC_F_WRITE : 0) | (next !== undefined ? VRING_DESC_F_NEXT : 0), true);
      ram.setUint16(table + 16 * i + 14, next ?? 0, true);
    };
    let head: number;
    if (opts.indirect) {
      const table = INDIRECT + 0x400 * (this.nextSlot % 4);
      parts.forEach((p, i) => put(table, i, p, i + 1 < parts.length ? i + 1 : undefined));
      head = this.nextDesc % n;
      put(DESC, head, { addr: table, len: 16 * parts.length }, undefined);
      ram.setUint16(DESC + 16 * head + 12, VRING_DESC_F_INDIRECT, true);
      this.nextDesc++;
    } else {
      const slots = parts.map((_, i) => (this.nextDesc + i) % n);
      parts.forEach((p, i) => put(DESC, slots[i]!, p, i + 1 < parts.length ? slots[i + 1] : undefined));
      head = slots[0]!;
      this.nextDesc += parts.length;
    }
    this.nextSlot++;
    ram.setUint16(AVAIL + 4 + 2 * (this.availIdx % n), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    ram.setUint16(AVAIL + 2, this.availIdx, true);
    if (opts.kick ?? true) this.notify();
    return head;
  }

  /** A request in Linux's layout: header, data buffers, status byte; returns head and where its status lives. */
  request(type: number, sector: number, data: Part[], opts: { indirect?: boolean; kick?: boolean } = {}): { head: number; status: number } {
    const k = this.nextSlot % 64;
    const ram = this.view();
    ram.setUint32(HDR + 16 * k, type, true);
    ram.setUint32(HDR + 16 * k + 4, 0, true);
    ram.setUint32(HDR + 16 * k + 8, sector % 2 ** 32, true);
    ram.setUint32(HDR + 16 * k + 12, Math.floor(sector / 2 ** 32), true);
    const status = STATUS_AREA + k;
    ram.setUint8(status, 0xaa);
    const head = this.submit([{ addr: HDR + 16 * k, len: 16 }, ...data, { addr: status, len: 1, write: true }], opts);
    return { head, status };
  }

  view(): DataView { return new DataView((this.mem.view(0, RAM) as Uint8Array).buffer, (this.mem.view(0, RAM) as Uint8Array).byteOffset, RAM); }
  usedIdx(): number { return this.view().getUint16(USED + 2, true); }
  used(i: number): [number, number] { const v = this.view(); return [v.getUint32(USED + 4 + 8 * i, true), v.getUint32(USED + 8 + 8 * i, true)]; }
  statusByte(at: number): number { return this.view().getUint8(at); }
}

const bit = (n: number) => 1n << BigInt(n);
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function pattern(size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = (i * 7 + (i >> 9)) & 0xff;
  return d;
}

describe('virtio-blk over virtio-pci', () => {
  const h = new CpuHarness(loadCoreModule(), RAM);
  const mem = new GuestMemory(h.core);
  let disk: MemoryBlockBackend;
  let d: Driver;

  beforeEach(() => {
    h.core.ram.fill(0);
    disk = new MemoryBlockBackend(pattern(DISK), false, 'wasmpc-mem');
    d = new Driver(mem, disk);
  });

  describe('discovery (§4.1.2, §4.1.4)', () => {
    it('is a modern-only virtio block function with every structure in the 64-bit BAR', () => {
      expect(d.cfgRead(0x00, 2)).toBe(0x1af4);
      expect(d.cfgRead(0x02, 2)).toBe(0x1042);
      expect(d.cfgRead(0x08, 1)).toBeGreaterThanOrEqual(1);
      expect(d.cfgRead(0x08, 4) >>> 8).toBe(0x01_00_00);
      expect(d.cfgRead(0x2e, 2)).toBeGreaterThanOrEqual(0x40);
      expect(d.cfgRead(0x20, 4) & 0b110).toBe(0b100);
      expect([...d.caps.keys()].sort()).toEqual([CAP_COMMON, CAP_NOTIFY, CAP_ISR, CAP_DEVICE, CAP_PCI_CFG]);
      expect(d.caps.get(CAP_COMMON)!.length).toBeGreaterThanOrEqual(0x38);
      expect(d.notifyMultiplier % 2).toBe(0);
      expect(d.msixCap).not.toBe(0);
      expect(d.cfgRead(d.msixCap + 2, 2) & 0x7ff).toBe(1); // two vectors: config and queue 0
      expect(d.common(NUM_QUEUES, 2)).toBe(1);
    });

    it('offers VERSION_1, indirect descriptors, EVENT_IDX and the block features', () => {
      const f = d.deviceFeatures();
      for (const b of [F_VERSION_1, F_INDIRECT, F_EVENT_IDX, BLK_F_SIZE_MAX, BLK_F_SEG_MAX, BLK_F_BLK_SIZE, BLK_F_FLUSH,
        BLK_F_TOPOLOGY, BLK_F_DISCARD, BLK_F_WRITE_ZEROES]) expect(f & bit(b)).toBe(bit(b));
      expect(f & bit(BLK_F_RO)).toBe(0n);
    });

    it('describes the disk in its configuration space (§5.2.4)', () => {
      expect(d.deviceCfg(0, 4) + d.deviceCfg(4, 4) * 2 ** 32).toBe(DISK / 512);
      expect(d.deviceCfg(8, 4)).toBeGreaterThanOrEqual(4096); // size_max
      expect(d.deviceCfg(12, 4)).toBe(16 - 2); // seg_max fits a chain in the queue
      expect(d.deviceCfg(20, 4)).toBe(512); // blk_size
      expect(d.deviceCfg(24, 1)).toBe(3); // 4 KiB physical blocks
      expect(d.deviceCfg(26, 2)).toBe(8);
    });

    it('reaches the BAR through the PCI configuration access capability (§4.1.4.7)', () => {
      const cap = d.caps.get(CAP_PCI_CFG)!.at;
      d.cfgWrite(cap + 4, 1, 4);
      d.cfgWrite(cap + 8, 4, d.caps.get(CAP_COMMON)!.offset + NUM_QUEUES);
      d.cfgWrite(cap + 12, 4, 2);
      expect(d.cfgRead(cap + 16, 2)).toBe(1);
      d.cfgWrite(cap + 8, 4, d.caps.get(CAP_COMMON)!.offset + Q_SELECT);
      d.cfgWrite(cap + 16, 2, 7);
      expect(d.common(Q_SELECT, 2)).toBe(7);
      expect(d.common(Q_SIZE, 2)).toBe(0); // no queue 7
    });
  });

  describe('feature negotiation and status (§2.1, §2.2, §3.1)', () => {
    it('keeps FEATURES_OK only for an offered subset that includes VERSION_1', () => {
      expect(d.negotiate(bit(BLK_F_FLUSH))).toBe(false);
      expect(d.negotiate(bit(F_VERSION_1) | bit(40))).toBe(false);
      expect(d.negotiate(bit(F_VERSION_1) | bit(BLK_F_FLUSH))).toBe(true);
    });

    it('ignores driver features written after FEATURES_OK', () => {
      d.negotiate(bit(F_VERSION_1));
      d.setCommon(GFSELECT, 4, 0);
      d.setCommon(GF, 4, 0xffff_ffff);
      expect(d.common(GF, 4)).toBe(0);
    });

    it('offers its maximum queue size, takes a smaller power of two and refuses others', () => {
      d.negotiate(bit(F_VERSION_1));
      expect(d.common(Q_SIZE, 2)).toBe(16);
      d.setCommon(Q_SIZE, 2, 12);
      expect(d.common(Q_SIZE, 2)).toBe(16);
      d.setCommon(Q_SIZE, 2, 8);
      expect(d.common(Q_SIZE, 2)).toBe(8);
      d.setCommon(Q_MSIX, 2, 5); // beyond the MSI-X table: the mapping fails (§4.1.5.1.2.1)
      expect(d.common(Q_MSIX, 2)).toBe(NO_VECTOR);
    });

    it('resets when 0 is written to device_status (§4.1.4.3.1)', () => {
      d.init();
      expect(d.common(Q_ENABLE, 2)).toBe(1);
      d.setCommon(STATUS, 1, 0);
      expect(d.status()).toBe(0);
      expect(d.common(Q_ENABLE, 2)).toBe(0);
      expect(d.common(Q_DESC, 4)).toBe(0);
    });
  });

  describe('requests (§5.2.6)', () => {
    it('reads the disk into guest memory and reports the bytes written', async () => {
      d.init({ msix: true });
      const r = d.request(T_IN, 3, [{ addr: DATA, len: 1024, write: true }]);
      await settle();
      expect(d.statusByte(r.status)).toBe(S_OK);
      expect(h.readMem(DATA, 1024)).toEqual(disk.data.subarray(3 * 512, 5 * 512));
      expect(d.usedIdx()).toBe(1);
      expect(d.used(0)).toEqual([r.head, 1025]);
    });

    it('reads through an indirect table and scattered buffers', async () => {
      d.init();
      const r = d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }, { addr: DATA + 0x3000, len: 512, write: true }], { indirect: true });
      await settle();
      expect(d.statusByte(r.status)).toBe(S_OK);
      expect(h.readMem(DATA + 0x3000, 512)).toEqual(disk.data.subarray(512, 1024));
    });

    it('serves a request of seg_max segments in one indirect table, as Linux builds its largest', async () => {
      d.init();
      const segMax = d.deviceCfg(12, 4);
      const parts = Array.from({ length: segMax }, (_, i) => ({ addr: DATA + 0x1000 * i, len: 512, write: true }));
      const r = d.request(T_IN, 0, parts, { indirect: true });
      await settle();
      expect(d.statusByte(r.status)).toBe(S_OK);
      expect(h.readMem(DATA + 0x1000 * (segMax - 1), 512)).toEqual(disk.data.subarray(512 * (segMax - 1), 512 * segMax));
    });

    it('writes guest data to the backend', async () => {
      d.init();
      h.writeMem(DATA, new Array(512).fill(0x5a));
      const r = d.request(T_OUT, 10, [{ addr: DATA, len: 512 }]);
      await settle();
      expect(d.statusByte(r.status)).toBe(S_OK);
      expect(disk.data.subarray(10 * 512, 11 * 512).every((b) => b === 0x5a)).toBe(true);
      expect(d.used(0)).toEqual([r.head, 1]);
    });

    it('flushes the backend on FLUSH', async () => {
      let flushes = 0;
      disk.flush = async () => { flushes++; };
      d.init();
      const r = d.request(T_FLUSH, 0, []);
      await settle();
      expect([flushes, d.statusByte(r.status)]).toEqual([1, S_OK]);
    });

    it('returns the serial number for GET_ID, NUL-padded to 20 bytes', async () => {
      d.init();
      const r = d.request(T_GET_ID, 0, [{ addr: DATA, len: 20, write: true }]);
      await settle();
      expect(d.statusByte(r.status)).toBe(S_OK);
      expect(new TextDecoder().decode(h.readMem(DATA, 20))).toBe('wasmpc-disk-0\0\0\0\0\0\0\0');
      expect(d.used(0)[1]).toBe(21);
    });

    it('zeroes and discards ranges, refusing unknown flags and unmap on discard', async () => {
      d.init();
      const seg = (at: number, sector: number, n: number, flags: number) => {
        const v = d.view();
        v.setUint32(at, sector, true); v.setUint32(at + 4, 0, true); v.setUint32(at + 8, n, true); v.setUint32(at + 12, flags, true);
        return { addr: at, len: 16 };
      };
      const wz = d.request(T_WRITE_ZEROES, 0, [seg(DATA, 2, 2, 1), seg(DATA + 16, 8, 1, 0)]);
      const dc = d.request(T_DISCARD, 0, [seg(DATA + 32, 20, 4, 0)]);
      const bad = d.request(T_DISCARD, 0, [seg(DATA + 48, 20, 4, 1)]);
      const odd = d.request(T_WRITE_ZEROES, 0, [seg(DATA + 64, 20, 4, 0b10)]);
      const far = d.request(T_WRITE_ZEROES, 0, [seg(DATA + 80, DISK / 512, 1, 0)]);
      await settle();
      expect([wz, dc, bad, odd, far].map((r) => d.statusByte(r.status))).toEqual([S_OK, S_OK, S_UNSUPP, S_UNSUPP, S_IOERR]);
      expect(disk.data.subarray(2 * 512, 4 * 512).every((b) => b === 0)).toBe(true);
      expect(disk.data.subarray(8 * 512, 9 * 512).every((b) => b === 0)).toBe(true);
      expect(disk.data.subarray(20 * 512, 24 * 512).every((b) => b === 0)).toBe(true);
      expect(disk.data[4 * 512 + 1]).not.toBe(0);
    });

    it('refuses reads past the capacity, partial sectors and unknown types', async () => {
      d.init();
      const past = d.request(T_IN, DISK / 512 - 1, [{ addr: DATA, len: 1024, write: true }]);
      const partial = d.request(T_IN, 0, [{ addr: DATA, len: 100, write: true }]);
      const unknown = d.request(99, 0, []);
      await settle();
      expect([past, partial, unknown].map((r) => d.statusByte(r.status))).toEqual([S_IOERR, S_IOERR, S_UNSUPP]);
      expect(d.usedIdx()).toBe(3);
    });

    it('reports a backend failure as IOERR', async () => {
      disk.read = async () => { throw new Error('medium error'); };
      d.init();
      const r = d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      expect(d.statusByte(r.status)).toBe(S_IOERR);
    });

    it('completes requests out of order as the backend finishes them', async () => {
      const slow = new ControlledBackend(pattern(DISK));
      d = new Driver(mem, slow);
      d.init({ msix: true });
      const rs = [0, 1, 2].map((i) => d.request(T_IN, i, [{ addr: DATA + 0x1000 * i, len: 512, write: true }]));
      await settle();
      expect(d.usedIdx()).toBe(0);
      expect(d.blk.requestsInFlight).toBe(3);
      for (const w of [...slow.waiting].reverse()) {
        w.resolve();
        await settle();
      }
      expect(d.usedIdx()).toBe(3);
      expect([0, 1, 2].map((i) => d.used(i)[0])).toEqual([rs[2]!.head, rs[1]!.head, rs[0]!.head]);
      expect(h.readMem(DATA + 0x2000, 512)).toEqual(slow.data.subarray(1024, 1536));
      expect(d.msi.length).toBe(3);
      expect(d.wakes).toBeGreaterThanOrEqual(3);
    });
  });

  describe('a read-only backend', () => {
    it('offers VIRTIO_BLK_F_RO and fails writes with IOERR without writing (§5.2.6.2)', async () => {
      const ro = new MemoryBlockBackend(pattern(DISK), true);
      d = new Driver(mem, ro);
      const f = d.deviceFeatures();
      expect(f & bit(BLK_F_RO)).toBe(bit(BLK_F_RO));
      expect(f & (bit(BLK_F_DISCARD) | bit(BLK_F_WRITE_ZEROES))).toBe(0n);
      d.init();
      h.writeMem(DATA, new Array(512).fill(0x5a));
      const w = d.request(T_OUT, 0, [{ addr: DATA, len: 512 }]);
      const z = d.request(T_WRITE_ZEROES, 0, [{ addr: DATA, len: 16 }]);
      await settle();
      expect([d.statusByte(w.status), d.statusByte(z.status)]).toEqual([S_IOERR, S_IOERR]);
      expect(ro.data.subarray(0, 512)).toEqual(pattern(DISK).subarray(0, 512));
    });
  });

  describe('interrupts (§4.1.5.3, §4.1.5.4)', () => {
    it('sends the queue vector as an MSI-X message to the sink', async () => {
      d.init({ msix: true });
      d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      expect(d.msi).toEqual([[0xfee0_0000, 0x41]]);
      expect(d.pirq.every((p) => !p.level)).toBe(true);
    });

    it('without MSI-X raises INTx and sets the ISR, which a read clears', async () => {
      d.init();
      d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      const line = d.pirq.find((p) => p.level);
      expect(line).toBeDefined();
      expect(d.cfgRead(0x06, 2) & 0x08).toBe(0x08); // PCI status: interrupt
      expect(d.isr()).toBe(1);
      expect(line!.level).toBe(false);
      expect(d.isr()).toBe(0);
    });

    it('suppresses notifications with EVENT_IDX until used_event is crossed (§2.7.7.2)', async () => {
      d.init({ msix: true, extra: [bit(F_EVENT_IDX)] });
      const v = d.view();
      d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      expect(d.msi.length).toBe(1);
      expect(v.getUint16(USED + 4 + 8 * 16, true)).toBe(1); // avail_event
      v.setUint16(AVAIL + 4 + 2 * 16, 2, true); // used_event: after the third completion
      d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      expect(d.msi.length).toBe(1);
      d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      expect(d.msi.length).toBe(2);
    });

    it('drops completions that arrive after a reset', async () => {
      const slow = new ControlledBackend(pattern(DISK));
      d = new Driver(mem, slow);
      d.init({ msix: true });
      const r = d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      d.setCommon(STATUS, 1, 0);
      slow.waiting[0]!.resolve();
      await settle();
      expect([d.usedIdx(), d.statusByte(r.status), d.msi.length]).toEqual([0, 0xaa, 0]);
    });
  });

  describe('a hostile driver', () => {
    /** After DEVICE_NEEDS_RESET: a reset and a fresh setup serve a well-formed read again. */
    async function recovers(): Promise<void> {
      d.init({ msix: true });
      expect(d.status() & NEEDS_RESET).toBe(0);
      const r = d.request(T_IN, 1, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      expect(d.statusByte(r.status)).toBe(S_OK);
      expect(h.readMem(DATA, 512)).toEqual(disk.data.subarray(512, 1024));
    }

    function needsReset(): void {
      expect(d.status() & NEEDS_RESET).toBe(NEEDS_RESET);
      expect(d.msi.at(-1)).toEqual([0xfee0_0000, 0x40]); // configuration change on vector 0
    }

    it('gets a descriptor loop answered with DEVICE_NEEDS_RESET', async () => {
      d.init({ msix: true });
      const v = d.view();
      const head = d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }], { kick: false }).head;
      v.setUint16(DESC + 16 * (head + 2) + 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, true);
      v.setUint16(DESC + 16 * (head + 2) + 14, head, true);
      d.notify();
      needsReset();
      d.notify();
      await recovers();
    });

    it('gets a chain longer than the queue answered with DEVICE_NEEDS_RESET', async () => {
      d.init({ msix: true });
      const parts = Array.from({ length: 20 }, (_, i) => ({ addr: DATA + 512 * i, len: 512, write: true }));
      d.request(T_IN, 0, parts, { indirect: true });
      needsReset();
      await recovers();
    });

    it('gets buffers beyond RAM and lengths of 2^32-1 failed with IOERR, and carries on', async () => {
      d.init({ msix: true });
      const a = d.request(T_IN, 0, [{ addr: RAM - 256, len: 512, write: true }]);
      const b = d.request(T_OUT, 0, [{ addr: DATA, len: 0xffff_ffff }]);
      const c = d.request(T_IN, 0, [{ addr: 2 ** 36, len: 512, write: true }]);
      await settle();
      expect([a, b, c].map((r) => d.statusByte(r.status))).toEqual([S_IOERR, S_IOERR, S_IOERR]);
      expect(d.status() & NEEDS_RESET).toBe(0);
      const ok = d.request(T_IN, 0, [{ addr: DATA, len: 512, write: true }]);
      await settle();
      expect(d.statusByte(ok.status)).toBe(S_OK);
    });

    it('gets wrong directions, short headers and oversized requests failed with IOERR', async () => {
      d.init({ msix: true });
      const readIntoReadable = d.request(T_IN, 0, [{ addr: DATA, len: 512 }]);
      const writeFromWritable = d.request(T_OUT, 0, [{ addr: DATA, len: 512, write: true }]);
      const st = STATUS_AREA + 100;
      d.view().setUint8(st, 0xaa);
      d.submit([{ addr: HDR, len: 8 }, { addr: st, len: 1, write: true }]);
      const huge = d.request(T_IN, 0, [{ addr: 0, len: RAM - 0x1000, write: true }]);
      await settle();
      expect([readIntoReadable, writeFromWritable, { status: st }, huge].map((r) => d.statusByte(r.status)))
        .toEqual([S_IOERR, S_IOERR, S_IOERR, S_IOERR]);
      expect(d.status() & NEEDS_RESET).toBe(0);
    });

    it('gets a chain without a writable status byte answered with DEVICE_NEEDS_RESET', async () => {
      d.init({ msix: true });
      d.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 512 }]);
      needsReset();
      await recovers();
    });

    it('gets a used ring outside RAM answered with DEVICE_NEEDS_RESET at DRIVER_OK', async () => {
      d.init({ msix: true, used: RAM - 8 });
      needsReset();
      expect(d.dev.lastError).toMatch(/used ring/);
      d.notify();
      await recovers();
    });

    it('gets an available index jumping far ahead answered with DEVICE_NEEDS_RESET', async () => {
      d.init({ msix: true });
      d.view().setUint16(AVAIL + 2, 0x8000, true);
      d.notify();
      needsReset();
      await recovers();
    });

    it('gets a head index outside the table answered with DEVICE_NEEDS_RESET', async () => {
      d.init({ msix: true });
      const v = d.view();
      v.setUint16(AVAIL + 4, 999, true);
      v.setUint16(AVAIL + 2, 1, true);
      d.notify();
      needsReset();
      await recovers();
    });

    it('cannot reach DRIVER_OK without FEATURES_OK', () => {
      d.setCommon(STATUS, 1, ACK | DRIVER);
      d.setCommon(STATUS, 1, ACK | DRIVER | DRIVER_OK);
      expect(d.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    });

    it('survives random garbage in every ring without throwing', async () => {
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
      for (let round = 0; round < 200; round++) {
        d.init({ msix: true });
        const v = d.view();
        for (let i = 0; i < 0x3000; i += 4) v.setUint32(DESC + i, rnd(), true);
        v.setUint16(AVAIL + 2, rnd() & 0x1f, true);
        expect(() => d.notify()).not.toThrow();
        await settle();
      }
      await recovers();
    });
  });
});
