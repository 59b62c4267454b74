// Decimal adjust instructions: DAA DAS AAA AAS AAM AAD, with the flags ov their SDM reference pages.
import { dOp, dImm } from "../decode";
import { raise, EXC_DE } from "../exceptions";
import { flag, setLazyResult, CF, AF, OF, SZ8 } from "../flags";
import { EAX, reg8, setReg8, reg16, setReg16 } from "../state";

const AL: u32 = 0, AH: u32 = 4;

/** 27 DAA, 2F DAS. OF is undefined; P6 sets it like an add/sub ov the correction. */
export function opDaaDas(): void {
  const old = reg8(AL);
  const oldCf = flag(CF);
  let al = old;
  let cf = false, af = false;
  const sub = dOp() == 0x2f;
  if ((old & 0x0f) > 9 || flag(AF)) {
    al = sub ? (al - 6) & 0xff : (al + 6) & 0xff;
    cf = oldCf || (sub ? old < 6 : old + 6 > 0xff);
    af = true;
  }
  if (old > 0x99 || oldCf) {
    al = sub ? (al - 0x60) & 0xff : (al + 0x60) & 0xff;
    cf = true;
  }
  setReg8(AL, al);
  const ov = sub ? ((old & ~al) & 0x80) != 0 : ((~old & al) & 0x80) != 0;
  setLazyResult(SZ8, al, (cf ? CF : 0) | (af ? AF : 0) | (ov ? OF : 0), CF | AF | OF);
}

/** 37 AAA, 3F AAS: adjust AL after an unpacked BCD add/sub, carrying into AH. */
export function opAaaAas(): void {
  const sub = dOp() == 0x3f;
  let ax = reg16(EAX);
  const adjust = (ax & 0x0f) > 9 || flag(AF);
  if (adjust) {
    if (sub) {
      ax = (ax - 6) & 0xffff;
      ax = (ax & 0x00ff) | ((((ax >> 8) - 1) & 0xff) << 8);
    } else {
      ax = (ax + 0x106) & 0xffff;
    }
  }
  setReg16(EAX, ax & 0xff0f);
  // SDM AAA: AF = CF = adjust; OF SF ZF PF undefined (P6 computes SF ZF PF from AL and clears OF).
  setLazyResult(SZ8, ax & 0x0f, adjust ? CF | AF : 0, CF | AF | OF);
}

/** D4 AAM imm8: AH = AL / imm, AL = AL % imm; #DE when imm is 0. */
export function opAam(): void {
  const base = dImm() & 0xff;
  if (base == 0) { raise(EXC_DE, 0, false); return; }
  const al = reg8(AL);
  const r = al % base;
  setReg8(AH, al / base);
  setReg8(AL, r);
  setLazyResult(SZ8, r, 0, CF | AF | OF);
}

/** D5 AAD imm8: AL = AL + AH * imm, AH = 0. Flags as an 8-bit ADD ov AL and AH*imm (P6). */
export function opAad(): void {
  const base = dImm() & 0xff;
  const al = reg8(AL);
  const t = (reg8(AH) * base) & 0xff;
  const r = (al + t) & 0xff;
  setReg16(EAX, r);
  const cf = al + t > 0xff;
  const af = ((al ^ t ^ r) & 0x10) != 0;
  const ov = ((al ^ r) & (t ^ r) & 0x80) != 0;
  setLazyResult(SZ8, r, (cf ? CF : 0) | (af ? AF : 0) | (ov ? OF : 0), CF | AF | OF);
}

/** D6 SALC (undocumented, present on P6): AL = CF ? 0xFF : 0. */
export function opSalc(): void { setReg8(AL, flag(CF) ? 0xff : 0); }
