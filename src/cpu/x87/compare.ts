// x87 comparisons: FCOM/FCOMP/FCOMPP/FICOM, FUCOM/FUCOMP/FUCOMPP, FTST (SDM Vol. 2 FCOM, FUCOM, FTST;
// Vol. 1 8.1.3.1). FCOMI/FUCOMI use the same verdict mapped to ZF PF CF (C3 C2 C0 in the same order).
//
// API:
//   f80Compare(aSig, aSE, bSig, bSE, quiet): u32
//       Compares a = ST(0) with b. Returns C3 C2 C0 = 000 for a > b, 001 for a < b, 100 for a = b and
//       111 for unordered, C1 = 0, plus IE and DE: IE for an SNaN or unsupported operand, and for any NaN
//       when !quiet (FCOM); FUCOM (quiet = true) accepts QNaNs. No result register is written.
//   f80Test(aSig, aSE): u32   FTST: ST(0) compared with +0.0
// FXAM is examine() in f80.ts.

import { C_0, C_2, C_3, Cls, FLAG_DE, FLAG_IE, classify, normE, normS, normalize, signOf } from "./f80";

const UNORDERED: u32 = C_3 | C_2 | C_0;

export function f80Compare(aSig: u64, aSE: u32, bSig: u64, bSE: u32, quiet: bool): u32 {
  const ca = classify(aSig, aSE);
  const cb = classify(bSig, bSE);
  if (ca >= Cls.QNaN || cb >= Cls.QNaN) {
    const invalid = !quiet || ca >= Cls.SNaN || cb >= Cls.SNaN;
    return UNORDERED | (invalid ? FLAG_IE : 0);
  }
  const flags = ca == Cls.Denormal || cb == Cls.Denormal ? FLAG_DE : 0;
  const c = order(aSig, aSE, ca, bSig, bSE, cb);
  return flags | (c == 0 ? C_3 : c < 0 ? C_0 : 0);
}

export function f80Test(aSig: u64, aSE: u32): u32 {
  return f80Compare(aSig, aSE, 0, 0, false);
}

/** -1, 0, 1 as a <, =, > b for two ordered operands (zeros of either sign are equal). */
function order(aSig: u64, aSE: u32, ca: Cls, bSig: u64, bSE: u32, cb: Cls): i32 {
  const za = ca == Cls.Zero;
  const zb = cb == Cls.Zero;
  if (za && zb) return 0;
  const sa = signOf(aSE);
  const sb = signOf(bSE);
  if (za) return sb != 0 ? 1 : -1;
  if (zb || sa != sb) return sa != 0 ? -1 : 1;
  // same sign, both nonzero: compare magnitudes, infinities above every finite value
  let mag: i32;
  if (ca == Cls.Inf || cb == Cls.Inf) mag = ca == cb ? 0 : ca == Cls.Inf ? 1 : -1;
  else {
    normalize(aSig, aSE);
    const ea = normE;
    const ma = normS;
    normalize(bSig, bSE);
    mag = ea != normE ? (ea > normE ? 1 : -1) : ma == normS ? 0 : ma > normS ? 1 : -1;
  }
  return sa != 0 ? -mag : mag;
}
