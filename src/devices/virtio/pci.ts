// The virtio 1.x PCI transport, modern interface only (virtio 1.2 §4.1): a PCI function with vendor 0x1AF4 and
// device 0x1040 + type, whose vendor-specific capabilities point at register blocks inside one 64-bit memory
// BAR (common configuration, notifications, ISR status, device-specific configuration), plus the
// PCI-configuration-access capability and MSI-X with a vector per queue and one for configuration changes.
// Without MSI-X the function falls back to INTx# and the read-to-clear ISR register.
//
// The transport owns feature negotiation, the device status state machine (§2.1, §3.1) and queue placement;
// the VirtioDevice behind it sees queues, features and an interrupt callback only.
import type { AccessSize } from '../device';
import type { PciFunction } from '../pci';
import { BarKind, CapId, IntxPin, PciConfig, type PciIdentity } from '../pci-config';
import type { GuestMemory } from '../../machine/dma';
import { QueueError, SplitQueue } from './queue';
import {
  VIRTIO_F_RING_EVENT_IDX, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1, VirtioDeviceType,
  type VirtioDevice, type VirtioInterrupt,
} from './device';

/** §4.1.2: every virtio PCI function has this vendor; a modern-only device has device ID 0x1040 + type. */
export const VIRTIO_PCI_VENDOR_ID = 0x1af4;
export const VIRTIO_PCI_DEVICE_ID_BASE = 0x1040;
/** §4.1.2.1: a non-transitional device has revision 1 or higher and a subsystem ID of 0x40 or higher. */
const VIRTIO_PCI_REVISION = 1;
const VIRTIO_PCI_SUBSYSTEM_ID = 0x1100;

/** PCI class codes by device type (base class << 16 | subclass << 8), as QEMU presents them. */
const CLASS_BY_TYPE: Partial<Record<VirtioDeviceType, number>> = {
  [VirtioDeviceType.Net]: 0x02_00_00,
  [VirtioDeviceType.Block]: 0x01_00_00,
};
const CLASS_OTHER = 0xff_00_00;

// Device status (§2.1).
export const STATUS_ACKNOWLEDGE = 0b0000_0001;
export const STATUS_DRIVER = 0b0000_0010;
export const STATUS_DRIVER_OK = 0b0000_0100;
export const STATUS_FEATURES_OK = 0b0000_1000;
export const STATUS_DEVICE_NEEDS_RESET = 0b0100_0000;
export const STATUS_FAILED = 0b1000_0000;

/** ISR status bits (§4.1.4.5). */
export const ISR_QUEUE = 0b01;
export const ISR_CONFIG = 0b10;
/** §4.1.5.1.2: "no vector" in config_msix_vector / queue_msix_vector. */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;

/** cfg_type of struct virtio_pci_cap (§4.1.4). */
export const enum VirtioPciCap {
  Common = 1,
  Notify = 2,
  Isr = 3,
  Device = 4,
  PciCfg = 5,
}

// struct virtio_pci_cap (§4.1.4): cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2], offset, length;
// the notify capability adds notify_off_multiplier and the PCI-config-access capability pci_cfg_data.
const CAP_LEN = 2;
const CAP_CFG_TYPE = 3;
const CAP_BAR = 4;
const CAP_OFFSET = 8;
const CAP_LENGTH = 12;
const CAP_EXTRA = 16;
const CAP_SIZE = 16;
const CAP_SIZE_EXTRA = 20;

/** struct virtio_pci_common_cfg (§4.1.4.3), virtio 1.1 layout: queue_notify_data and queue_reset are absent
 *  because VIRTIO_F_NOTIF_CONFIG_DATA and VIRTIO_F_RING_RESET are not offered. */
export const enum Common {
  DeviceFeatureSelect = 0x00,
  DeviceFeature = 0x04,
  DriverFeatureSelect = 0x08,
  DriverFeature = 0x0c,
  ConfigMsixVector = 0x10,
  NumQueues = 0x12,
  DeviceStatus = 0x14,
  ConfigGeneration = 0x15,
  QueueSelect = 0x16,
  QueueSize = 0x18,
  QueueMsixVector = 0x1a,
  QueueEnable = 0x1c,
  QueueNotifyOff = 0x1e,
  QueueDescLo = 0x20,
  QueueDescHi = 0x24,
  QueueDriverLo = 0x28,
  QueueDriverHi = 0x2c,
  QueueDeviceLo = 0x30,
  QueueDeviceHi = 0x34,
}
const COMMON_LENGTH = 0x38;

// Where the structures sit in the virtio BAR: a 4 KiB page each, as QEMU lays them out.
export const VIRTIO_BAR = 4;
const VIRTIO_BAR_SIZE = 0x4000;
const COMMON_OFFSET = 0x0000;
const ISR_OFFSET = 0x1000;
const DEVICE_OFFSET = 0x2000;
const NOTIFY_OFFSET = 0x3000;
const REGION_SIZE = 0x1000;
/** §4.1.4.4: queue n notifies at cap.offset + n * multiplier (queue_notify_off = n). */
const NOTIFY_OFF_MULTIPLIER = 4;
/** The MSI-X table and PBA live in their own 32-bit BAR. */
export const MSIX_BAR = 1;
const MSIX_BAR_SIZE = 0x1000;
const MSIX_PBA_OFFSET = 0x800;

const TWO_32 = 2 ** 32;
const BYTE_MASKS = [0, 0xff, 0xffff, 0, 0xffff_ffff] as const;

/** Config space with a hook on reads of pci_cfg_data: §4.1.4.7.1 makes such a read perform a BAR read. */
class VirtioPciConfig extends PciConfig {
  cfgDataAt = -1;
  onCfgDataRead: (() => void) | undefined;

  override read(offset: number, size: AccessSize): number {
    if (this.cfgDataAt >= 0 && offset < this.cfgDataAt + 4 && this.cfgDataAt < offset + size) this.onCfgDataRead?.();
    return super.read(offset, size);
  }
}

/** The driver's view of one queue (§4.1.4.3, the queue_* fields selected by queue_select). */
interface QueueRegs {
  readonly max: number;
  size: number;
  msixVector: number;
  enabled: boolean;
  /** queue_desc, queue_driver, queue_device as lo/hi dword pairs. */
  readonly addr: Uint32Array;
}

/** One register of the common configuration: how to read it and, if the driver may, write it. */
interface Field {
  offset: number;
  width: 1 | 2 | 4;
  get(): number;
  set?(value: number): void;
}

export interface VirtioPciOptions {
  device: VirtioDevice;
  mem: GuestMemory;
  /**
   * Called after every interrupt the function raises. Completions arrive from promise callbacks between CPU
   * slices, so the machine's scheduler must be woken (e.g. `() => scheduler.wake()`).
   */
  wake: () => void;
}

export class VirtioPci implements PciFunction {
  readonly config: PciConfig;
  /** Why the device last set DEVICE_NEEDS_RESET, for a log. */
  lastError: string | undefined;
  private readonly device: VirtioDevice;
  private readonly mem: GuestMemory;
  private readonly wake: () => void;
  private readonly offered: bigint;
  private readonly queues: QueueRegs[];
  private readonly fields: Field[];
  private readonly pciCfgCap: number;
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private driverFeatures = 0n;
  private configMsixVector = VIRTIO_MSI_NO_VECTOR;
  private statusBits = 0;
  private configGeneration = 0;
  private queueSelect = 0;
  private isr = 0;
  /** DRIVER_OK was accepted and the device activated; cleared by reset and by DEVICE_NEEDS_RESET. */
  private live = false;

  constructor(opts: VirtioPciOptions) {
    const device = opts.device;
    this.device = device;
    this.mem = opts.mem;
    this.wake = opts.wake;
    this.offered = device.features | VIRTIO_F_VERSION_1 | VIRTIO_F_RING_INDIRECT_DESC | VIRTIO_F_RING_EVENT_IDX;
    const numQueues = device.queueMaxSizes.length;
    if (numQueues < 1 || numQueues * NOTIFY_OFF_MULTIPLIER > REGION_SIZE || device.configSize > REGION_SIZE) {
      throw new RangeError(`wasmpc: virtio-pci: ${numQueues} queues and ${device.configSize} config bytes do not fit the BAR layout`);
    }
    this.queues = device.queueMaxSizes.map((max) => ({ max, size: max, msixVector: VIRTIO_MSI_NO_VECTOR, enabled: false, addr: new Uint32Array(6) }));

    const id: PciIdentity = {
      vendorId: VIRTIO_PCI_VENDOR_ID,
      deviceId: VIRTIO_PCI_DEVICE_ID_BASE + device.deviceType,
      classCode: CLASS_BY_TYPE[device.deviceType] ?? CLASS_OTHER,
      revision: VIRTIO_PCI_REVISION,
      subsystemVendorId: VIRTIO_PCI_VENDOR_ID,
      subsystemId: VIRTIO_PCI_SUBSYSTEM_ID,
      interruptPin: IntxPin.IntA,
    };
    const c = new VirtioPciConfig(id);
    c.declareBar(MSIX_BAR, { kind: BarKind.Mem32, size: MSIX_BAR_SIZE });
    c.declareBar(VIRTIO_BAR, { kind: BarKind.Mem64, size: VIRTIO_BAR_SIZE });
    // §4.1.4: one capability per structure; §4.1.4.2: cap_len covers the extra fields.
    this.addVirtioCap(c, VirtioPciCap.Common, COMMON_OFFSET, COMMON_LENGTH);
    const notify = this.addVirtioCap(c, VirtioPciCap.Notify, NOTIFY_OFFSET, numQueues * NOTIFY_OFF_MULTIPLIER, CAP_SIZE_EXTRA);
    c.set32(notify + CAP_EXTRA, NOTIFY_OFF_MULTIPLIER);
    this.addVirtioCap(c, VirtioPciCap.Isr, ISR_OFFSET, 1);
    if (device.configSize > 0) this.addVirtioCap(c, VirtioPciCap.Device, DEVICE_OFFSET, device.configSize);
    // §4.1.4.7: bar, offset, length and pci_cfg_data are the driver's to write.
    const cfg = this.addVirtioCap(c, VirtioPciCap.PciCfg, 0, 0, CAP_SIZE_EXTRA);
    c.set8(cfg + CAP_BAR, 0);
    c.setWritable(cfg + CAP_BAR, 1, 0xff);
    c.setWritable(cfg + CAP_OFFSET, 4);
    c.setWritable(cfg + CAP_LENGTH, 4);
    c.setWritable(cfg + CAP_EXTRA, 4);
    c.cfgDataAt = cfg + CAP_EXTRA;
    c.onCfgDataRead = () => this.cfgAccessRead();
    this.pciCfgCap = cfg;
    // §4.1.5.1.2.1: vectors for every queue and for configuration changes.
    c.addMsix({ vectors: numQueues + 1, tableBar: MSIX_BAR, tableOffset: 0, pbaBar: MSIX_BAR, pbaOffset: MSIX_PBA_OFFSET });
    this.config = c;
    this.fields = this.commonFields();
  }

  /** The device status byte (§2.1), as the driver reads it. */
  get status(): number { return this.statusBits; }

  // ---- PciFunction ----

  barRead(bar: number, offset: number, size: AccessSize): number {
    if (bar !== VIRTIO_BAR) return 0;
    if (offset >= COMMON_OFFSET && offset < COMMON_OFFSET + COMMON_LENGTH) return this.commonRead(offset - COMMON_OFFSET, size);
    if (offset === ISR_OFFSET) return this.isrRead();
    const dev = offset - DEVICE_OFFSET;
    if (dev >= 0 && dev < this.device.configSize) return this.deviceConfigRead(dev, size);
    return 0;
  }

  barWrite(bar: number, offset: number, size: AccessSize, value: number): void {
    if (bar !== VIRTIO_BAR) return;
    if (offset >= COMMON_OFFSET && offset < COMMON_OFFSET + COMMON_LENGTH) return this.commonWrite(offset - COMMON_OFFSET, size, value);
    const dev = offset - DEVICE_OFFSET;
    if (dev >= 0 && dev < this.device.configSize) return this.deviceConfigWrite(dev, size, value);
    const n = offset - NOTIFY_OFFSET;
    if (n >= 0 && n < this.queues.length * NOTIFY_OFF_MULTIPLIER && n % NOTIFY_OFF_MULTIPLIER === 0) this.queueNotify(n / NOTIFY_OFF_MULTIPLIER);
  }

  /** RST#: the core restored config space (MSI-X included); the device goes back to power-on state. */
  reset(): void {
    this.resetDevice();
    this.configGeneration = 0;
  }

  configWritten(offset: number, size: AccessSize): void {
    const data = this.pciCfgCap + CAP_EXTRA;
    if (offset < data + 4 && data < offset + size) this.cfgAccessWrite();
  }

  // ---- common configuration (§4.1.4.3) ----

  private commonFields(): Field[] {
    const q = () => this.queues[this.queueSelect];
    const queueAddr = (offset: number, i: number): Field => ({
      offset, width: 4,
      get: () => q()?.addr[i] ?? 0,
      set: (v) => { const s = q(); if (s && !s.enabled) s.addr[i] = v >>> 0; },
    });
    return [
      { offset: Common.DeviceFeatureSelect, width: 4, get: () => this.deviceFeatureSelect, set: (v) => { this.deviceFeatureSelect = v >>> 0; } },
      { offset: Common.DeviceFeature, width: 4, get: () => featureWord(this.offered, this.deviceFeatureSelect) },
      { offset: Common.DriverFeatureSelect, width: 4, get: () => this.driverFeatureSelect, set: (v) => { this.driverFeatureSelect = v >>> 0; } },
      { offset: Common.DriverFeature, width: 4, get: () => featureWord(this.driverFeatures, this.driverFeatureSelect), set: (v) => this.writeDriverFeatures(v) },
      { offset: Common.ConfigMsixVector, width: 2, get: () => this.configMsixVector, set: (v) => { this.configMsixVector = this.mapVector(v); } },
      { offset: Common.NumQueues, width: 2, get: () => this.queues.length },
      { offset: Common.DeviceStatus, width: 1, get: () => this.statusBits, set: (v) => this.writeStatus(v) },
      { offset: Common.ConfigGeneration, width: 1, get: () => this.configGeneration },
      { offset: Common.QueueSelect, width: 2, get: () => this.queueSelect, set: (v) => { this.queueSelect = v; } },
      // §4.1.4.3.1: an unavailable queue reads size 0.
      { offset: Common.QueueSize, width: 2, get: () => q()?.size ?? 0, set: (v) => this.writeQueueSize(v) },
      { offset: Common.QueueMsixVector, width: 2, get: () => q()?.msixVector ?? VIRTIO_MSI_NO_VECTOR,
        set: (v) => { const s = q(); if (s) s.msixVector = this.mapVector(v); } },
      // §4.1.4.3.2: the driver MUST NOT write 0 to queue_enable; enabling is one-way until reset.
      { offset: Common.QueueEnable, width: 2, get: () => (q()?.enabled ? 1 : 0), set: (v) => { const s = q(); if (s && v === 1) s.enabled = true; } },
      { offset: Common.QueueNotifyOff, width: 2, get: () => (q() ? this.queueSelect : 0) },
      queueAddr(Common.QueueDescLo, 0), queueAddr(Common.QueueDescHi, 1),
      queueAddr(Common.QueueDriverLo, 2), queueAddr(Common.QueueDriverHi, 3),
      queueAddr(Common.QueueDeviceLo, 4), queueAddr(Common.QueueDeviceHi, 5),
    ];
  }

  /** §4.1.3.1 asks for natural-width accesses; others are served byte by byte from the fields they cover. */
  private commonRead(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      const f = this.fields.find((x) => at >= x.offset && at < x.offset + x.width);
      if (f) value |= ((f.get() >>> (8 * (at - f.offset))) & 0xff) << (8 * i);
    }
    return value >>> 0;
  }

  private commonWrite(offset: number, size: AccessSize, value: number): void {
    for (const f of this.fields) {
      if (!f.set || offset >= f.offset + f.width || f.offset >= offset + size) continue;
      let merged = f.get();
      for (let i = 0; i < size; i++) {
        const at = offset + i - f.offset;
        if (at < 0 || at >= f.width) continue;
        const byte = (value >>> (8 * i)) & 0xff;
        merged = (merged & ~(0xff << (8 * at))) | (byte << (8 * at));
      }
      f.set((merged & BYTE_MASKS[f.width]) >>> 0);
    }
  }

  private writeDriverFeatures(value: number): void {
    // §3.1.1: features are settled once FEATURES_OK is set; later writes change nothing.
    if (this.statusBits & STATUS_FEATURES_OK) return;
    const sel = this.driverFeatureSelect;
    if (sel > 1) return;
    const shift = BigInt(32 * sel);
    this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value >>> 0) << shift);
  }

  private writeQueueSize(value: number): void {
    const s = this.queues[this.queueSelect];
    // §4.1.4.3.2: a power of 2 (split rings), no larger than the maximum the device offered.
    if (!s || s.enabled || value === 0 || value > s.max || (value & (value - 1)) !== 0) return;
    s.size = value;
  }

  /** §4.1.5.1.2.1: a vector beyond the MSI-X table cannot be mapped; the field then reads NO_VECTOR. */
  private mapVector(value: number): number {
    const msix = this.config.msix;
    return msix && value < msix.vectors ? value : VIRTIO_MSI_NO_VECTOR;
  }

  // ---- device status (§2.1, §3.1) ----

  private writeStatus(value: number): void {
    // §4.1.4.3.1: writing 0 resets the device.
    if (value === 0) {
      this.resetDevice();
      return;
    }
    const old = this.statusBits;
    // §2.1.1: the driver never clears bits (only a reset does) and does not set DEVICE_NEEDS_RESET.
    let next = ((value & ~STATUS_DEVICE_NEEDS_RESET) | old) & 0xff;
    if ((next & STATUS_FEATURES_OK) && !(old & STATUS_FEATURES_OK) && !this.featuresAcceptable()) {
      // §2.2.2: features the device cannot work with leave FEATURES_OK clear for the driver to see.
      next &= ~STATUS_FEATURES_OK;
    }
    this.statusBits = next;
    if ((next & STATUS_DRIVER_OK) && !(old & STATUS_DRIVER_OK) && !(next & STATUS_DEVICE_NEEDS_RESET)) this.activate();
  }

  private featuresAcceptable(): boolean {
    const f = this.driverFeatures;
    // §2.2.1: the driver accepts only offered features; §6.1: a modern-only device needs VERSION_1.
    if ((f & ~this.offered) !== 0n || !(f & VIRTIO_F_VERSION_1)) return false;
    return this.device.acceptFeatures?.(f) ?? true;
  }

  private activate(): void {
    if (!(this.statusBits & STATUS_FEATURES_OK)) {
      this.needsReset('the driver set DRIVER_OK without FEATURES_OK (§3.1.1)');
      return;
    }
    const f = this.driverFeatures;
    const ring = { indirect: (f & VIRTIO_F_RING_INDIRECT_DESC) !== 0n, eventIdx: (f & VIRTIO_F_RING_EVENT_IDX) !== 0n };
    const queues: Array<SplitQueue | undefined> = [];
    for (const [i, s] of this.queues.entries()) {
      if (!s.enabled) {
        queues.push(undefined);
        continue;
      }
      const q = SplitQueue.create(this.mem, {
        size: s.size,
        desc: s.addr[1]! * TWO_32 + s.addr[0]!,
        avail: s.addr[3]! * TWO_32 + s.addr[2]!,
        used: s.addr[5]! * TWO_32 + s.addr[4]!,
      }, ring);
      if (q instanceof QueueError) {
        this.needsReset(`queue ${i}: ${q.message}`);
        return;
      }
      queues.push(q);
    }
    this.live = true;
    this.device.activate({ mem: this.mem, queues, features: f, interrupt: this.interrupt });
  }

  private readonly interrupt: VirtioInterrupt = {
    queue: (index) => this.signalQueue(index),
    config: () => {
      // §2.5: a change of device-specific configuration changes config_generation.
      this.configGeneration = (this.configGeneration + 1) & 0xff;
      this.signalConfig();
    },
    needsReset: (reason) => this.needsReset(reason),
  };

  /** §2.1.2: set DEVICE_NEEDS_RESET, stop serving queues, and tell a live driver with a configuration change. */
  private needsReset(reason: string): void {
    if (this.statusBits & STATUS_DEVICE_NEEDS_RESET) return;
    this.lastError = reason;
    this.statusBits |= STATUS_DEVICE_NEEDS_RESET;
    this.live = false;
    if (this.statusBits & STATUS_DRIVER_OK) this.signalConfig();
  }

  private resetDevice(): void {
    this.device.reset();
    this.live = false;
    this.statusBits = 0;
    this.deviceFeatureSelect = 0;
    this.driverFeatureSelect = 0;
    this.driverFeatures = 0n;
    // §4.1.5.1.2.1: every event is unmapped on reset.
    this.configMsixVector = VIRTIO_MSI_NO_VECTOR;
    this.queueSelect = 0;
    for (const s of this.queues) {
      s.size = s.max;
      s.msixVector = VIRTIO_MSI_NO_VECTOR;
      s.enabled = false;
      s.addr.fill(0);
    }
    this.isr = 0;
    this.config.intx.lower();
  }

  // ---- notifications and interrupts (§4.1.5.2 .. §4.1.5.4) ----

  private queueNotify(index: number): void {
    if (!this.live || !this.queues[index]?.enabled) return;
    this.device.notify(index);
  }

  private signalQueue(index: number): void {
    const s = this.queues[index];
    if (!this.live || !s) return;
    this.raise(s.msixVector, ISR_QUEUE);
  }

  private signalConfig(): void {
    if (!(this.statusBits & STATUS_DRIVER_OK)) return;
    this.raise(this.configMsixVector, ISR_CONFIG);
  }

  /** §4.1.5.3 / §4.1.5.4: with MSI-X, the mapped vector (none if unmapped); without, an ISR bit and INTx#. */
  private raise(vector: number, isrBit: number): void {
    const msix = this.config.msix;
    if (msix?.enabled) {
      if (vector !== VIRTIO_MSI_NO_VECTOR) msix.notify(vector);
    } else {
      // §4.1.4.5.1: the PCI Interrupt Status bit follows the ISR (PciConfig keeps it with the INTx# level).
      this.isr |= isrBit;
      this.config.intx.raise();
    }
    this.wake();
  }

  /** §4.1.4.5.1: reading the ISR returns and clears it, which deasserts INTx#. */
  private isrRead(): number {
    const v = this.isr;
    this.isr = 0;
    this.config.intx.lower();
    return v;
  }

  // ---- device-specific configuration (§4.1.4.6) ----

  private deviceConfigRead(offset: number, size: AccessSize): number {
    const n = this.device.configSize;
    if (offset + size <= n) return this.device.readConfig(offset, size) >>> 0;
    let value = 0;
    for (let i = 0; i < size && offset + i < n; i++) value |= this.device.readConfig(offset + i, 1) << (8 * i);
    return value >>> 0;
  }

  private deviceConfigWrite(offset: number, size: AccessSize, value: number): void {
    const n = this.device.configSize;
    if (offset + size <= n) return this.device.writeConfig(offset, size, value);
    for (let i = 0; i < size && offset + i < n; i++) this.device.writeConfig(offset + i, 1, (value >>> (8 * i)) & 0xff);
  }

  // ---- PCI configuration access capability (§4.1.4.7) ----

  /** The BAR access the PCI_CFG capability currently describes, if §4.1.4.7.2 allows it. */
  private cfgAccess(): { offset: number; size: AccessSize } | undefined {
    const c = this.config;
    const cap = this.pciCfgCap;
    const bar = c.get8(cap + CAP_BAR);
    const offset = c.get32(cap + CAP_OFFSET);
    const length = c.get32(cap + CAP_LENGTH);
    if (bar !== VIRTIO_BAR || (length !== 1 && length !== 2 && length !== 4)) return undefined;
    if (offset % length !== 0 || offset + length > VIRTIO_BAR_SIZE) return undefined;
    return { offset, size: length };
  }

  private cfgAccessRead(): void {
    const a = this.cfgAccess();
    if (!a) return;
    const data = this.pciCfgCap + CAP_EXTRA;
    const value = this.barRead(VIRTIO_BAR, a.offset, a.size);
    for (let i = 0; i < a.size; i++) this.config.set8(data + i, value >>> (8 * i));
  }

  private cfgAccessWrite(): void {
    const a = this.cfgAccess();
    if (!a) return;
    const value = this.config.get32(this.pciCfgCap + CAP_EXTRA) & BYTE_MASKS[a.size];
    this.barWrite(VIRTIO_BAR, a.offset, a.size, value >>> 0);
  }

  private addVirtioCap(c: PciConfig, type: VirtioPciCap, offset: number, length: number, capSize = CAP_SIZE): number {
    const at = c.addCapability(CapId.VendorSpecific, capSize);
    c.set8(at + CAP_LEN, capSize);
    c.set8(at + CAP_CFG_TYPE, type);
    c.set8(at + CAP_BAR, VIRTIO_BAR);
    c.set32(at + CAP_OFFSET, offset);
    c.set32(at + CAP_LENGTH, length);
    return at;
  }
}

/** Dword `select` of a 64-bit feature set (§4.1.4.3: device_feature_select / driver_feature_select). */
function featureWord(features: bigint, select: number): number {
  if (select > 1) return 0;
  return Number((features >> BigInt(32 * select)) & 0xffff_ffffn);
}
