// Device access to guest-physical memory (DMA): bounds-checked reads and writes over guest RAM, zero-copy
// where a range is contiguous, with every write recorded in the dirty-page bitmap the CPU also maintains.
// A range that leaves RAM is an error the device must report to the guest; it never touches host memory
// outside the RAM view and never throws.
import * as L from '../layout/memory';
import type { Core } from './core';

export class DmaError {
  constructor(readonly phys: number, readonly length: number) {}
  get message(): string { return `guest-physical range 0x${this.phys.toString(16)}+${this.length} is outside RAM`; }
}

export class GuestMemory {
  private readonly dirty: Uint8Array;

  constructor(private readonly core: Core) {
    this.dirty = new Uint8Array(core.memory.buffer, L.DIRTY_BITMAP, (1 << 20) / 8);
  }

  get size(): number { return this.core.ramBytes; }

  /** Whether [phys, phys+length) lies entirely in RAM. */
  inRam(phys: number, length: number): boolean {
    return Number.isInteger(phys) && Number.isInteger(length) && phys >= 0 && length >= 0 && phys + length <= this.core.ramBytes;
  }

  /** A live view of guest RAM (reads and writes go straight to the guest), or a DmaError. Writers must call markDirty(). */
  view(phys: number, length: number): Uint8Array | DmaError {
    if (!this.inRam(phys, length)) return new DmaError(phys, length);
    return this.core.ram.subarray(phys, phys + length);
  }

  /** Copy guest memory out. */
  read(phys: number, length: number): Uint8Array | DmaError {
    const v = this.view(phys, length);
    return v instanceof DmaError ? v : v.slice();
  }

  /** Copy `data` into guest memory. Nothing is written unless all of it fits. */
  write(phys: number, data: Uint8Array): DmaError | undefined {
    if (!this.inRam(phys, data.length)) return new DmaError(phys, data.length);
    this.core.ram.set(data, phys);
    this.markDirty(phys, data.length);
    return undefined;
  }

  /**
   * Record a device write to [phys, phys+length): the dirty-page bitmap (one bit per 4 KiB page), and
   * instructions the CPU cached from those pages are dropped.
   */
  markDirty(phys: number, length: number): void {
    if (length <= 0) return;
    this.core.codeWritten(phys, length);
    const first = Math.floor(phys / L.PAGE_SIZE);
    const last = Math.floor((phys + length - 1) / L.PAGE_SIZE);
    for (let p = first; p <= last; p++) this.dirty[p >> 3]! |= 1 << (p & 7);
  }

  /** Whether page `phys` was written since clearDirty(). */
  isDirty(phys: number): boolean {
    const p = Math.floor(phys / L.PAGE_SIZE);
    return (this.dirty[p >> 3]! & (1 << (p & 7))) !== 0;
  }

  /**
   * Clear the dirty bitmap (a snapshot or migration pass starts). The TLB caches write permission only for pages
   * already marked dirty, so it is flushed too: the next CPU write to each page marks it again.
   */
  clearDirty(): void {
    this.dirty.fill(0);
    this.core.invalidateTranslations();
  }
}
