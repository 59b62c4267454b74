// The SingleStepTests runner: loads each MOO test's initial state into the CPU harness in real mode, runs the
// instruction up to the HLT that follows it, and compares the final registers and RAM with what the real CPU
// did. 286 vectors (16-bit REGS) and 386 vectors (32-bit RG32) both run; the differences between a 286 and
// this 386-class core that are by design are written down in sst-skips.ts. Host-neutral: the caller reads and
// inflates the files.
import type { CpuHarness, CpuState, GprName, SegName } from '../machine/harness';
import type { MooFile, MooRegBlock, MooRegName, MooRegs, MooTest } from './moo';
import {
  CPU_286, decodeOpcode, opcodeMeta, relaxation, skipReason, touchesStackSegment, type DecodedOpcode, type Relaxation, type SstMetadata,
} from './sst-skips';

/**
 * Instructions to run before giving up on reaching the HLT: the instruction, up to 16 more for a repeated
 * string instruction that the core executes in batches (4096 iterations per step, CX <= 0xFFFF), the HLT,
 * and slack for an exception handler entry.
 */
const MAX_STEPS = 24;

/** IVT entries (real mode: 4 bytes each, offset then segment, at physical 0). */
const IVT_ENTRY = 4;
const VEC_SS = 12;
const VEC_GP = 13;

/** FLAGS bits 0-11: what a 286 in real mode holds (12-15 read as 0; see sst-skips.ts `flags-12-15`). */
const FLAGS_286 = 0x0fff;
/** EFLAGS bits 0-15: what the runner loads and compares for 386 vectors (`eflags-386-reserved`). */
const FLAGS_386 = 0xffff;

type Width = 16 | 32;

/** How a MOO register maps onto the harness: a GPR (with a width), EIP, EFLAGS or a segment selector. */
type RegTarget =
  | { kind: 'gpr'; name: GprName }
  | { kind: 'ip' }
  | { kind: 'flags' }
  | { kind: 'seg'; name: SegName }
  | { kind: 'other' };

/** MOO GPR names (16- and 32-bit) to the harness's 32-bit registers; the comparison masks to the width. */
const GPRS = new Map<string, GprName>([
  ['ax', 'eax'], ['bx', 'ebx'], ['cx', 'ecx'], ['dx', 'edx'], ['sp', 'esp'], ['bp', 'ebp'], ['si', 'esi'], ['di', 'edi'],
  ['eax', 'eax'], ['ebx', 'ebx'], ['ecx', 'ecx'], ['edx', 'edx'], ['esp', 'esp'], ['ebp', 'ebp'], ['esi', 'esi'], ['edi', 'edi'],
]);
const SEGS = new Set<string>(['cs', 'ss', 'ds', 'es', 'fs', 'gs']);

function target(name: MooRegName): RegTarget {
  const gpr = GPRS.get(name);
  if (gpr) return { kind: 'gpr', name: gpr };
  if (name === 'ip' || name === 'eip') return { kind: 'ip' };
  if (name === 'flags' || name === 'eflags') return { kind: 'flags' };
  if (SEGS.has(name)) return { kind: 'seg', name: name as SegName };
  return { kind: 'other' }; // cr0 cr3 dr6 dr7: see sst-skips.ts `control-debug-regs`
}

export type CaseStatus = 'pass' | 'fail' | 'skip';

export interface CaseResult {
  index: number;
  name: string;
  status: CaseStatus;
  /** For a skip: the rule id. */
  skip?: string;
  /** For a failure: one line per mismatch, e.g. `ax: expected 0x1234, got 0x1235`. */
  diffs?: string[];
}

export interface FileResult {
  file: string;
  mnemonic: string;
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Skipped tests by rule id. */
  skips: Record<string, number>;
  /** The failing cases (all of them; callers print a few). */
  failures: CaseResult[];
}

export interface RunnerOptions {
  metadata: SstMetadata;
  /** SHA-1 hashes (lowercase hex) from revocation_list.txt. */
  revoked?: ReadonlySet<string>;
}

/** Parse revocation_list.txt: one hash a line, `#` comments. */
export function parseRevocationList(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const s = line.replace(/#.*/, '').trim().toLowerCase();
    if (s) out.add(s);
  }
  return out;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** Runs MOO tests through one reused harness. */
export class SstRunner {
  private readonly revoked: ReadonlySet<string>;
  /** Physical addresses the previous test loaded or checked: zeroed before the next one. */
  private dirty: number[] = [];
  private zeros: Uint8Array | undefined;

  constructor(private readonly h: CpuHarness, private readonly opts: RunnerOptions) {
    this.revoked = opts.revoked ?? new Set();
  }

  runFile(file: string, moo: MooFile): FileResult {
    const r: FileResult = { file, mnemonic: moo.meta?.mnemonic ?? '', total: 0, passed: 0, failed: 0, skipped: 0, skips: {}, failures: [] };
    for (const t of moo.tests) {
      const c = this.runTest(t, moo.cpu, moo.mask);
      r.total++;
      if (c.status === 'pass') r.passed++;
      else if (c.status === 'skip') { r.skipped++; r.skips[c.skip!] = (r.skips[c.skip!] ?? 0) + 1; }
      else { r.failed++; r.failures.push(c); }
    }
    return r;
  }

  /** Run one test from a file of `cpu` vectors (the MOO header's CPU id). */
  runTest(t: MooTest, cpu: string = CPU_286, fileMask?: MooRegBlock): CaseResult {
    const d = decodeOpcode(t.bytes);
    // metadata.json describes the 286 opcode map; other CPUs' files carry their own masks in RMSK/RM32.
    const entry = cpu === CPU_286 ? opcodeMeta(this.opts.metadata, d).entry : undefined;
    const skip = skipReason(t, d, entry, this.revoked, cpu);
    if (skip) return { index: t.index, name: t.name, status: 'skip', skip: skip.id };

    const width: Width = t.init.regs?.width ?? 16;
    const archFlags = cpu === CPU_286 ? FLAGS_286 : FLAGS_386;
    const relax = relaxation(t, d, cpu);
    const flagsMask = archFlags & (entry?.['flags-mask'] ?? 0xffff) & ~relax.flags;

    this.load(t, cpu, archFlags, d);
    const run = this.h.step(MAX_STEPS);
    const s = this.h.getState();

    const diffs: string[] = [];
    if (!s.halted) diffs.push(`did not reach the HLT within ${MAX_STEPS} instructions (exit ${run.exit}, ${run.executed} executed)`);
    this.compareRegs(t, s, width, flagsMask, relax, fileMask, diffs);
    this.compareRam(t, flagsMask, diffs);
    // A failing run may have written anywhere; clear all RAM so the next test starts as if alone.
    if (diffs.length) this.clearRam();
    return diffs.length
      ? { index: t.index, name: t.name, status: 'fail', diffs }
      : { index: t.index, name: t.name, status: 'pass' };
  }

  private load(t: MooTest, cpu: string, archFlags: number, d: DecodedOpcode): void {
    const h = this.h;
    h.setRealMode();
    if (this.dirty.length) this.writeBytes(this.dirty.map((a) => [a, 0] as [number, number]));
    this.dirty = [];

    const regs = t.init.regs?.regs ?? {};
    for (const [name, value] of Object.entries(regs) as Array<[MooRegName, number]>) {
      const tg = target(name);
      if (tg.kind === 'gpr') h.setReg(tg.name, value);
      else if (tg.kind === 'ip') h.setReg('eip', value);
      else if (tg.kind === 'seg') h.setSegReal(tg.name, value & 0xffff);
    }
    // EFLAGS last: writing it recomputes the mode from the segment state.
    h.setReg('eflags', ((regs.flags ?? regs.eflags ?? 0) & archFlags) | 2);

    const ram = t.init.ram.slice();
    if (cpu === CPU_286 && t.exception?.vector === VEC_GP && touchesStackSegment(d)) {
      // sst-skips.ts `gp-vs-ss-at-ffff`: let a 386-style #SS reach the handler the 286's #GP went to.
      const gp = new Map(ram.filter(([a]) => a >= VEC_GP * IVT_ENTRY && a < (VEC_GP + 1) * IVT_ENTRY));
      for (let i = 0; i < IVT_ENTRY; i++) {
        const b = gp.get(VEC_GP * IVT_ENTRY + i);
        if (b !== undefined) ram.push([VEC_SS * IVT_ENTRY + i, b]);
      }
    }
    this.writeBytes(ram);
    for (const [a] of ram) this.dirty.push(a);
    for (const [a] of t.final.ram) this.dirty.push(a);
  }

  private clearRam(): void {
    this.zeros ??= new Uint8Array(this.h.core.ramBytes);
    this.h.writeMem(0, this.zeros);
    this.dirty = [];
  }

  /** Write (address, byte) pairs, coalescing runs of consecutive addresses into one harness write each. */
  private writeBytes(pairs: Array<[number, number]>): void {
    const sorted = pairs.slice().sort((a, b) => a[0] - b[0]);
    let i = 0;
    while (i < sorted.length) {
      let j = i + 1;
      while (j < sorted.length && sorted[j]![0] === sorted[j - 1]![0] + 1) j++;
      this.h.writeMem(sorted[i]![0], sorted.slice(i, j).map((p) => p[1]));
      i = j;
    }
  }

  private compareRegs(
    t: MooTest, s: CpuState, width: Width, flagsMask: number, relax: Required<Relaxation>, fileMask: MooRegBlock | undefined, diffs: string[],
  ): void {
    const expected: MooRegs = { ...(t.init.regs?.regs ?? {}), ...(t.final.regs?.regs ?? {}) };
    const listedFinal = t.final.regs?.regs ?? {};
    const regMask = (n: MooRegName) => (fileMask?.regs[n] ?? 0xffffffff) & (t.final.mask?.regs[n] ?? 0xffffffff);
    const wmask = width === 16 ? 0xffff : 0xffffffff;
    for (const [name, want] of Object.entries(expected) as Array<[MooRegName, number]>) {
      if (relax.regs.includes(name)) continue;
      const tg = target(name);
      let got: number;
      let mask = regMask(name) & wmask;
      switch (tg.kind) {
        case 'gpr': got = s[tg.name]; break;
        case 'ip': got = s.eip; break;
        case 'flags': got = s.eflags; mask &= flagsMask; break;
        case 'seg': got = s[tg.name].selector; mask &= 0xffff; break;
        case 'other':
          if (!(name in listedFinal)) continue;
          diffs.push(`${name}: listed in the final state but the runner cannot read it`);
          continue;
      }
      if (((got ^ want) & mask) !== 0) diffs.push(`${name}: expected ${hex(want & mask)}, got ${hex(got & mask)}`);
    }
  }

  private compareRam(t: MooTest, flagsMask: number, diffs: string[]): void {
    const flagsAt = pushedFlagsAddress(t);
    for (const [addr, want] of t.final.ram) {
      let mask = 0xff;
      // The FLAGS image an exception pushed: same masks as the FLAGS register.
      if (addr === flagsAt) mask = flagsMask & 0xff;
      else if (flagsAt !== undefined && addr === flagsAt + 1) mask = (flagsMask >> 8) & 0xff;
      const got = this.h.readMem(addr, 1)[0]!;
      if (((got ^ want) & mask) !== 0) diffs.push(`[${hex(addr)}]: expected ${hex(want & mask)}, got ${hex(got & mask)}`);
    }
  }
}

/**
 * Where the exception frame's FLAGS image is: FLAGS at SS:SP+4 of the final state (IP at SP, CS at SP+2).
 * EXCP's own address is rounded down when SP was odd (sst-skips.ts `excp-flags-address`).
 */
function pushedFlagsAddress(t: MooTest): number | undefined {
  if (!t.exception) return undefined;
  const regs = { ...(t.init.regs?.regs ?? {}), ...(t.final.regs?.regs ?? {}) };
  const ss = regs.ss, sp = regs.sp ?? regs.esp;
  if (ss === undefined || sp === undefined) return t.exception.flagsAddress;
  return ((ss & 0xffff) << 4) + ((sp + 4) & 0xffff);
}

/** Totals over many files. */
export interface SstSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Failing test count per file with failures. */
  failures: Record<string, number>;
  /** Skipped test count per rule id. */
  skips: Record<string, number>;
}

export function summarize(results: readonly FileResult[]): SstSummary {
  const s: SstSummary = { total: 0, passed: 0, failed: 0, skipped: 0, failures: {}, skips: {} };
  for (const r of results) {
    s.total += r.total; s.passed += r.passed; s.failed += r.failed; s.skipped += r.skipped;
    if (r.failed) s.failures[r.file] = r.failed;
    for (const [k, v] of Object.entries(r.skips)) s.skips[k] = (s.skips[k] ?? 0) + v;
  }
  return s;
}
