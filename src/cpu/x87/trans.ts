import { setIndefinite } from "./f80";
export function f80Sin(aSig: u64, aSE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80Cos(aSig: u64, aSE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80SinCos(aSig: u64, aSE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80Tan(aSig: u64, aSE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80Atan(ySig: u64, ySE: u32, xSig: u64, xSE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80F2xm1(aSig: u64, aSE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80Yl2x(xSig: u64, xSE: u32, ySig: u64, ySE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80Yl2xp1(xSig: u64, xSE: u32, ySig: u64, ySE: u32, cw: u32): u32 { return setIndefinite(); }
export function f80Const(which: u32, cw: u32): u32 { return setIndefinite(); }
