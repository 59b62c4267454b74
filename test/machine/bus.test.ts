import { describe, it, expect } from 'vitest';
import { IoBus, MmioBus, BusOverlapError } from '../../src/machine/bus';
import type { AccessSize, IoDevice } from '../../src/devices/device';

class Regs implements IoDevice {
  readonly mem: number[];
  readonly log: string[] = [];
  constructor(n: number) { this.mem = new Array<number>(n).fill(0); }
  read(offset: number, size: AccessSize): number {
    this.log.push(`r${offset}/${size}`);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.mem[offset + i]! << (8 * i);
    return v >>> 0;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.log.push(`w${offset}/${size}`);
    for (let i = 0; i < size; i++) this.mem[offset + i] = (value >>> (8 * i)) & 0xff;
  }
}

describe('the I/O bus', () => {
  it('refuses a device that overlaps one already inserted', () => {
    const bus = new IoBus();
    bus.insert(new Regs(8), 0x3f8, 8, 'com1');
    expect(() => bus.insert(new Regs(2), 0x3ff, 2, 'other')).toThrow(BusOverlapError);
    expect(() => bus.insert(new Regs(2), 0x3f6, 2, 'below')).not.toThrow();
  });

  it('gives the device offsets relative to its base', () => {
    const bus = new IoBus();
    const d = new Regs(8);
    bus.insert(d, 0x3f8, 8, 'com1');
    bus.write(0x3fb, 1, 0x83);
    expect(d.mem[3]).toBe(0x83);
    expect(bus.read(0x3fb, 1)).toBe(0x83);
  });

  it('reads all ones from unclaimed ports and counts them', () => {
    const bus = new IoBus();
    expect(bus.read(0x1234, 2)).toBe(0xffff);
    expect(bus.read(0x1234, 4)).toBe(0xffffffff);
    expect(bus.unclaimedReads).toBe(6);
  });

  it('splits an access that runs past the end of a device into bytes', () => {
    const bus = new IoBus();
    const d = new Regs(2);
    bus.insert(d, 0x60, 2, 'dev');
    bus.write(0x61, 2, 0xbbaa);
    expect(d.mem[1]).toBe(0xaa);
    expect(d.log).toEqual(['w1/1']);
    expect(bus.unclaimedWrites).toBe(1);
  });

  it('rejects ranges outside the 64 KiB port space', () => {
    expect(() => new IoBus().insert(new Regs(4), 0xfffe, 4, 'x')).toThrow(RangeError);
  });
});

describe('the MMIO bus', () => {
  it('finds devices among many by binary search', () => {
    const bus = new MmioBus();
    const devs = Array.from({ length: 20 }, () => new Regs(0x1000));
    devs.forEach((d, i) => bus.insert(d, 0xfe00_0000 + i * 0x1000, 0x1000, `d${i}`));
    bus.write(0xfe00_7004, 4, 0xdeadbeef);
    expect(devs[7]!.read(4, 4)).toBe(0xdeadbeef);
    expect(bus.read(0xfe00_7004, 4)).toBe(0xdeadbeef);
  });
});
