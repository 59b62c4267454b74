// x87 forms. Every case starts from FNINIT + FRSTOR of a prepared image (all exceptions
// masked, random rounding and precision control) and records FNSAVE afterwards.
// `fswMask` holds the status-word condition codes that "FPU Flags Affected" in SDM
// Vol. 2 calls undefined for the instruction.

import { C0, C1, C2, C3, F80, f80, f80FromNumber, fpuState, operand, randomF80 } from './lib.mjs';

export const forms = [];
const form = (group, name, gen, count = 200) => forms.push({ group, name, gen, count });

const UNDEF_C023 = C0 | C2 | C3; // the common case: C1 defined (stack fault / round-up), the rest undefined
const NONE = 0;

/** How deep the stack is: usually enough for the instruction, now and then too shallow
 * (stack underflow) or full (overflow for pushes); the masked response is then recorded. */
function depth(rng, need, push = false) {
  if (push) return rng.chance(0.1) ? 8 : rng.below(8);
  if (need > 0 && rng.chance(0.06)) return rng.below(need);
  return need + rng.below(9 - need);
}

const randomStack = (rng, n, value = () => randomF80(rng)) => Array.from({ length: n }, value);

/** Set up the FPU with `stack` and emit the instruction. */
function fpu(c, stack, bytes, fswMask, opts) {
  c.fpu = fpuState(c.rng, stack, opts);
  c.emit(bytes);
  c.fswMask = fswMask;
}

// ---- memory operand values -------------------------------------------------------------------

const F32_SPECIAL = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001,
  0x7fa00000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3effffff];
const F64_SPECIAL = [0n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x7ff0000000000000n,
  0xfff0000000000000n, 0x7ff8000000000000n, 0x7ff4000000000000n, 0xfff8000000000001n, 1n, 0x800fffffffffffffn,
  0x0010000000000000n, 0x7fefffffffffffffn, 0xffefffffffffffffn];

function f32bits(rng) {
  if (rng.chance(0.25)) return rng.pick(F32_SPECIAL);
  const exp = rng.chance(0.9) ? 127 + rng.below(61) - 30 : rng.below(256);
  return ((rng.u32() & 0x80000000) | (exp << 23) | (rng.u32() & 0x7fffff)) >>> 0;
}
function f64bits(rng) {
  if (rng.chance(0.25)) return rng.pick(F64_SPECIAL);
  const exp = BigInt(rng.chance(0.9) ? 1023 + rng.below(121) - 60 : rng.below(2048));
  return (rng.u64() & 0x800fffffffffffffn) | (exp << 52n);
}
const f80bytes = (v) => Array.from({ length: 10 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
const bytesOf = (v, n) => Array.from({ length: n }, (_, i) => Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));
const garbage = (rng, n) => Array.from({ length: n }, () => rng.u32() & 0xff);

function int64(rng) {
  if (rng.chance(0.3)) return rng.pick([0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), (1n << 53n) + 1n, -(1n << 62n) - 7n]);
  return BigInt.asIntN(64, rng.u64() >> BigInt(rng.below(64)));
}

/** Values around the integer limits of FIST/FISTP and FBSTP: integers, halves and overflow. */
const integerish = (rng, maxExp) =>
  rng.chance(0.15)
    ? randomF80(rng)
    : f80((rng.chance(0.5) ? 0x8000 : 0) | (0x3fff - 2 + rng.below(maxExp + 3)), rng.u64() | (1n << 63n));

// ---- x87-load: loads, stores, constants, stack management -------------------------------------

const MEM_FLOATS = [
  ['m32', 32, 0xd9, (rng) => bytesOf(f32bits(rng), 4)],
  ['m64', 64, 0xdd, (rng) => bytesOf(f64bits(rng), 8)],
  ['m80', 80, 0xdb, (rng) => f80bytes(randomF80(rng))],
];

for (const [m, bits, opcode, value] of MEM_FLOATS) {
  const ext = bits === 80 ? 5 : 0;
  form('x87-load', `fld ${m}`, (c) => {
    fpu(c, randomStack(c.rng, depth(c.rng, 0, true)), [opcode], UNDEF_C023);
    c.poke(c.modrmMem(ext), value(c.rng));
  });
  const stores = bits === 80 ? [['fstp', 7]] : [['fst', 2], ['fstp', 3]];
  for (const [op, e] of stores) {
    form('x87-load', `${op} ${m}`, (c) => {
      fpu(c, randomStack(c.rng, depth(c.rng, 1)), [opcode], UNDEF_C023);
      c.poke(c.modrmMem(e), garbage(c.rng, bits / 8));
    });
  }
}
form('x87-load', 'fld st(i)', (c) => fpu(c, randomStack(c.rng, depth(c.rng, 1, true)), [0xd9, 0xc0 + c.rng.below(8)], UNDEF_C023));
form('x87-load', 'fst st(i)', (c) => fpu(c, randomStack(c.rng, depth(c.rng, 1)), [0xdd, 0xd0 + c.rng.below(8)], UNDEF_C023));
form('x87-load', 'fstp st(i)', (c) => fpu(c, randomStack(c.rng, depth(c.rng, 1)), [0xdd, 0xd8 + c.rng.below(8)], UNDEF_C023));

for (const [m, bits, opcode, ext, value] of [
  ['m16', 16, 0xdf, 0, (rng) => operand(rng, 16)],
  ['m32', 32, 0xdb, 0, (rng) => operand(rng, 32)],
  ['m64', 64, 0xdf, 5, (rng) => BigInt.asUintN(64, int64(rng))],
]) {
  form('x87-load', `fild ${m}`, (c) => {
    fpu(c, randomStack(c.rng, depth(c.rng, 0, true)), [opcode], UNDEF_C023);
    c.poke(c.modrmMem(ext), bytesOf(value(c.rng), bits / 8));
  });
}
for (const [op, m, bits, opcode, ext] of [
  ['fist', 'm16', 16, 0xdf, 2], ['fist', 'm32', 32, 0xdb, 2],
  ['fistp', 'm16', 16, 0xdf, 3], ['fistp', 'm32', 32, 0xdb, 3], ['fistp', 'm64', 64, 0xdf, 7],
]) {
  form('x87-load', `${op} ${m}`, (c) => {
    fpu(c, randomStack(c.rng, depth(c.rng, 1), () => integerish(c.rng, bits)), [opcode], UNDEF_C023);
    c.poke(c.modrmMem(ext), garbage(c.rng, bits / 8));
  });
}

/** Packed BCD (SDM Vol. 1 4.7): 18 digits, two per byte, sign in bit 7 of byte 9. */
function packedBcd(rng) {
  const digits = rng.chance(0.2) ? rng.below(19) : 18;
  const bytes = [];
  for (let i = 0; i < 9; i++) {
    const lo = 2 * i < digits ? rng.below(10) : 0, hi = 2 * i + 1 < digits ? rng.below(10) : 0;
    bytes.push((hi << 4) | lo);
  }
  bytes.push(rng.chance(0.5) ? 0x80 : 0x00);
  return bytes;
}
form('x87-load', 'fbld m80', (c) => {
  fpu(c, randomStack(c.rng, depth(c.rng, 0, true)), [0xdf], UNDEF_C023);
  c.poke(c.modrmMem(4), packedBcd(c.rng));
});
form('x87-load', 'fbstp m80', (c) => {
  fpu(c, randomStack(c.rng, depth(c.rng, 1), () => integerish(c.rng, 62)), [0xdf], UNDEF_C023);
  c.poke(c.modrmMem(6), garbage(c.rng, 10));
});

// The constants are rounded from an internal 66-bit value under RC (SDM Vol. 1 8.3.8),
// so each form cycles through all four rounding modes.
for (const [op, modrm] of [['fld1', 0xe8], ['fldl2t', 0xe9], ['fldl2e', 0xea], ['fldpi', 0xeb], ['fldlg2', 0xec], ['fldln2', 0xed], ['fldz', 0xee]]) {
  let n = 0;
  form('x87-load', op, (c) => fpu(c, randomStack(c.rng, depth(c.rng, 0, true)), [0xd9, modrm], UNDEF_C023, { rc: n++ % 4 }));
}

form('x87-load', 'fxch st(i)', (c) => fpu(c, randomStack(c.rng, depth(c.rng, 2)), [0xd9, 0xc8 + c.rng.below(8)], UNDEF_C023));
form('x87-load', 'fincstp', (c) => fpu(c, randomStack(c.rng, c.rng.below(9)), [0xd9, 0xf7], UNDEF_C023));
form('x87-load', 'fdecstp', (c) => fpu(c, randomStack(c.rng, c.rng.below(9)), [0xd9, 0xf6], UNDEF_C023));
// FFREE: C0 C1 C2 C3 all undefined (SDM Vol. 2A "FFREE").
form('x87-load', 'ffree st(i)', (c) => fpu(c, randomStack(c.rng, c.rng.below(9)), [0xdd, 0xc0 + c.rng.below(8)], C0 | C1 | C2 | C3));

// ---- x87-arith ----------------------------------------------------------------------------------

// Arithmetic operands: half the time a ST(1) close to ST(0) (cancellation, equal values).
const arithStack = (rng, n) => {
  const s = randomStack(rng, n);
  if (n > 1 && rng.chance(0.2)) s[1] = rng.chance(0.5) ? s[0] : s[0] ^ BigInt(1 + rng.below(255));
  return s;
};

// Opcode tables (SDM Vol. 2A, x87 opcode map Table A-7..A-22): /n = operation, and the
// DC/DE register forms swap SUB/SUBR and DIV/DIVR relative to their mnemonic.
const ARITH = [['fadd', 0, 0], ['fmul', 1, 1], ['fsub', 4, 5], ['fsubr', 5, 4], ['fdiv', 6, 7], ['fdivr', 7, 6]];
for (const [op, n, dcN] of ARITH) {
  form('x87-arith', `${op} st(0), st(i)`, (c) => fpu(c, arithStack(c.rng, depth(c.rng, 2)), [0xd8, 0xc0 + 8 * n + c.rng.below(8)], UNDEF_C023));
  form('x87-arith', `${op} st(i), st(0)`, (c) => fpu(c, arithStack(c.rng, depth(c.rng, 2)), [0xdc, 0xc0 + 8 * dcN + c.rng.below(8)], UNDEF_C023));
  form('x87-arith', `${op}p st(i), st(0)`, (c) => fpu(c, arithStack(c.rng, depth(c.rng, 2)), [0xde, 0xc0 + 8 * dcN + 1 + c.rng.below(7)], UNDEF_C023));
  for (const [m, opcode, value] of [['m32', 0xd8, (rng) => bytesOf(f32bits(rng), 4)], ['m64', 0xdc, (rng) => bytesOf(f64bits(rng), 8)]]) {
    form('x87-arith', `${op} ${m}`, (c) => {
      fpu(c, arithStack(c.rng, depth(c.rng, 1)), [opcode], UNDEF_C023);
      c.poke(c.modrmMem(n), value(c.rng));
    });
  }
}

// Compares: FCOM/FUCOM/FTST set C0 C2 C3 and clear C1; FXAM defines all four.
// FCOMI/FUCOMI set ZF PF CF, clear OF SF AF, and leave C0 C2 C3 unchanged (SDM Vol. 2A).
const compareStack = (rng) => arithStack(rng, depth(rng, 2));
for (const [op, bytes] of [
  ['fcom st(i)', (r) => [0xd8, 0xd0 + r.below(8)]], ['fcomp st(i)', (r) => [0xd8, 0xd8 + r.below(8)]], ['fcompp', () => [0xde, 0xd9]],
  ['fucom st(i)', (r) => [0xdd, 0xe0 + r.below(8)]], ['fucomp st(i)', (r) => [0xdd, 0xe8 + r.below(8)]], ['fucompp', () => [0xda, 0xe9]],
  ['fcomi st(0), st(i)', (r) => [0xdb, 0xf0 + r.below(8)]], ['fucomi st(0), st(i)', (r) => [0xdb, 0xe8 + r.below(8)]],
  ['fcomip st(0), st(i)', (r) => [0xdf, 0xf0 + r.below(8)]], ['fucomip st(0), st(i)', (r) => [0xdf, 0xe8 + r.below(8)]],
  ['ftst', () => [0xd9, 0xe4]], ['fxam', () => [0xd9, 0xe5]],
]) {
  form('x87-arith', op, (c) => fpu(c, compareStack(c.rng), bytes(c.rng), NONE));
}
for (const [op, ext] of [['fcom', 2], ['fcomp', 3]]) {
  for (const [m, opcode, value] of [['m32', 0xd8, (rng) => bytesOf(f32bits(rng), 4)], ['m64', 0xdc, (rng) => bytesOf(f64bits(rng), 8)]]) {
    form('x87-arith', `${op} ${m}`, (c) => {
      fpu(c, arithStack(c.rng, depth(c.rng, 1)), [opcode], NONE);
      c.poke(c.modrmMem(ext), value(c.rng));
    });
  }
}

for (const [op, modrm] of [['fchs', 0xe0], ['fabs', 0xe1], ['fsqrt', 0xfa], ['frndint', 0xfc]]) {
  form('x87-arith', op, (c) => {
    const spread = op === 'frndint' ? 70 : 40;
    fpu(c, randomStack(c.rng, depth(c.rng, 1), () => randomF80(c.rng, { spread })), [0xd9, modrm], UNDEF_C023);
  });
}
form('x87-arith', 'fxtract', (c) => fpu(c, randomStack(c.rng, depth(c.rng, 1, true)), [0xd9, 0xf4], UNDEF_C023));
form('x87-arith', 'fscale', (c) => {
  const rng = c.rng;
  const s = randomStack(rng, depth(rng, 2));
  if (s.length > 1 && rng.chance(0.7)) s[1] = f80FromNumber((rng.below(400) - 200) / (rng.chance(0.7) ? 1 : 4));
  fpu(c, s, [0xd9, 0xfd], UNDEF_C023);
});

// FPREM/FPREM1: all four condition codes are defined once the reduction completes (C2=0:
// C0 C3 C1 = quotient bits 2 1 0). With C2=1 the partial remainder depends on an
// implementation-chosen N in 32..63 and C0 C1 C3 are left unspecified, so both are masked.
for (const [op, modrm] of [['fprem', 0xf8], ['fprem1', 0xf5]]) {
  form('x87-arith', op, (c) => {
    const rng = c.rng;
    fpu(c, randomStack(rng, depth(rng, 2), () => randomF80(rng, { spread: rng.chance(0.2) ? 100 : 30 })), [0xd9, modrm], NONE);
    c.fixup = (cs, result) => {
      if (result.fpu && result.fpu.sw & C2) {
        cs.fswMask = C0 | C1 | C3;
        cs.stUndefined = [0];
      }
    };
  }, 300);
}

// ---- x87-trans: transcendental instructions ------------------------------------------------------

// FSIN FCOS FSINCOS FPTAN: C2 = operand out of range (|x| >= 2^63), C1 = round-up;
// C0 and C3 undefined. The others: C0 C2 C3 undefined (SDM Vol. 2A).
const angle = (rng) =>
  rng.chance(0.15) ? randomF80(rng, { specials: 1 }) : f80((rng.chance(0.5) ? 0x8000 : 0) | (0x3fff - 20 + rng.below(86)), rng.u64() | (1n << 63n));
for (const [op, modrm] of [['fsin', 0xfe], ['fcos', 0xff], ['fsincos', 0xfb], ['fptan', 0xf2]]) {
  form('x87-trans', op, (c) => fpu(c, randomStack(c.rng, depth(c.rng, 1), () => angle(c.rng)), [0xd9, modrm], C0 | C3), 300);
}

/** A finite value of magnitude below 2^(maxExp-0x3fff+1), or a special. */
const bounded = (rng, maxExp, special = F80) =>
  rng.chance(0.12)
    ? rng.pick([special.pzero, special.nzero, special.qnan, special.snan, special.denormal, special.ndenormal])
    : f80((rng.chance(0.5) ? 0x8000 : 0) | (maxExp - rng.below(40)), rng.u64() | (1n << 63n));

// F2XM1 is defined for -1.0 <= x <= +1.0 and FYL2XP1 for |x| < 1 - sqrt(2)/2; outside,
// the result is undefined, so the generator stays inside (plus the specials the SDM tables cover).
form('x87-trans', 'f2xm1', (c) => {
  const s = randomStack(c.rng, depth(c.rng, 1), () => bounded(c.rng, 0x3ffe));
  if (s.length && c.rng.chance(0.05)) s[0] = c.rng.pick([F80.pone, F80.none, F80.pinf, F80.ninf]);
  fpu(c, s, [0xd9, 0xf0], UNDEF_C023);
}, 300);
form('x87-trans', 'fyl2xp1', (c) => {
  const s = randomStack(c.rng, depth(c.rng, 2));
  if (s.length) s[0] = bounded(c.rng, 0x3ffc);
  fpu(c, s, [0xd9, 0xf9], UNDEF_C023);
}, 300);
form('x87-trans', 'fyl2x', (c) => {
  const rng = c.rng;
  const s = randomStack(rng, depth(rng, 2));
  if (s.length && rng.chance(0.8)) s[0] &= ~(1n << 79n); // mostly positive x
  fpu(c, s, [0xd9, 0xf1], UNDEF_C023);
}, 300);
form('x87-trans', 'fpatan', (c) => fpu(c, randomStack(c.rng, depth(c.rng, 2)), [0xd9, 0xf3], UNDEF_C023), 300);

