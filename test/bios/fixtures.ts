// Boot files made in memory for the firmware tests.

export interface FakeKernel {
  version?: number; setupSects?: number; loadflags?: number; relocatable?: boolean; kernelAlignment?: number;
  prefAddress?: number; initSize?: number; cmdlineSize?: number; initrdAddrMax?: number; payload?: number;
}

/** A bzImage with a real setup header (boot.rst field offsets) and a payload of counting bytes. */
export function fakeBzImage(k: FakeKernel = {}): Uint8Array {
  const sects = k.setupSects ?? 4;
  const setup = ((sects || 4) + 1) * 512;
  const payload = k.payload ?? 0x4000;
  const image = new Uint8Array(setup + payload);
  const v = new DataView(image.buffer);
  v.setUint8(0x1f1, sects);
  v.setUint32(0x1f4, Math.ceil(payload / 16), true);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint8(0x200, 0xeb);
  v.setUint8(0x201, 0x6a); // header ends at 0x26c
  v.setUint32(0x202, 0x5372_6448, true);
  v.setUint16(0x206, k.version ?? 0x020f, true);
  v.setUint8(0x211, k.loadflags ?? 0x01);
  v.setUint32(0x214, 0x10_0000, true);
  v.setUint32(0x22c, k.initrdAddrMax ?? 0x7fff_ffff, true);
  v.setUint32(0x230, k.kernelAlignment ?? 0x20_0000, true);
  v.setUint8(0x234, k.relocatable === false ? 0 : 1);
  v.setUint32(0x238, k.cmdlineSize ?? 2047, true);
  v.setUint32(0x258, k.prefAddress ?? 0x100_0000, true);
  v.setUint32(0x260, k.initSize ?? 0x40_0000, true);
  for (let i = 0; i < payload; i++) image[setup + i] = (i * 7) & 0xff;
  return image;
}
