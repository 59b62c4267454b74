// The x87 softfloat (src/cpu/x87/) against vectors recorded on a real x87 FPU (tools/x87-oracle/).
//
// Every vector line holds the operands and, for each mode of its operation (control word), the destination
// bits and FNSTSW masked to C3 C2 C1 C0 and the exception flags. The softfloat must reproduce all of them
// bit for bit, except the transcendental instructions, where the SDM documents an error bound (Vol. 1
// 8.3.10: within 1 ulp of the 64-bit significand) and a result 1 ulp away from the host's is counted and
// reported instead of failing.
import asc from "assemblyscript/asc";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "x87");
const SW_MASK = 0x473f;
/** How many differing vectors a failing operation lists (X87_SHOW_FAILURES=n to see more). */
const SHOW_FAILURES = Number(process.env.X87_SHOW_FAILURES ?? 12);
const CW_DEFAULT = 0x037f;

interface Vector {
  a: string;
  b?: string;
  r: string[];
}

type Fn = (...args: (number | bigint)[]) => number;
interface X87 {
  [name: string]: Fn;
}
let x: X87;
let outDir: string;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "x87-"));
  const outFile = join(outDir, "x87.wasm");
  const stderr: string[] = [];
  const { error } = await asc.main(
    ["test-entry.ts", "--baseDir", join(ROOT, "src", "cpu", "x87"), "--runtime", "stub", "-O3", "--noAssert",
      "--outFile", outFile],
    { stderr: { write: (s: string | Uint8Array) => (stderr.push(String(s)), true) } as never },
  );
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.join("")}`);
  const { instance } = await WebAssembly.instantiate(readFileSync(outFile), { env: { abort: () => {} } });
  x = instance.exports as unknown as X87;
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function load(op: string): Vector[] {
  const text = gunzipSync(readFileSync(join(FIXTURES, `${op}.jsonl.gz`))).toString("utf8");
  return text.trimEnd().split("\n").map((line) => JSON.parse(line) as Vector);
}

// ---- operands and results as the oracle prints them ----
const u64 = (v: number | bigint) => BigInt.asUintN(64, BigInt(v));
const hex = (v: number | bigint, digits: number) => u64(v).toString(16).toUpperCase().padStart(digits, "0");
/** "SSSSMMMMMMMMMMMMMMMM" -> [significand, sign+exponent] */
const f80 = (s: string): [bigint, number] => [BigInt(`0x${s.slice(4)}`), parseInt(s.slice(0, 4), 16)];
const res = () => hex(x.resultSE!(), 4) + hex(x.resultSig!(), 16);
const res2 = () => hex(x.result2SE!(), 4) + hex(x.result2Sig!(), 16);
const mem = (digits: number) => () => hex(x.resultMem!(), digits);
const sw = (flags: number) => hex(flags & SW_MASK, 4);

/** Control word of mode i: see modes in tools/x87-oracle/oracle.c. */
function modeCw(nmodes: number, i: number): number {
  if (nmodes === 1) return CW_DEFAULT;
  if (nmodes === 4) return CW_DEFAULT | (i << 10);
  const pc = [0, 2, 3][Math.floor(i / 4) % 3]!;
  let cw = (CW_DEFAULT & ~0x0f00) | (pc << 8) | ((i % 4) << 10);
  if (i >= 12) cw &= ~0x18;
  return cw;
}

/** One operation: computes the oracle-format result string for operands and a control word. */
type Runner = (v: Vector, cw: number) => string;

const binary = (name: string): Runner => (v, cw) => then(x[name]!(...f80(v.a), ...f80(v.b!), cw));
/** Runs an operation (which sets the result registers) and formats its result register and status. */
const then = (flags: number) => `${res()}/${sw(flags)}`;
const unary = (name: string): Runner => (v, cw) => then(x[name]!(...f80(v.a), cw));
/** FSINCOS, FPTAN, FXTRACT: the oracle stores ST(0) then ST(1). When the operand is out of range (C2) the
 *  instruction pushes nothing, and ST(1) is still the +0 the oracle loaded below the operand. */
const pushing = (run: (v: Vector, cw: number) => number): Runner => (v, cw) => {
  const flags = run(v, cw);
  if (flags & 0x400) return `${res()},${"0".repeat(20)}/${sw(flags)}`;
  return `${res2()},${res()}/${sw(flags)}`;
};
const status = (run: (v: Vector) => number): Runner => (v) => `/${sw(run(v))}`;
const store = (digits: number, run: (v: Vector, cw: number) => number): Runner => (v, cw) => {
  const flags = run(v, cw);
  return `${mem(digits)()}/${sw(flags)}`;
};
const bcdStore: Runner = (v, cw) => {
  const flags = x.f80ToBCD!(...f80(v.a), cw);
  return `${hex(x.resultMemHi!(), 4)}${hex(x.resultMem!(), 16)}/${sw(flags)}`;
};
const loadOp = (run: (v: Vector) => number): Runner => (v) => then(run(v));
const sext = (s: string, bits: number) => BigInt.asIntN(bits, BigInt(`0x${s}`));

const CONSTANTS = ["pi", "l2t", "l2e", "lg2", "ln2"];

const runners: Record<string, Runner> = {
  add: binary("f80Add"),
  sub: binary("f80Sub"),
  mul: binary("f80Mul"),
  div: binary("f80Div"),
  sqrt: unary("f80Sqrt"),
  prem: (v) => then(x.f80Rem!(...f80(v.a), ...f80(v.b!), 0)),
  prem1: (v) => then(x.f80Rem!(...f80(v.a), ...f80(v.b!), 1)),
  scale: binary("f80Scale"),
  rndint: unary("f80RoundInt"),
  xtract: pushing((v) => x.f80Extract!(...f80(v.a))),
  com: status((v) => x.f80Compare!(...f80(v.a), ...f80(v.b!), 0)),
  ucom: status((v) => x.f80Compare!(...f80(v.a), ...f80(v.b!), 1)),
  tst: status((v) => x.f80Test!(...f80(v.a))),
  xam: status((v) => x.examine!(...f80(v.a), 0)),
  st_f32: store(8, (v, cw) => x.f80ToF32!(...f80(v.a), cw)),
  st_f64: store(16, (v, cw) => x.f80ToF64!(...f80(v.a), cw)),
  st_i16: store(4, (v, cw) => x.f80ToInt!(...f80(v.a), cw, 16, 0)),
  st_i32: store(8, (v, cw) => x.f80ToInt!(...f80(v.a), cw, 32, 0)),
  st_i64: store(16, (v, cw) => x.f80ToInt!(...f80(v.a), cw, 64, 0)),
  stt_i16: store(4, (v, cw) => x.f80ToInt!(...f80(v.a), cw, 16, 1)),
  stt_i32: store(8, (v, cw) => x.f80ToInt!(...f80(v.a), cw, 32, 1)),
  stt_i64: store(16, (v, cw) => x.f80ToInt!(...f80(v.a), cw, 64, 1)),
  st_bcd: bcdStore,
  ld_f32: loadOp((v) => x.f80FromF32!(parseInt(v.a, 16))),
  ld_f64: loadOp((v) => x.f80FromF64!(BigInt(`0x${v.a}`))),
  ld_i16: loadOp((v) => x.f80FromInt!(sext(v.a, 16))),
  ld_i32: loadOp((v) => x.f80FromInt!(sext(v.a, 32))),
  ld_i64: loadOp((v) => x.f80FromInt!(sext(v.a, 64))),
  ld_bcd: loadOp((v) => x.f80FromBCD!(BigInt(`0x${v.a.slice(4)}`), parseInt(v.a.slice(0, 4), 16))),
  const: (v, cw) => then(x.f80Const!(CONSTANTS.indexOf(v.a), cw)),
  sin: unary("f80Sin"),
  cos: unary("f80Cos"),
  sincos: pushing((v, cw) => x.f80SinCos!(...f80(v.a), cw)),
  ptan: pushing((v, cw) => x.f80Tan!(...f80(v.a), cw)),
  // FPATAN: ST(1) = y = b, ST(0) = x = a
  patan: (v, cw) => then(x.f80Atan!(...f80(v.b!), ...f80(v.a), cw)),
  f2xm1: unary("f80F2xm1"),
  // FYL2X, FYL2XP1: ST(0) = x = a, ST(1) = y = b
  yl2x: binary("f80Yl2x"),
  yl2xp1: binary("f80Yl2xp1"),
};

const TRANSCENDENTAL = new Set(["sin", "cos", "sincos", "ptan", "patan", "f2xm1", "yl2x", "yl2xp1"]);

/** Are two results the same but for at most 1 ulp in each register value (and C1, which tells the
 *  direction of that rounding)? */
function withinUlp(got: string, want: string): boolean {
  const [gv, gs] = got.split("/");
  const [wv, ws] = want.split("/");
  if (((parseInt(gs!, 16) ^ parseInt(ws!, 16)) & ~0x200) !== 0) return false;
  const g = gv!.split(",");
  const w = wv!.split(",");
  return g.every((gi, i) => {
    const [gm, ge] = f80(gi);
    const [wm, we] = f80(w[i]!);
    if (ge === we) return gm - wm <= 1n && wm - gm <= 1n;
    // across a binade: 0x..FFFF at exponent e against 0x8000.. at e+1
    return (ge & 0x8000) === (we & 0x8000) && Math.abs(ge - we) === 1 &&
      (ge < we ? gm === 0xffff_ffff_ffff_ffffn && wm === 0x8000_0000_0000_0000n
        : wm === 0xffff_ffff_ffff_ffffn && gm === 0x8000_0000_0000_0000n);
  });
}

const ops = readdirSync(FIXTURES).filter((f) => f.endsWith(".jsonl.gz")).map((f) => f.replace(".jsonl.gz", ""));

describe("the x87 softfloat matches the host FPU", () => {
  it("has vectors for every operation it implements", () => {
    expect(ops.sort()).toEqual(Object.keys(runners).sort());
  });

  for (const op of Object.keys(runners)) {
    const transcendental = TRANSCENDENTAL.has(op);
    it(`${op}: ${transcendental ? "within 1 ulp, mostly bit-exact" : "bit-exact"} on every vector and mode`, () => {
      const vectors = load(op);
      const run = runners[op]!;
      let total = 0;
      let exact = 0;
      let nearly = 0;
      const failures: string[] = [];
      for (const v of vectors) {
        let reported = false; // one failure per vector: the first mode that differs
        v.r.forEach((want, i) => {
          const cw = modeCw(v.r.length, i);
          const got = run(v, cw);
          total++;
          if (got === want) exact++;
          else if (transcendental && withinUlp(got, want)) nearly++;
          else if (!reported && failures.length < SHOW_FAILURES) {
            reported = true;
            failures.push(`${op} a=${v.a}${v.b ? ` b=${v.b}` : ""} cw=${hex(cw, 4)}: got ${got}, want ${want}`);
          }
        });
      }
      const failed = total - exact - nearly;
      console.log(`x87 ${op}: ${total} results, ${exact} bit-exact, ${nearly} within 1 ulp, ${failed} wrong`);
      expect(failures, failures.join("\n")).toEqual([]);
    });
  }
});
