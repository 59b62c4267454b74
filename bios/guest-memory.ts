// Little-endian writes into guest RAM (a Uint8Array indexed by guest-physical address below 4 GiB). The loaders
// check every placement against RAM before they write, so an out-of-range write here is a bug in bios/, and it
// is reported as a FirmwareError naming the address rather than silently dropped by the typed array.
import { DoesNotFitError, hex } from './errors';

export class GuestMemory {
  private readonly view: DataView;

  constructor(readonly ram: Uint8Array) {
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  }

  get size(): number { return this.ram.length; }

  private check(addr: number, length: number): void {
    if (!(addr >= 0 && length >= 0 && addr + length <= this.ram.length)) {
      throw new DoesNotFitError(`firmware write of ${length} bytes at ${hex(addr)} is outside guest RAM (${hex(this.ram.length)} bytes)`, 'firmware');
    }
  }

  u8(addr: number, value: number): void { this.check(addr, 1); this.view.setUint8(addr, value & 0xff); }
  u16(addr: number, value: number): void { this.check(addr, 2); this.view.setUint16(addr, value & 0xffff, true); }
  u32(addr: number, value: number): void { this.check(addr, 4); this.view.setUint32(addr, value >>> 0, true); }
  u64(addr: number, value: number): void {
    this.check(addr, 8);
    this.view.setUint32(addr, value >>> 0, true);
    this.view.setUint32(addr + 4, Math.floor(value / 0x1_0000_0000) >>> 0, true);
  }

  readU8(addr: number): number { this.check(addr, 1); return this.view.getUint8(addr); }
  readU16(addr: number): number { this.check(addr, 2); return this.view.getUint16(addr, true); }
  readU32(addr: number): number { this.check(addr, 4); return this.view.getUint32(addr, true); }

  bytes(addr: number, data: Uint8Array): void { this.check(addr, data.length); this.ram.set(data, addr); }
  fill(addr: number, length: number, value = 0): void { this.check(addr, length); this.ram.fill(value, addr, addr + length); }

  /** A NUL-terminated ASCII string; returns the bytes written including the NUL. */
  cstring(addr: number, text: string): number {
    const data = asciiZ(text);
    this.bytes(addr, data);
    return data.length;
  }
}

/** `text` as bytes with a trailing NUL. Characters above 0xFF are replaced by '?' (command lines are ASCII). */
export function asciiZ(text: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c > 0xff ? 0x3f : c;
  }
  return out;
}

/** Little-endian reads from an input file, with a bounds check that reports `onShort` instead of NaN/undefined. */
export class FileReader {
  private readonly view: DataView;
  constructor(readonly data: Uint8Array, private readonly onShort: (what: string) => Error) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  private check(offset: number, length: number, what: string): void {
    if (!(offset >= 0 && offset + length <= this.data.length)) throw this.onShort(what);
  }
  u8(offset: number, what: string): number { this.check(offset, 1, what); return this.view.getUint8(offset); }
  u16(offset: number, what: string): number { this.check(offset, 2, what); return this.view.getUint16(offset, true); }
  u32(offset: number, what: string): number { this.check(offset, 4, what); return this.view.getUint32(offset, true); }
  u64(offset: number, what: string): number {
    this.check(offset, 8, what);
    return this.view.getUint32(offset, true) + this.view.getUint32(offset + 4, true) * 0x1_0000_0000;
  }
  slice(offset: number, length: number, what: string): Uint8Array {
    this.check(offset, length, what);
    return this.data.subarray(offset, offset + length);
  }
}
