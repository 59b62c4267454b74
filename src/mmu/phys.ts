// Physical memory: the page map (RAM, ROM, MMIO per 4 KiB page below 4 GiB), the A20 gate, and the
// tracking bitmaps (pages holding translated code; pages written since the host last cleared them).
import { PHYS_MAP, PHYS_RAM, PHYS_ROM, PHYS_MMIO, PHYS_KIND_MASK, CODE_BITMAP, DIRTY_BITMAP } from "../layout/memory";
import { hostMmioRead, hostMmioWrite } from "../cpu/seam";
import { invalidateCodePage } from "../cpu/dcache";
import { journal } from "../wasm/journal";

@inline export function physEntry(phys: u32): u32 { return load<u32>(<usize>PHYS_MAP + ((<usize>(phys >>> 12)) << 2)); }

/** The host address of RAM/ROM page `phys`, or 0 for MMIO. */
@inline export function physHost(phys: u32): usize {
  const e = physEntry(phys);
  return (e & PHYS_KIND_MASK) == PHYS_MMIO ? 0 : <usize>(e & 0xffff_f000) + (phys & 0xfff);
}
@inline export function physKind(phys: u32): u32 { return physEntry(phys) & PHYS_KIND_MASK; }

@inline export function pageHasCode(phys: u32): bool {
  const p = phys >>> 12;
  return (load<u8>(CODE_BITMAP + (p >>> 3)) & (1 << (p & 7))) != 0;
}
@inline export function pageDirty(phys: u32): bool {
  const p = phys >>> 12;
  return (load<u8>(DIRTY_BITMAP + (p >>> 3)) & (1 << (p & 7))) != 0;
}
@inline export function markDirty(phys: u32): void {
  const p = phys >>> 12;
  const a = DIRTY_BITMAP + (p >>> 3);
  store<u8>(a, load<u8>(a) | <u8>(<u32>1 << (p & 7)));
}

// Byte-granular physical accesses for the slow paths (page walks, page-crossing and MMIO accesses).
export function physRead8(phys: u32): u32 {
  const e = physEntry(phys);
  if ((e & PHYS_KIND_MASK) == PHYS_MMIO) return hostMmioRead(phys, 1) & 0xff;
  return load<u8>(<usize>(e & 0xffff_f000) + (phys & 0xfff));
}

export function physRead(phys: u32, size: u32): u32 {
  if ((phys & 0xfff) + size <= 4096) {
    const e = physEntry(phys);
    const kind = e & PHYS_KIND_MASK;
    if (kind == PHYS_MMIO) return hostMmioRead(phys, size);
    const h = <usize>(e & 0xffff_f000) + (phys & 0xfff);
    journal(h, size);
    if (size == 4) return load<u32>(h);
    if (size == 2) return <u32>load<u16>(h);
    return <u32>load<u8>(h);
  }
  let v: u32 = 0;
  for (let i: u32 = 0; i < size; i++) v |= physRead8(phys + i) << (i << 3);
  return v;
}

export function physWrite8(phys: u32, v: u32): void {
  const e = physEntry(phys);
  const kind = e & PHYS_KIND_MASK;
  if (kind == PHYS_MMIO) { hostMmioWrite(phys, 1, v & 0xff); return; }
  if (kind == PHYS_ROM) return;
  markDirty(phys);
  if (pageHasCode(phys)) invalidateCodePage(phys);
  const h = <usize>(e & 0xffff_f000) + (phys & 0xfff);
  journal(h, 1);
  store<u8>(h, <u8>v);
}

export function physWrite(phys: u32, size: u32, v: u32): void {
  if ((phys & 0xfff) + size <= 4096) {
    const e = physEntry(phys);
    const kind = e & PHYS_KIND_MASK;
    if (kind == PHYS_MMIO) { hostMmioWrite(phys, size, v); return; }
    if (kind == PHYS_ROM) return;
    markDirty(phys);
    if (pageHasCode(phys)) invalidateCodePage(phys);
    const h = <usize>(e & 0xffff_f000) + (phys & 0xfff);
    journal(h, size);
    if (size == 4) store<u32>(h, v);
    else if (size == 2) store<u16>(h, <u16>v);
    else store<u8>(h, <u8>v);
    return;
  }
  for (let i: u32 = 0; i < size; i++) physWrite8(phys + i, v >>> (i << 3));
}

export { PHYS_RAM };
