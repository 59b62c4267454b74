// Test entry of the x87 softfloat: compiled on its own (asc --runtime stub) by test/x87/softfloat.test.ts,
// never by the core build. It re-exports the operations of this folder unchanged — their (u64 sig, u32 se)
// operands map to (BigInt, number) in JavaScript — and exposes the result registers through getters.

export { f80Add, f80Sub, f80Mul, f80Div, f80Sqrt, f80Rem, f80RoundInt, f80Scale, f80Extract } from "./arith";
export { f80Compare, f80Test } from "./compare";
export {
  f80FromF32, f80FromF64, f80FromInt, f80FromBCD, f80ToF32, f80ToF64, f80ToInt, f80ToBCD,
} from "./convert";
export { f80Sin, f80Cos, f80SinCos, f80Tan, f80Atan, f80F2xm1, f80Yl2x, f80Yl2xp1, f80Const } from "./trans";
export { examine } from "./f80";

import { res2SE, res2Sig, resMem, resMemHi, resSE, resSig } from "./f80";

export function resultSig(): u64 {
  return resSig;
}
export function resultSE(): u32 {
  return resSE;
}
export function result2Sig(): u64 {
  return res2Sig;
}
export function result2SE(): u32 {
  return res2SE;
}
export function resultMem(): u64 {
  return resMem;
}
export function resultMemHi(): u32 {
  return resMemHi;
}
