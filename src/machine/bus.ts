// Address-space buses: I/O ports (64 KiB) and MMIO (32-bit physical). A device is inserted at a base with a
// length and sees offsets relative to that base; overlapping insertions are refused (Firecracker's Bus).
// Accesses wider than 1 byte that a device region does not fully cover are split into bytes.
import type { AccessSize, IoDevice } from '../devices/device';

interface Range {
  base: number;
  length: number;
  device: IoDevice;
  name: string;
}

export class BusOverlapError extends Error {}

class RangeBus {
  private ranges: Range[] = [];
  /** Reads from an address nothing claims (open bus): all ones. */
  unclaimedReads = 0;
  unclaimedWrites = 0;

  constructor(private readonly limit: number, private readonly what: string) {}

  insert(device: IoDevice, base: number, length: number, name: string): void {
    if (length <= 0 || base < 0 || base + length > this.limit) {
      throw new RangeError(`${this.what}: ${name} at ${hex(base)}+${length} is outside the ${this.what} space`);
    }
    for (const r of this.ranges) {
      if (base < r.base + r.length && r.base < base + length) {
        throw new BusOverlapError(`${this.what}: ${name} at ${hex(base)}+${length} overlaps ${r.name} at ${hex(r.base)}+${r.length}`);
      }
    }
    this.ranges.push({ base, length, device, name });
    this.ranges.sort((a, b) => a.base - b.base);
  }

  remove(device: IoDevice, base: number): boolean {
    const i = this.ranges.findIndex((r) => r.device === device && r.base === base);
    if (i < 0) return false;
    this.ranges.splice(i, 1);
    return true;
  }

  private find(addr: number): Range | undefined {
    const rs = this.ranges;
    let lo = 0, hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid]!;
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.base + r.length) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  read(addr: number, size: AccessSize): number {
    const r = this.find(addr);
    if (r && addr + size <= r.base + r.length) return r.device.read(addr - r.base, size) >>> 0;
    if (size === 1) {
      this.unclaimedReads++;
      return 0xff;
    }
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.read(addr + i, 1) << (8 * i);
    return v >>> 0;
  }

  write(addr: number, size: AccessSize, value: number): void {
    const r = this.find(addr);
    if (r && addr + size <= r.base + r.length) {
      r.device.write(addr - r.base, size, value >>> 0);
      return;
    }
    if (size === 1) {
      this.unclaimedWrites++;
      return;
    }
    for (let i = 0; i < size; i++) this.write(addr + i, 1, (value >>> (8 * i)) & 0xff);
  }

  list(): ReadonlyArray<Readonly<Range>> { return this.ranges; }
}

export class IoBus extends RangeBus {
  constructor() { super(0x10000, 'I/O port bus'); }
}

export class MmioBus extends RangeBus {
  constructor() { super(2 ** 32, 'MMIO bus'); }
}

function hex(n: number): string { return '0x' + n.toString(16); }
