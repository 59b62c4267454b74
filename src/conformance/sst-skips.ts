// What the SingleStepTests 80286 vectors cannot check on a 386-class (P6) core, written down case by case.
// The vectors were captured from a Harris 80C286 in real mode; where the 386 and later differ BY DESIGN the
// runner either skips the test (SKIP_RULES) or adjusts the comparison (ADJUSTMENTS). A test the core merely
// gets wrong is never skipped: it is a core bug and counts as a failure.
import type { MooRegName, MooTest } from './moo';

/** Per-opcode entry of the suite's metadata.json (`opcodes["8F"]`, or `opcodes["80"].reg["1"]`). */
export interface OpcodeMeta {
  status?: string;
  arch?: string | null;
  flags?: string;
  'flags-mask'?: number;
  reg?: Record<string, OpcodeMeta>;
}

export interface SstMetadata {
  opcodes: Record<string, OpcodeMeta>;
}

const SEG_ES = 0x26, SEG_CS = 0x2e, SEG_SS = 0x36, SEG_DS = 0x3e;
const PFX_LOCK = 0xf0, PFX_REPNE = 0xf2, PFX_REP = 0xf3;
const PREFIXES = new Set([SEG_ES, SEG_CS, SEG_SS, SEG_DS, PFX_LOCK, PFX_REPNE, PFX_REP]);

/** One-byte opcodes that take a ModRM byte (16-bit real mode, 286 opcode map). */
const HAS_MODRM = new Set<number>([
  0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b,
  0x20, 0x21, 0x22, 0x23, 0x28, 0x29, 0x2a, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x38, 0x39, 0x3a, 0x3b,
  0x62, 0x63, 0x69, 0x6b, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
  0x8c, 0x8d, 0x8e, 0x8f, 0xc0, 0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3,
  0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xf6, 0xf7, 0xfe, 0xff,
]);

/** One-byte opcodes whose every form reads or writes the stack (SS:SP). */
const STACK_OPS = new Set<number>([
  0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f,
  0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
  0x60, 0x61, 0x68, 0x6a, 0x8f, 0x9a, 0x9c, 0x9d, 0xc2, 0xc3, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xe8,
]);
/** FF /2 CALL near, /3 CALL far, /6 PUSH: stack forms of the FF group. */
const FF_STACK_REGS = new Set([2, 3, 6]);

/** The parts of an instruction the skip rules and adjustments look at. */
export interface DecodedOpcode {
  prefixes: number[];
  opcode: number;
  /** Present when the opcode takes a ModRM byte. */
  modrm?: number;
  /** The last segment-override prefix, if any. */
  segOverride?: number;
}

/** Decode prefixes, the opcode byte and the ModRM byte (if any) of a 286 real-mode instruction. */
export function decodeOpcode(bytes: Uint8Array): DecodedOpcode {
  const prefixes: number[] = [];
  let i = 0;
  let segOverride: number | undefined;
  while (i < bytes.length && PREFIXES.has(bytes[i]!)) {
    const p = bytes[i++]!;
    prefixes.push(p);
    if (p === SEG_ES || p === SEG_CS || p === SEG_SS || p === SEG_DS) segOverride = p;
  }
  const opcode = bytes[i] ?? 0xf4;
  const d: DecodedOpcode = { prefixes, opcode };
  if (HAS_MODRM.has(opcode) && i + 1 < bytes.length) d.modrm = bytes[i + 1]!;
  if (segOverride !== undefined) d.segOverride = segOverride;
  return d;
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/** The metadata entry for this instruction: `opcodes[op]`, or `opcodes[op].reg[modrm.reg]` for a group. */
export function opcodeMeta(meta: SstMetadata, d: DecodedOpcode): { key: string; entry: OpcodeMeta | undefined } {
  const top = meta.opcodes[hex2(d.opcode)];
  if (top?.reg && d.modrm !== undefined) {
    const reg = (d.modrm >> 3) & 7;
    return { key: `${hex2(d.opcode)}.${reg}`, entry: top.reg[String(reg)] };
  }
  return { key: hex2(d.opcode), entry: top };
}

/** Opcodes without ModRM whose memory operand takes a segment override: string sources (DS:SI), XLAT, moffs. */
const OVERRIDABLE_NO_MODRM = new Set([0x6e, 0x6f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xac, 0xad, 0xd7]);

/**
 * True if the instruction makes an SS-relative memory access: an implicit stack access, a BP-based ModRM
 * operand, or an operand under an SS: override (ModRM, DS:SI string source, XLAT, moffs; not ES:DI).
 */
export function touchesStackSegment(d: DecodedOpcode): boolean {
  if (STACK_OPS.has(d.opcode)) return true;
  if (d.modrm === undefined) return d.segOverride === SEG_SS && OVERRIDABLE_NO_MODRM.has(d.opcode);
  const mod = d.modrm >> 6, reg = (d.modrm >> 3) & 7, rm = d.modrm & 7;
  if (d.opcode === 0xff && FF_STACK_REGS.has(reg)) return true;
  if (mod === 3) return false;
  if (d.segOverride !== undefined) return d.segOverride === SEG_SS;
  // 16-bit addressing: [bp+si], [bp+di] and [bp+disp] default to SS ([disp16] is mod 0, rm 6).
  return rm === 2 || rm === 3 || (rm === 6 && mod !== 0);
}

/** ALU opcodes whose r/m-destination forms take LOCK (the memory-destination forms of ADD..XOR, not CMP). */
const LOCKABLE_ALU = new Set([0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31]);

/**
 * True if the 386 accepts LOCK on this instruction (386 PRM 17.2.2.1 LOCK / SDM Vol. 2 LOCK): a memory
 * destination of ADD OR ADC SBB AND SUB XOR (00-31 r/m,reg; 80-83 /0-6), XCHG (86, 87), NOT NEG (F6/F7 /2 /3),
 * INC DEC (FE/FF /0 /1). Anything else with LOCK raises #UD on the 386; the 286 runs it.
 */
export function lockableOn386(d: DecodedOpcode): boolean {
  if (d.modrm === undefined || d.modrm >> 6 === 3) return false;
  const reg = (d.modrm >> 3) & 7;
  const op = d.opcode;
  if (LOCKABLE_ALU.has(op) || op === 0x86 || op === 0x87) return true;
  if (op >= 0x80 && op <= 0x83) return reg !== 7;
  if (op === 0xf6 || op === 0xf7) return reg === 2 || reg === 3;
  if (op === 0xfe || op === 0xff) return reg === 0 || reg === 1;
  return false;
}

/** The MOO CPU id of the 80286 vectors; metadata.json and the 286-vs-386 rules apply to these only. */
export const CPU_286 = 'C286';

/** Why a test is skipped; `id` is stable for reports. */
export interface SkipRule {
  id: string;
  reason: string;
  /** The MOO CPU id whose vectors the rule is about (every CPU when absent). */
  cpu?: string;
  applies(test: MooTest, d: DecodedOpcode, meta: OpcodeMeta | undefined, revoked: ReadonlySet<string>): boolean;
}

/** The 286's instruction length limit, prefixes included (the data's BYTS end with the HLT). */
const MAX_INSN_286 = 10;

/** metadata.json statuses whose tests the README says not to hold a 386-class core to. */
const SKIPPED_STATUSES = new Set(['undefined', 'undocumented', 'fpu', 'prefix']);

export const SKIP_RULES: readonly SkipRule[] = [
  {
    id: 'revoked',
    reason: 'the test hash is in revocation_list.txt: SingleStepTests found the captured test bad',
    applies: (t, _d, _m, revoked) => t.hash !== undefined && revoked.has(t.hash),
  },
  {
    id: 'meta-status',
    cpu: CPU_286,
    reason:
      'metadata.json marks the opcode (or ModRM group member) undefined, undocumented, fpu or prefix (the ' +
      "README's list): what the 286 did is not architectural (8F, C6, C7 /1-7, FE /2-7, the SAL alias /6 of " +
      'C0-D3, SALC D6), or it is an x87 escape (D8-DF) that the coprocessor-less rig only decoded while this ' +
      'core executes it',
    applies: (_t, _d, m) => m?.status !== undefined && SKIPPED_STATUSES.has(m.status),
  },
  {
    id: 'lock-not-lockable',
    cpu: CPU_286,
    reason:
      'LOCK on an instruction that is not a locked read-modify-write of memory: the 286 ignores the prefix, ' +
      'the 386 and later raise #UD (SDM Vol. 2 LOCK: "#UD if the LOCK prefix is used with an instruction ' +
      'not listed")',
    applies: (_t, d) => d.prefixes.includes(PFX_LOCK) && !lockableOn386(d),
  },
  {
    id: 'insn-over-10-bytes',
    cpu: CPU_286,
    reason:
      'The instruction (with redundant prefixes) is longer than 10 bytes: the 286 raises #GP for that (80286 ' +
      'PRM: instructions are at most 10 bytes), the 386 accepts up to 15 bytes (SDM 2.3.11)',
    applies: (t) => t.bytes.length - 1 > MAX_INSN_286,
  },
  {
    id: 'pop-mem-fault-sp',
    cpu: CPU_286,
    reason:
      'POP m16 (8F /0) whose memory write faults: the 286 has already incremented SP when it pushes the #GP ' +
      'frame; the 386 restores SP (faults are restartable, SDM 6.5). Recognised from the data: the final SP ' +
      'is the initial SP + 2 - 6',
    applies: (t, d) => {
      if (d.opcode !== 0x8f || !t.exception) return false;
      const sp0 = t.init.regs?.regs.sp, sp1 = t.final.regs?.regs.sp;
      return sp0 !== undefined && sp1 !== undefined && sp1 === ((sp0 + 2 - 6) & 0xffff);
    },
  },
  {
    id: 'mov-sreg-fs-gs',
    cpu: CPU_286,
    reason:
      'MOV r/m16,Sreg (8C) and MOV Sreg,r/m16 (8E) with reg field 4 or 5 name FS and GS on the 386 and later ' +
      '(SDM Vol. 2 MOV); the 286 has no FS/GS and raises #UD',
    applies: (_t, d) => (d.opcode === 0x8c || d.opcode === 0x8e) && d.modrm !== undefined && ((d.modrm >> 3) & 6) === 4,
  },
];

/** What an adjustment leaves out of one test's comparison. */
export interface Relaxation {
  /** FLAGS bits not compared (in the register and in a pushed FLAGS image). */
  flags?: number;
  /** Registers not compared. */
  regs?: MooRegName[];
}

/** A comparison the runner relaxes or rewrites, with the reason. It never skips a test. */
export interface Adjustment {
  id: string;
  reason: string;
  /** The MOO CPU id whose vectors the adjustment is about (every CPU when absent). */
  cpu?: string;
  /** For adjustments that apply per test: what to leave out of this one. */
  relax?(test: MooTest, d: DecodedOpcode): Relaxation | undefined;
}

const FLAG_PF = 1 << 2, FLAG_ZF = 1 << 6, FLAG_SF = 1 << 7, FLAG_OF = 1 << 11;
/** MOVS CMPS STOS LODS SCAS INS OUTS, byte and word. */
const STRING_OPS = new Set([0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);

export const ADJUSTMENTS: readonly Adjustment[] = [
  {
    id: 'flags-12-15',
    cpu: CPU_286,
    reason:
      'FLAGS bits 12-15 (IOPL, NT, reserved) cannot be set in real mode on the 286 (POPF/IRET clear them) but ' +
      'can on the 386 (SDM 20.1: IOPL and NT exist in real mode). The 286 initial FLAGS are loaded with them ' +
      'clear and final FLAGS, and the FLAGS images an exception pushes, are compared with them masked',
  },
  {
    id: 'undefined-flags',
    cpu: CPU_286,
    reason:
      "metadata.json's per-opcode flags-mask clears flags the 286 leaves undefined (e.g. AF after logic ops, OF " +
      'after multi-bit shifts, SZAP after MUL) before comparing final FLAGS and pushed FLAGS images',
  },
  {
    id: 'gp-vs-ss-at-ffff',
    cpu: CPU_286,
    reason:
      'A word access at offset 0xFFFF overruns the 64 KiB real-mode limit: the 286 raises #GP (vector 13) for ' +
      'every segment, the 386 raises #SS (vector 12) when the segment is SS (SDM Vol. 2 real-address mode ' +
      'exceptions). For tests that took vector 13 and make an SS-relative access (stack instructions, BP-based ' +
      'or SS: operands) the runner points IVT entry 12 at the same handler as entry 13, so either vector ' +
      'passes (also for PUSH/POP/CALL with a DS memory operand, where the data does not say which access ' +
      'faulted); every other vector-13 test must raise #GP exactly',
  },
  {
    id: 'string-fault-index-regs',
    cpu: CPU_286,
    reason:
      'A string instruction that faults (#GP at offset 0xFFFF): the 286 has already stepped SI/DI (and, ' +
      'under REP, CX) for the faulting iteration when it pushes the frame; the 386 leaves them at the ' +
      'faulting iteration so the restarted instruction repeats the access (SDM 6.5). SI, DI and CX are not ' +
      'compared; CS:IP, SP, FLAGS, the frame and the bytes earlier iterations wrote are',
    relax: (t, d) => (t.exception && STRING_OPS.has(d.opcode) ? { regs: ['si', 'di', 'cx'] } : undefined),
  },
  {
    id: 'shift-imm-of',
    cpu: CPU_286,
    reason:
      'C0 (shift/rotate r/m8 by imm8): OF is undefined unless the count is 1 (SDM Vol. 2 RCL/RCR/ROL/ROR, ' +
      'SAL/SAR/SHL/SHR); metadata.json masks it for C1, D2 and D3 but not for C0, so the runner masks it too',
    relax: (_t, d) => (d.opcode === 0xc0 ? { flags: FLAG_OF } : undefined),
  },
  {
    id: 'aam-0-flags',
    cpu: CPU_286,
    reason:
      'AAM 0 raises #DE; the 286 has already changed SF, ZF and PF when it pushes FLAGS, the 386 leaves ' +
      'them as they were (a fault restores state, SDM 6.5). They are not compared for AAM with a zero immediate',
    relax: (t, d) => (d.opcode === 0xd4 && t.bytes[d.prefixes.length + 1] === 0 ? { flags: FLAG_SF | FLAG_ZF | FLAG_PF } : undefined),
  },
  {
    id: 'excp-flags-address',
    reason:
      "EXCP's address of the pushed FLAGS image is rounded down to even when SP was odd (723 of the 286 " +
      'tests); for every file the runner locates the image from the final SS:SP instead (IP at SP, CS at ' +
      'SP+2, FLAGS at SP+4)',
  },
  {
    id: 'hlt-ip',
    reason:
      'Both the 286 and the 386EX vectors end with IP past the HLT that follows the instruction, and so does ' +
      'this core (HLT completes, EIP points past it): final IP is compared unchanged',
  },
  {
    id: 'eflags-386-reserved',
    reason:
      'The 386EX sample loads EFLAGS bits 18-31 with junk the 386 ignores (it has no AC/VIF/VIP/ID); the runner ' +
      'loads and compares EFLAGS bits 0-15 only (RF and VM stay 0 in real mode)',
  },
  {
    id: 'control-debug-regs',
    reason:
      'The 386EX sample lists CR0, CR3, DR6 and DR7 with rig-specific reserved bits; the runner keeps the ' +
      "core's real-mode values and compares them only if a test's final state lists them",
  },
  {
    id: 'port-input',
    reason:
      'Port reads (IN, INS) return what the harness bus returns for an unclaimed port (all ones), which is what ' +
      'the 286 rig returned: no adjustment, listed so a mismatch is read as a bus difference, not a core bug',
  },
];

/** The union of what the adjustments leave out of this test's comparison. */
export function relaxation(test: MooTest, d: DecodedOpcode, cpu: string): Required<Relaxation> {
  const out: Required<Relaxation> = { flags: 0, regs: [] };
  for (const a of ADJUSTMENTS) {
    if (a.cpu !== undefined && a.cpu !== cpu) continue;
    const r = a.relax?.(test, d);
    if (r?.flags) out.flags |= r.flags;
    if (r?.regs) out.regs.push(...r.regs);
  }
  return out;
}

/** The first skip rule that applies to this test, if any. */
export function skipReason(
  test: MooTest,
  d: DecodedOpcode,
  meta: OpcodeMeta | undefined,
  revoked: ReadonlySet<string>,
  cpu: string,
): SkipRule | undefined {
  return SKIP_RULES.find((r) => (r.cpu === undefined || r.cpu === cpu) && r.applies(test, d, meta, revoked));
}
