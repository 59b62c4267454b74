// A virtio device as its transport sees it (virtio 1.2 §2, Firecracker's VirtioDevice): a device type, the
// feature bits it offers, a device-specific configuration space, queues and their maximum sizes, and activate /
// reset. The device does not know whether it sits on PCI or MMIO; the transport (virtio/pci.ts) owns feature
// negotiation, the status state machine, queue placement and interrupt delivery.
import type { AccessSize } from '../device';
import type { GuestMemory } from '../../machine/dma';
import type { SplitQueue } from './queue';

/** Device types (virtio 1.2 §5, "Device Types"). */
export const enum VirtioDeviceType {
  Net = 1,
  Block = 2,
}

// Reserved feature bits the transport and the ring implementation handle (virtio 1.2 §6), as bigint masks since
// the feature space is 64 bits wide.
/** §2.7.5.3: descriptors may point at indirect tables. */
export const VIRTIO_F_RING_INDIRECT_DESC = 1n << 28n;
/** §2.7.7 and §2.7.10: used_event / avail_event notification suppression. */
export const VIRTIO_F_RING_EVENT_IDX = 1n << 29n;
/** §6.1: the device complies with this specification rather than the legacy interface. */
export const VIRTIO_F_VERSION_1 = 1n << 32n;

/** How a device reaches the driver; the transport turns these into MSI-X messages or INTx plus ISR bits. */
export interface VirtioInterrupt {
  /** A used-buffer notification for queue `index` (the device already checked the queue's suppression). */
  queue(index: number): void;
  /** A configuration change notification (§2.5: the device-specific configuration changed). */
  config(): void;
  /**
   * §2.1.2: the device entered an error state that only a reset clears (a corrupt ring, a chain with nowhere to
   * report its failure). The transport sets DEVICE_NEEDS_RESET and notifies the driver.
   */
  needsReset(reason: string): void;
}

/** What the transport hands over when the driver sets DRIVER_OK (§3.1.1 step 8). */
export interface VirtioActivation {
  mem: GuestMemory;
  /** One per queue the device declared; undefined where the driver did not enable that queue. */
  queues: ReadonlyArray<SplitQueue | undefined>;
  /** The negotiated feature bits. */
  features: bigint;
  interrupt: VirtioInterrupt;
}

export interface VirtioDevice {
  readonly deviceType: VirtioDeviceType;
  /** Device-specific feature bits offered (0..23 and any others the device defines); the transport adds the
   *  reserved ones it implements (VERSION_1, RING_INDIRECT_DESC, RING_EVENT_IDX). */
  readonly features: bigint;
  /** Maximum size of each queue; the array's length is the number of queues. */
  readonly queueMaxSizes: readonly number[];
  /** Bytes of device-specific configuration space. */
  readonly configSize: number;
  /** A driver read of the configuration space at `offset` (inside configSize). */
  readConfig(offset: number, size: AccessSize): number;
  writeConfig(offset: number, size: AccessSize, value: number): void;
  /** §2.2.2: whether the device can work with the subset `features` the driver accepted (FEATURES_OK). */
  acceptFeatures?(features: bigint): boolean;
  /** The driver set DRIVER_OK: queues are live. */
  activate(activation: VirtioActivation): void;
  /** The driver notified queue `index` that buffers are available (§2.7.13.4). */
  notify(index: number): void;
  /** §2.4: back to the state before activation; requests in flight complete into nothing. */
  reset(): void;
}
