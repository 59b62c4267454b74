/**
 * Reader for the host-CPU differential vectors in test/fixtures/host-diff/, produced by
 * tools/oracle (see tools/oracle/README.md for the format and for what is masked).
 *
 * Each vector: run `bytes` at CODE_BASE with the `init` state (data area zero except
 * `init.mem`) until EIP reaches CODE_BASE + bytes.length, then compare with `final` —
 * ignoring the EFLAGS bits in `flagsMask`, the register bits in `regsMask`, the x87
 * status-word bits in `fswMask` and the ST(i) in `stUndefined`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const CODE_BASE = 0x0010_0000;
export const DATA_BASE = 0x0020_0000;
export const DATA_SIZE = 0x1_0000;

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/host-diff');
const SUFFIX = '.jsonl.gz';

export type Gpr = 'eax' | 'ecx' | 'edx' | 'ebx' | 'esp' | 'ebp' | 'esi' | 'edi';
export const GPRS: readonly Gpr[] = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

/** [address, hex bytes]: a run of bytes in the data area. */
export type MemRun = [address: number, hex: string];

/** x87 state as in an FSAVE image: st[i] is ST(i) (not the physical register), 20 hex digits
 * of sign:exponent:significand; tw is the full tag word in physical-register order. */
export interface FpuState {
  cw: number;
  sw: number;
  tw: number;
  st: string[];
}

export interface CpuState extends Record<Gpr, number> {
  /** Only CF PF AF ZF SF DF OF and the reserved bit 1. */
  eflags: number;
  /** In `init`: the data area's non-zero content. In `final`: the bytes that differ from it. */
  mem: MemRun[];
  fpu?: FpuState;
}

export interface ExceptionResult {
  /** Hardware vector: 0 #DE, 6 #UD, 13 #GP, 14 #PF, ... */
  exception: number;
}

export interface Vector {
  form: string;
  bytes: string;
  init: CpuState;
  final: CpuState | ExceptionResult;
  /** EFLAGS bits the SDM calls undefined for this instruction and these operands. */
  flagsMask: number;
  /** Register bits whose final value is undefined (e.g. BSF's destination for a zero source). */
  regsMask?: Partial<Record<Gpr, number>>;
  /** x87 status-word bits (condition codes) the SDM calls undefined. Present on x87 vectors. */
  fswMask?: number;
  /** ST(i) whose final value is implementation-dependent (FPREM's partial remainder). */
  stUndefined?: number[];
}

export const isException = (final: Vector['final']): final is ExceptionResult => 'exception' in final;

/** The fixture groups present, sorted: alu, bcd, bit, misc, muldiv, shift, string, x87-*. */
export function listGroups(dir = FIXTURE_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

/** All vectors of one group, in fixture order. */
export function loadVectors(group: string, dir = FIXTURE_DIR): Vector[] {
  const text = gunzipSync(readFileSync(join(dir, group + SUFFIX))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Vector);
}

/** Group vectors by form, keeping fixture order within each form. */
export function byForm(vectors: Vector[]): Map<string, Vector[]> {
  const forms = new Map<string, Vector[]>();
  for (const v of vectors) {
    const list = forms.get(v.form);
    if (list) list.push(v);
    else forms.set(v.form, [v]);
  }
  return forms;
}

/** Decode a hex string from a vector into bytes. */
export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
