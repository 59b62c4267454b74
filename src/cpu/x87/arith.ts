// x87 basic arithmetic, exact to the last bit: FADD/FSUB, FMUL, FDIV, FSQRT, FPREM/FPREM1, FRNDINT,
// FSCALE, FXTRACT (SDM Vol. 1 4.8, 8.1.5, 8.5; Vol. 2 the instruction pages and their operand tables).
//
// API (operands as (sig, se) pairs, see f80.ts; results in resSig/resSE, status bits returned):
//   f80Add(aSig, aSE, bSig, bSE, cw): u32      a + b, rounded to cw.PC and cw.RC
//   f80Sub(aSig, aSE, bSig, bSE, cw): u32      a - b (FSUBR: swap the operands)
//   f80Mul(aSig, aSE, bSig, bSE, cw): u32      a × b
//   f80Div(aSig, aSE, bSig, bSE, cw): u32      a / b (ZE for a finite nonzero a over a zero)
//   f80Sqrt(aSig, aSE, cw): u32                square root
//   f80Rem(aSig, aSE, bSig, bSE, nearest): u32 FPREM (nearest = false) or FPREM1 (true) of a = ST(0) by
//                                              b = ST(1): a complete remainder gives C2 = 0 and the low
//                                              quotient bits Q2 Q1 Q0 in C0 C3 C1; a partial one C2 = 1
//   f80RoundInt(aSig, aSE, cw): u32            FRNDINT with cw.RC
//   f80Scale(aSig, aSE, bSig, bSE, cw): u32    FSCALE: a × 2^trunc(b)
//   f80Extract(aSig, aSE): u32                 FXTRACT: resSig/resSE = the exponent (the new ST(1)),
//                                              res2Sig/res2SE = the significand (the new ST(0))
// Precision control applies to add, sub, mul, div and sqrt only (SDM 8.1.5.2).

import {
  C_0, C_1, C_2, C_3, Cls, EXP_BIAS, EXP_MAX, FLAG_DE, FLAG_PE, FLAG_ZE, INDEF_SE, INDEF_SIG, J_BIT,
  RC_DOWN, RC_NEAREST, RC_UP, SIGN_BIT, classify, isNaNCls, normE, normS, normalize, propagateNaN,
  rcOf, resSE, resSig, setIndefinite, setRes, setRes2, signOf,
} from "./f80";
import { precisionOf, roundPack } from "./round";
import { add128, clz128, mul64, shl128, shr128Jam, sub128, wHi, wLo } from "./u128";

const INF_SIG: u64 = J_BIT;

@inline function setInf(sign: u32): void {
  setRes(INF_SIG, sign | EXP_MAX);
}

@inline function denormalFlag(a: Cls, b: Cls): u32 {
  return a == Cls.Denormal || b == Cls.Denormal ? FLAG_DE : 0;
}

// ---- FADD, FSUB ----

export function f80Add(aSig: u64, aSE: u32, bSig: u64, bSE: u32, cw: u32): u32 {
  return addSub(aSig, aSE, bSig, bSE, cw, 0);
}

export function f80Sub(aSig: u64, aSE: u32, bSig: u64, bSE: u32, cw: u32): u32 {
  return addSub(aSig, aSE, bSig, bSE, cw, SIGN_BIT);
}

function addSub(aSig: u64, aSE: u32, bSig: u64, bSE: u32, cw: u32, negB: u32): u32 {
  const ca = classify(aSig, aSE);
  const cb = classify(bSig, bSE);
  if (ca == Cls.Unsupported || cb == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(ca) || isNaNCls(cb)) return propagateNaN(aSig, aSE, ca, bSig, bSE, cb);
  const flags = denormalFlag(ca, cb);
  const sa = signOf(aSE);
  const sb = signOf(bSE) ^ negB;
  if (ca == Cls.Inf || cb == Cls.Inf) {
    // SDM FADD table: inf - inf is invalid; otherwise the infinity wins
    if (ca == Cls.Inf && cb == Cls.Inf && sa != sb) return setIndefinite();
    setInf(ca == Cls.Inf ? sa : sb);
    return flags;
  }
  if (ca == Cls.Zero && cb == Cls.Zero) {
    // SDM 4.8.3.6: the sum of zeros of opposite signs is +0, or -0 when rounding down
    setRes(0, sa == sb ? sa : rcOf(cw) == RC_DOWN ? SIGN_BIT : 0);
    return flags;
  }
  const nbits = precisionOf(cw);
  if (ca == Cls.Zero || cb == Cls.Zero) {
    // x ± 0: x itself, but rounded to PC and normalized like any other result
    const sig = ca == Cls.Zero ? bSig : aSig;
    normalize(sig, ca == Cls.Zero ? bSE : aSE);
    return flags | roundPack(ca == Cls.Zero ? sb : sa, normE, normS, 0, cw, nbits);
  }
  normalize(aSig, aSE);
  let ea = normE;
  let ma = normS;
  normalize(bSig, bSE);
  let eb = normE;
  let mb = normS;
  let signA = sa;
  let signB = sb;
  if (eb > ea || (eb == ea && mb > ma)) {
    const te = ea; ea = eb; eb = te;
    const tm = ma; ma = mb; mb = tm;
    const ts = signA; signA = signB; signB = ts;
  }
  // b aligned to a: (bHi:bLo) = mb × 2^-(ea - eb) with a sticky bit
  shr128Jam(mb, 0, <u32>min(ea - eb, 200));
  const bHi = wHi;
  const bLo = wLo;
  let hi: u64;
  let lo: u64;
  let e = ea;
  if (signA == signB) {
    add128(ma, 0, bHi, bLo);
    hi = wHi;
    lo = wLo;
    if (hi < ma) {
      // carry out of bit 63: shift the carry back in
      shr128Jam(hi, lo, 1);
      hi = wHi | J_BIT;
      lo = wLo;
      e++;
    }
  } else {
    if (ma == bHi && bLo == 0) {
      setRes(0, rcOf(cw) == RC_DOWN ? SIGN_BIT : 0);
      return flags;
    }
    sub128(ma, 0, bHi, bLo);
    const n = clz128(wHi, wLo);
    shl128(wHi, wLo, n);
    hi = wHi;
    lo = wLo;
    e -= <i32>n;
  }
  return flags | roundPack(signA, e, hi, lo, cw, nbits);
}

// ---- FMUL ----

export function f80Mul(aSig: u64, aSE: u32, bSig: u64, bSE: u32, cw: u32): u32 {
  const ca = classify(aSig, aSE);
  const cb = classify(bSig, bSE);
  if (ca == Cls.Unsupported || cb == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(ca) || isNaNCls(cb)) return propagateNaN(aSig, aSE, ca, bSig, bSE, cb);
  const flags = denormalFlag(ca, cb);
  const sign = signOf(aSE) ^ signOf(bSE);
  if (ca == Cls.Inf || cb == Cls.Inf) {
    if (ca == Cls.Zero || cb == Cls.Zero) return setIndefinite();
    setInf(sign);
    return flags;
  }
  if (ca == Cls.Zero || cb == Cls.Zero) {
    setRes(0, sign);
    return flags;
  }
  normalize(aSig, aSE);
  const ea = normE;
  const ma = normS;
  normalize(bSig, bSE);
  let e = ea + normE - EXP_BIAS + 1;
  mul64(ma, normS);
  let hi = wHi;
  let lo = wLo;
  if ((hi & J_BIT) == 0) {
    hi = (hi << 1) | (lo >> 63);
    lo <<= 1;
    e--;
  }
  return flags | roundPack(sign, e, hi, lo, cw, precisionOf(cw));
}

// ---- FDIV ----

export function f80Div(aSig: u64, aSE: u32, bSig: u64, bSE: u32, cw: u32): u32 {
  const ca = classify(aSig, aSE);
  const cb = classify(bSig, bSE);
  if (ca == Cls.Unsupported || cb == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(ca) || isNaNCls(cb)) return propagateNaN(aSig, aSE, ca, bSig, bSE, cb);
  const flags = denormalFlag(ca, cb);
  const sign = signOf(aSE) ^ signOf(bSE);
  if (ca == Cls.Inf) {
    if (cb == Cls.Inf) return setIndefinite();
    setInf(sign);
    return flags;
  }
  if (cb == Cls.Inf) {
    setRes(0, sign);
    return flags;
  }
  if (cb == Cls.Zero) {
    // an invalid operation or a zero divide is reported alone, without DE
    if (ca == Cls.Zero) return setIndefinite();
    setInf(sign);
    return FLAG_ZE;
  }
  if (ca == Cls.Zero) {
    setRes(0, sign);
    return flags;
  }
  normalize(aSig, aSE);
  const ea = normE;
  const ma = normS;
  normalize(bSig, bSE);
  const mb = normS;
  let e = ea - normE + EXP_BIAS;
  // restoring division, one quotient bit per step; r < mb holds after every step
  let r = ma;
  let q: u64 = 0;
  let steps = 64;
  if (r >= mb) {
    r -= mb;
    q = 1;
    steps = 63;
  } else e--;
  for (let i = 0; i < steps; i++) {
    const carry = r >> 63;
    r <<= 1;
    q <<= 1;
    if (carry != 0 || r >= mb) {
      r -= mb;
      q |= 1;
    }
  }
  // one more bit for the rounding position, the rest is sticky
  const carry = r >> 63;
  r <<= 1;
  let extra: u64 = 0;
  if (carry != 0 || r >= mb) {
    r -= mb;
    extra = J_BIT;
  }
  extra |= <u64>(r != 0);
  return flags | roundPack(sign, e, q, extra, cw, precisionOf(cw));
}

// ---- FSQRT ----

export function f80Sqrt(aSig: u64, aSE: u32, cw: u32): u32 {
  const ca = classify(aSig, aSE);
  if (ca == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(ca)) return propagateNaN(aSig, aSE, ca, 0, 0, Cls.Zero);
  const flags = ca == Cls.Denormal ? FLAG_DE : 0;
  if (ca == Cls.Zero) {
    setRes(0, aSE); // sqrt(-0) = -0
    return flags;
  }
  if (signOf(aSE) != 0) return setIndefinite();
  if (ca == Cls.Inf) {
    setRes(aSig, aSE);
    return flags;
  }
  normalize(aSig, aSE);
  const eu = normE - EXP_BIAS;
  // radicand N = m × 2^64 (odd exponent) or m × 2^63 (even): sqrt(N) has exactly 64 bits
  let nHi: u64;
  let nLo: u64;
  if ((eu & 1) != 0) {
    nHi = normS;
    nLo = 0;
  } else {
    nHi = normS >> 1;
    nLo = normS << 63;
  }
  // digit-by-digit square root: two radicand bits per step; rem (remHi:remLo) < 2 × root + 1
  let remHi: u64 = 0;
  let remLo: u64 = 0;
  let root: u64 = 0;
  for (let i = 0; i < 64; i++) {
    const two = i < 32 ? (nHi >> (62 - 2 * i)) & 3 : (nLo >> (126 - 2 * i)) & 3;
    remHi = (remHi << 2) | (remLo >> 62);
    remLo = (remLo << 2) | two;
    // trial = 4 × root + 1 (root < 2^63 here, so it fits in 66 bits)
    const tHi = root >> 62;
    const tLo = (root << 2) | 1;
    root <<= 1;
    if (!(remHi < tHi || (remHi == tHi && remLo < tLo))) {
      sub128(remHi, remLo, tHi, tLo);
      remHi = wHi;
      remLo = wLo;
      root |= 1;
    }
  }
  // sqrt(N) = root + f, f ≥ 1/2 exactly when rem > root (f = 1/2 is impossible)
  const above = remHi != 0 || remLo > root;
  const extra: u64 = (above ? J_BIT : 0) | <u64>(remHi != 0 || remLo != 0);
  return flags | roundPack(0, (eu >> 1) + EXP_BIAS, root, extra, cw, precisionOf(cw));
}

// ---- FPREM, FPREM1 ----

/** Control word for results that are exact by construction: masked, 64-bit, nearest. */
const CW_EXACT: u32 = 0x037f;

/** The exponent difference above which FPREM/FPREM1 deliver a partial remainder (SDM: D ≥ 64). */
const PREM_MAX_DIFF: i32 = 64;

export function f80Rem(aSig: u64, aSE: u32, bSig: u64, bSE: u32, nearest: bool): u32 {
  const ca = classify(aSig, aSE);
  const cb = classify(bSig, bSE);
  if (ca == Cls.Unsupported || cb == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(ca) || isNaNCls(cb)) return propagateNaN(aSig, aSE, ca, bSig, bSE, cb);
  const flags = denormalFlag(ca, cb);
  if (ca == Cls.Inf || cb == Cls.Zero) return setIndefinite();
  if (ca == Cls.Zero || cb == Cls.Inf) {
    // SDM FPREM table: 0 rem x = 0, x rem inf = x (a denormal x is normalized like any result)
    if (ca == Cls.Denormal) {
      normalize(aSig, aSE);
      return flags | roundPack(signOf(aSE), normE, normS, 0, CW_EXACT, 64);
    }
    setRes(aSig, aSE);
    return flags;
  }
  const sign = signOf(aSE);
  normalize(aSig, aSE);
  const ea = normE;
  const ma = normS;
  normalize(bSig, bSE);
  const eb = normE;
  const mb = normS;
  const d = ea - eb;
  let status: u32 = 0;
  let r: u64;
  let re: i32; // biased exponent of bit 63 of r
  let rSign = sign;
  if (d < 0) {
    r = ma;
    re = ea;
    if (nearest && d == -1 && ma > mb) {
      // |a| > |b|/2: quotient 1, remainder |b| - |a|
      r = mb - (ma - mb);
      re = ea;
      rSign ^= SIGN_BIT;
      status = C_1;
    }
  } else {
    // restoring division of ma × 2^n by mb, keeping the low quotient bits; n = d, or for a partial
    // remainder n = 32 + d mod 32 so that the exponent drops by a multiple of 32 (AMD APM FPREM)
    const partial = d >= PREM_MAX_DIFF;
    const n = partial ? 32 + (d & 31) : d;
    r = ma;
    let q: u64 = 0;
    if (r >= mb) {
      r -= mb;
      q = 1;
    }
    for (let i = 0; i < n; i++) {
      const carry = r >> 63;
      r <<= 1;
      q <<= 1;
      if (carry != 0 || r >= mb) {
        r -= mb;
        q |= 1;
      }
    }
    re = eb + (d - n);
    if (partial) status = C_2;
    else {
      if (nearest && (r > mb - r || (r == mb - r && (q & 1) != 0))) {
        q++;
        r = mb - r;
        rSign ^= SIGN_BIT;
      }
      status = ((q & 4) != 0 ? C_0 : 0) | ((q & 2) != 0 ? C_3 : 0) | ((q & 1) != 0 ? C_1 : 0);
    }
  }
  if (r == 0) {
    setRes(0, sign);
    return flags | status;
  }
  const shift = <i32>clz(r);
  return flags | status | (roundPack(rSign, re - shift, r << shift, 0, CW_EXACT, 64) & ~C_1);
}

// ---- FRNDINT ----

export function f80RoundInt(aSig: u64, aSE: u32, cw: u32): u32 {
  const ca = classify(aSig, aSE);
  if (ca == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(ca)) return propagateNaN(aSig, aSE, ca, 0, 0, Cls.Zero);
  if (ca == Cls.Zero || ca == Cls.Inf) {
    setRes(aSig, aSE);
    return 0;
  }
  const flags = ca == Cls.Denormal ? FLAG_DE : 0;
  normalize(aSig, aSE);
  const eu = normE - EXP_BIAS;
  if (eu >= 63) {
    setRes(aSig, aSE);
    return flags;
  }
  const sign = signOf(aSE);
  // integer part in wHi, fraction in wLo (binary point between them, sticky in bit 0)
  shr128Jam(normS, 0, <u32>min(63 - eu, 200));
  const up = roundUp(wHi, wLo, rcOf(cw), sign);
  const n = wHi + <u64>up;
  const pe = wLo != 0 ? FLAG_PE | (up ? C_1 : 0) : 0;
  if (n == 0) {
    setRes(0, sign);
    return flags | pe;
  }
  const shift = <i32>clz(n);
  setRes(n << shift, sign | <u32>(EXP_BIAS + 63 - shift));
  return flags | pe;
}

/** Rounding an integer `n` with fraction `frac` (binary point above bit 63) in direction rc. */
@inline export function roundUp(n: u64, frac: u64, rc: u32, sign: u32): bool {
  if (rc == RC_NEAREST) return frac > J_BIT || (frac == J_BIT && (n & 1) != 0);
  if (rc == RC_DOWN) return sign != 0 && frac != 0;
  if (rc == RC_UP) return sign == 0 && frac != 0;
  return false;
}

// ---- FSCALE ----

/** |trunc(ST(1))| beyond this scales any finite value out of range; clamping keeps the sum in i32. */
const SCALE_CLAMP: i32 = 0x10000;

export function f80Scale(aSig: u64, aSE: u32, bSig: u64, bSE: u32, cw: u32): u32 {
  const ca = classify(aSig, aSE);
  const cb = classify(bSig, bSE);
  if (ca == Cls.Unsupported || cb == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(ca) || isNaNCls(cb)) return propagateNaN(aSig, aSE, ca, bSig, bSE, cb);
  const flags = denormalFlag(ca, cb);
  const sa = signOf(aSE);
  if (cb == Cls.Inf) {
    // SDM FSCALE table: 0 × 2^+inf and inf × 2^-inf are invalid
    if (signOf(bSE) != 0) {
      if (ca == Cls.Inf) return setIndefinite();
      setRes(0, sa);
    } else {
      if (ca == Cls.Zero) return setIndefinite();
      setInf(sa);
    }
    return flags;
  }
  if (ca == Cls.Zero || ca == Cls.Inf) {
    setRes(aSig, aSE);
    return flags;
  }
  // n = trunc(b), clamped
  let n: i32 = 0;
  if (cb != Cls.Zero) {
    normalize(bSig, bSE);
    const eu = normE - EXP_BIAS;
    if (eu >= 16) n = SCALE_CLAMP;
    else if (eu >= 0) n = <i32>(normS >> (63 - eu));
    if (signOf(bSE) != 0) n = -n;
  }
  normalize(aSig, aSE);
  return flags | roundPack(sa, normE + n, normS, 0, cw, 64);
}

// ---- FXTRACT ----

export function f80Extract(aSig: u64, aSE: u32): u32 {
  const ca = classify(aSig, aSE);
  if (ca == Cls.Unsupported) {
    setRes2(INDEF_SIG, INDEF_SE);
    return setIndefinite();
  }
  if (isNaNCls(ca)) {
    const flags = propagateNaN(aSig, aSE, ca, 0, 0, Cls.Zero);
    setRes2(resSig, resSE);
    return flags;
  }
  if (ca == Cls.Zero) {
    // SDM FXTRACT: ZE, exponent -inf, significand the zero
    setRes2(aSig, aSE);
    setInf(SIGN_BIT);
    return FLAG_ZE;
  }
  if (ca == Cls.Inf) {
    setRes2(aSig, aSE);
    setInf(0);
    return 0;
  }
  const flags = ca == Cls.Denormal ? FLAG_DE : 0;
  normalize(aSig, aSE);
  setRes2(normS, signOf(aSE) | <u32>EXP_BIAS);
  // the unbiased exponent as an extended value (exact: |e| < 2^15)
  const e = normE - EXP_BIAS;
  if (e == 0) setRes(0, 0);
  else {
    const mag = <u64>(e < 0 ? -e : e);
    const shift = <i32>clz(mag);
    setRes(mag << shift, (e < 0 ? SIGN_BIT : 0) | <u32>(EXP_BIAS + 63 - shift));
  }
  return flags;
}
