// The opcode table: decode information and handler for every opcode of the one-byte and 0F maps. Opcodes not
// listed here are #UD (and counted). Group opcodes dispatch on the ModRM reg field in small handlers below.
import { setOpInfo, INFO_MODRM, INFO_MODRM_REG, IMM_IB, IMM_IW, IMM_IZ, IMM_AP, IMM_IW_IB, IMM_MOFFS, IMM_GRP3, INFO_LOCK, INFO_END } from "./optable-info";
import { dOp, dReg, dOsz } from "./decode";
import { raiseUD } from "./exceptions";
import { logUnimplemented } from "./udlog";
import { opAlu, opGrp1, opTest, opIncDecReg, incDecE, notNegE, testEImm } from "./ops/alu";
import {
  opMov, opMovEImm, opMovRegImm, opMovMoffs, opLea, opXchg, opMovx, opCbw, opCwd, opXlat, opMovFromSeg, opMovToSeg,
  opLoadFarPtr, opBswap, opCmov,
} from "./ops/mov";
import { opPushReg, opPopReg, opPushImm, pushE, opPopE, opPushSeg, opPopSeg, opPusha, opPopa, opLeave, opEnter } from "./ops/stack";
import { opJcc, opJmpRel, opCallRel, opRetNear, opLoop, callJmpNearE, callJmpFarE, opFarImm, opRetFar } from "./ops/control";
import { opGrp2, opShld } from "./ops/shift";
import { mulAcc, opImul, divAcc } from "./ops/muldiv";
import { opDaaDas, opAaaAas, opAam, opAad, opSalc } from "./ops/bcd";
import { opString } from "./ops/string";
import { opBtReg, opGrp8, opBsfBsr, opSetcc } from "./ops/bit";
import { opIn, opOut } from "./ops/io";
import { opFlagOp, opCliSti, opLahf, opSahf, opPushf, opPopf } from "./ops/flagsops";
import { opHlt, opNop, opCpuid, opRdtsc, opInt, opBound } from "./ops/misc";
import { opMovCr, opMovDr, opGrp7, opGrp6, opClts, opInvd, opRdmsr, opWrmsr, opIret } from "./ops/system";
import { opCmpxchg, opXadd, opGrp9 } from "./ops/atomic";
import { opLarLsl, opArpl } from "./ops/protection";
import { opSysenter, opRdpmc } from "./ops/sysenter";
import { opX87, opFwait } from "./x87/ops";

type Handler = () => void;
const handlers = new StaticArray<Handler>(512);

@inline export function dispatch(op: u32): void { dispatchOp(op & 511); }

function def(op: u32, info: u16, h: Handler): void {
  setOpInfo(op, info);
  handlers[op] = h;
}
function defRange(first: u32, last: u32, info: u16, h: Handler): void {
  for (let op = first; op <= last; op++) def(op, info, h);
}

const M = INFO_MODRM;
const L = INFO_LOCK;
const E = INFO_END;
const R = INFO_MODRM_REG;

/** 0F 0B UD2: the architecturally defined #UD, not an unimplemented instruction. */
function opUd2(): void { raiseUD(); }

/** F6/F7 group 3: TEST NOT NEG MUL IMUL DIV IDIV. */
function opGrp3(): void {
  const size: u32 = dOp() == 0xf6 ? 1 : dOsz();
  switch (dReg()) {
    case 0: case 1: testEImm(size); break;
    case 2: case 3: notNegE(size); break;
    case 4: mulAcc(size, false); break;
    case 5: mulAcc(size, true); break;
    case 6: divAcc(size, false); break;
    default: divAcc(size, true); break;
  }
}

/** FE group 4: INC/DEC Eb. */
function opGrp4(): void {
  if (dReg() > 1) { logUnimplemented(dOp()); raiseUD(); return; }
  incDecE(1);
}

/** FF group 5: INC DEC CALL CALLF JMP JMPF PUSH. */
function opGrp5(): void {
  switch (dReg()) {
    case 0: case 1: incDecE(dOsz()); break;
    case 2: case 4: callJmpNearE(); break;
    case 3: case 5: callJmpFarE(); break;
    case 6: pushE(); break;
    default: raiseUD(); break;
  }
}

// ---- one-byte map ----
for (let op: u32 = 0; op < 0x40; op += 8) {
  def(op, M | L, opAlu);
  def(op + 1, M | L, opAlu);
  def(op + 2, M, opAlu);
  def(op + 3, M, opAlu);
  def(op + 4, IMM_IB, opAlu);
  def(op + 5, IMM_IZ, opAlu);
}
def(0x06, 0, opPushSeg); def(0x07, 0, opPopSeg);
def(0x0e, 0, opPushSeg);
def(0x16, 0, opPushSeg); def(0x17, 0, opPopSeg);
def(0x1e, 0, opPushSeg); def(0x1f, 0, opPopSeg);
def(0x27, 0, opDaaDas); def(0x2f, 0, opDaaDas);
def(0x37, 0, opAaaAas); def(0x3f, 0, opAaaAas);
defRange(0x40, 0x4f, 0, opIncDecReg);
defRange(0x50, 0x57, 0, opPushReg);
defRange(0x58, 0x5f, 0, opPopReg);
def(0x60, 0, opPusha); def(0x61, 0, opPopa);
def(0x62, M, opBound);
def(0x63, M, opArpl);
def(0x68, IMM_IZ, opPushImm);
def(0x69, M | IMM_IZ, opImul);
def(0x6a, IMM_IB, opPushImm);
def(0x6b, M | IMM_IB, opImul);
defRange(0x6c, 0x6f, 0, opString);
defRange(0x70, 0x7f, IMM_IB | E, opJcc);
def(0x80, M | IMM_IB | L, opGrp1);
def(0x81, M | IMM_IZ | L, opGrp1);
def(0x82, M | IMM_IB | L, opGrp1);
def(0x83, M | IMM_IB | L, opGrp1);
def(0x84, M, opTest); def(0x85, M, opTest);
def(0x86, M | L, opXchg); def(0x87, M | L, opXchg);
defRange(0x88, 0x8b, M, opMov);
def(0x8c, M, opMovFromSeg);
def(0x8d, M, opLea);
def(0x8e, M, opMovToSeg);
def(0x8f, M, opPopE);
def(0x90, 0, opNop);
defRange(0x91, 0x97, 0, opXchg);
def(0x98, 0, opCbw); def(0x99, 0, opCwd);
def(0x9a, IMM_AP | E, opFarImm);
def(0x9b, 0, opFwait);
def(0x9c, 0, opPushf); def(0x9d, 0, opPopf);
def(0x9e, 0, opSahf); def(0x9f, 0, opLahf);
defRange(0xa0, 0xa3, IMM_MOFFS, opMovMoffs);
defRange(0xa4, 0xa7, 0, opString);
def(0xa8, IMM_IB, opTest); def(0xa9, IMM_IZ, opTest);
defRange(0xaa, 0xaf, 0, opString);
defRange(0xb0, 0xb7, IMM_IB, opMovRegImm);
defRange(0xb8, 0xbf, IMM_IZ, opMovRegImm);
def(0xc0, M | IMM_IB, opGrp2); def(0xc1, M | IMM_IB, opGrp2);
def(0xc2, IMM_IW | E, opRetNear); def(0xc3, E, opRetNear);
def(0xc4, M, opLoadFarPtr); def(0xc5, M, opLoadFarPtr);
def(0xc6, M | IMM_IB, opMovEImm); def(0xc7, M | IMM_IZ, opMovEImm);
def(0xc8, IMM_IW_IB, opEnter); def(0xc9, 0, opLeave);
def(0xca, IMM_IW | E, opRetFar); def(0xcb, E, opRetFar);
def(0xcc, E, opInt); def(0xcd, IMM_IB | E, opInt); def(0xce, E, opInt); def(0xcf, E, opIret);
defRange(0xd0, 0xd3, M, opGrp2);
defRange(0xd8, 0xdf, M, opX87);
def(0xd4, IMM_IB, opAam); def(0xd5, IMM_IB, opAad); def(0xd6, 0, opSalc); def(0xd7, 0, opXlat);
defRange(0xe0, 0xe3, IMM_IB | E, opLoop);
def(0xe4, IMM_IB, opIn); def(0xe5, IMM_IB, opIn); def(0xe6, IMM_IB, opOut); def(0xe7, IMM_IB, opOut);
def(0xe8, IMM_IZ | E, opCallRel); def(0xe9, IMM_IZ | E, opJmpRel);
def(0xea, IMM_AP | E, opFarImm); def(0xeb, IMM_IB | E, opJmpRel);
def(0xec, 0, opIn); def(0xed, 0, opIn); def(0xee, 0, opOut); def(0xef, 0, opOut);
def(0xf1, E, opInt);
def(0xf4, E, opHlt);
def(0xf5, 0, opFlagOp);
def(0xf6, M | IMM_GRP3 | L, opGrp3); def(0xf7, M | IMM_GRP3 | L, opGrp3);
def(0xf8, 0, opFlagOp); def(0xf9, 0, opFlagOp);
def(0xfa, 0, opCliSti); def(0xfb, 0, opCliSti);
def(0xfc, 0, opFlagOp); def(0xfd, 0, opFlagOp);
def(0xfe, M | L, opGrp4); def(0xff, M | L | E, opGrp5);

// ---- 0F map ----
def(0x100, M, opGrp6);
def(0x101, M, opGrp7);
def(0x102, M, opLarLsl); def(0x103, M, opLarLsl);
def(0x106, 0, opClts);
def(0x108, 0, opInvd); def(0x109, 0, opInvd);
defRange(0x119, 0x11f, M, opNop);
def(0x10b, 0, opUd2);
def(0x120, M | R, opMovCr); def(0x122, M | R | E, opMovCr);
def(0x121, M | R, opMovDr); def(0x123, M | R, opMovDr);
def(0x130, 0, opWrmsr); def(0x131, 0, opRdtsc); def(0x132, 0, opRdmsr); def(0x133, 0, opRdpmc);
def(0x134, E, opSysenter); def(0x135, E, opSysenter);
defRange(0x140, 0x14f, M, opCmov);
defRange(0x180, 0x18f, IMM_IZ | E, opJcc);
defRange(0x190, 0x19f, M, opSetcc);
def(0x1a0, 0, opPushSeg); def(0x1a1, 0, opPopSeg);
def(0x1a2, 0, opCpuid);
def(0x1a3, M, opBtReg);
def(0x1a4, M | IMM_IB, opShld); def(0x1a5, M, opShld);
def(0x1a8, 0, opPushSeg); def(0x1a9, 0, opPopSeg);
def(0x1ab, M | L, opBtReg);
def(0x1ac, M | IMM_IB, opShld); def(0x1ad, M, opShld);
def(0x1af, M, opImul);
def(0x1b0, M | L, opCmpxchg); def(0x1b1, M | L, opCmpxchg);
def(0x1b2, M, opLoadFarPtr);
def(0x1b3, M | L, opBtReg);
def(0x1b4, M, opLoadFarPtr); def(0x1b5, M, opLoadFarPtr);
def(0x1b6, M, opMovx); def(0x1b7, M, opMovx);
def(0x1ba, M | IMM_IB | L, opGrp8);
def(0x1bb, M | L, opBtReg);
def(0x1bc, M, opBsfBsr); def(0x1bd, M, opBsfBsr);
def(0x1be, M, opMovx); def(0x1bf, M, opMovx);
def(0x1c0, M | L, opXadd); def(0x1c1, M | L, opXadd);
def(0x1c7, M | L, opGrp9);
defRange(0x1c8, 0x1cf, 0, opBswap);

/**
 * The handler of opcode `op` (0-511) by a switch: a jump table and direct calls, where the table above costs a
 * call_indirect (bounds and signature checks on a chain of loads) per instruction. Interpreter-only Debian boot,
 * seconds 5-25: 46-47 MIPS against 40.6 through the table, and 50.8-51.5 with the switch inlined into the run
 * loop (one call less per instruction). Its cases must name the handler def() gives the opcode
 * (test/cpu/dispatch.test.ts reads both); an opcode without a case still runs, through the table.
 */
@inline export function dispatchOp(op: u32): void {
  switch (op) {
    case 0x0: case 0x1: case 0x2: case 0x3: case 0x4: case 0x5: case 0x8: case 0x9: case 0xa: case 0xb: case 0xc:
    case 0xd: case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x18: case 0x19: case 0x1a:
    case 0x1b: case 0x1c: case 0x1d: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x28:
    case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x30: case 0x31: case 0x32: case 0x33: case 0x34:
    case 0x35: case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c: case 0x3d: opAlu(); return;
    case 0x6: case 0xe: case 0x16: case 0x1e: case 0x1a0: case 0x1a8: opPushSeg(); return;
    case 0x7: case 0x17: case 0x1f: case 0x1a1: case 0x1a9: opPopSeg(); return;
    case 0x27: case 0x2f: opDaaDas(); return;
    case 0x37: case 0x3f: opAaaAas(); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47: case 0x48: case 0x49:
    case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: opIncDecReg(); return;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: opPushReg(); return;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: opPopReg(); return;
    case 0x60: opPusha(); return;
    case 0x61: opPopa(); return;
    case 0x62: opBound(); return;
    case 0x63: opArpl(); return;
    case 0x68: case 0x6a: opPushImm(); return;
    case 0x69: case 0x6b: case 0x1af: opImul(); return;
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab:
    case 0xac: case 0xad: case 0xae: case 0xaf: opString(); return;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77: case 0x78: case 0x79:
    case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: case 0x180: case 0x181: case 0x182:
    case 0x183: case 0x184: case 0x185: case 0x186: case 0x187: case 0x188: case 0x189: case 0x18a: case 0x18b:
    case 0x18c: case 0x18d: case 0x18e: case 0x18f: opJcc(); return;
    case 0x80: case 0x81: case 0x82: case 0x83: opGrp1(); return;
    case 0x84: case 0x85: case 0xa8: case 0xa9: opTest(); return;
    case 0x86: case 0x87: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: opXchg(); return;
    case 0x88: case 0x89: case 0x8a: case 0x8b: opMov(); return;
    case 0x8c: opMovFromSeg(); return;
    case 0x8d: opLea(); return;
    case 0x8e: opMovToSeg(); return;
    case 0x8f: opPopE(); return;
    case 0x90: case 0x119: case 0x11a: case 0x11b: case 0x11c: case 0x11d: case 0x11e: case 0x11f: opNop(); return;
    case 0x98: opCbw(); return;
    case 0x99: opCwd(); return;
    case 0x9a: case 0xea: opFarImm(); return;
    case 0x9b: opFwait(); return;
    case 0x9c: opPushf(); return;
    case 0x9d: opPopf(); return;
    case 0x9e: opSahf(); return;
    case 0x9f: opLahf(); return;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: opMovMoffs(); return;
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7: case 0xb8: case 0xb9:
    case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf: opMovRegImm(); return;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: opGrp2(); return;
    case 0xc2: case 0xc3: opRetNear(); return;
    case 0xc4: case 0xc5: case 0x1b2: case 0x1b4: case 0x1b5: opLoadFarPtr(); return;
    case 0xc6: case 0xc7: opMovEImm(); return;
    case 0xc8: opEnter(); return;
    case 0xc9: opLeave(); return;
    case 0xca: case 0xcb: opRetFar(); return;
    case 0xcc: case 0xcd: case 0xce: case 0xf1: opInt(); return;
    case 0xcf: opIret(); return;
    case 0xd4: opAam(); return;
    case 0xd5: opAad(); return;
    case 0xd6: opSalc(); return;
    case 0xd7: opXlat(); return;
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf: opX87(); return;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: opLoop(); return;
    case 0xe4: case 0xe5: case 0xec: case 0xed: opIn(); return;
    case 0xe6: case 0xe7: case 0xee: case 0xef: opOut(); return;
    case 0xe8: opCallRel(); return;
    case 0xe9: case 0xeb: opJmpRel(); return;
    case 0xf4: opHlt(); return;
    case 0xf5: case 0xf8: case 0xf9: case 0xfc: case 0xfd: opFlagOp(); return;
    case 0xf6: case 0xf7: opGrp3(); return;
    case 0xfa: case 0xfb: opCliSti(); return;
    case 0xfe: opGrp4(); return;
    case 0xff: opGrp5(); return;
    case 0x100: opGrp6(); return;
    case 0x101: opGrp7(); return;
    case 0x102: case 0x103: opLarLsl(); return;
    case 0x106: opClts(); return;
    case 0x108: case 0x109: opInvd(); return;
    case 0x10b: opUd2(); return;
    case 0x120: case 0x122: opMovCr(); return;
    case 0x121: case 0x123: opMovDr(); return;
    case 0x130: opWrmsr(); return;
    case 0x131: opRdtsc(); return;
    case 0x132: opRdmsr(); return;
    case 0x133: opRdpmc(); return;
    case 0x134: case 0x135: opSysenter(); return;
    case 0x140: case 0x141: case 0x142: case 0x143: case 0x144: case 0x145: case 0x146: case 0x147: case 0x148:
    case 0x149: case 0x14a: case 0x14b: case 0x14c: case 0x14d: case 0x14e: case 0x14f: opCmov(); return;
    case 0x190: case 0x191: case 0x192: case 0x193: case 0x194: case 0x195: case 0x196: case 0x197: case 0x198:
    case 0x199: case 0x19a: case 0x19b: case 0x19c: case 0x19d: case 0x19e: case 0x19f: opSetcc(); return;
    case 0x1a2: opCpuid(); return;
    case 0x1a3: case 0x1ab: case 0x1b3: case 0x1bb: opBtReg(); return;
    case 0x1a4: case 0x1a5: case 0x1ac: case 0x1ad: opShld(); return;
    case 0x1b0: case 0x1b1: opCmpxchg(); return;
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: opMovx(); return;
    case 0x1ba: opGrp8(); return;
    case 0x1bc: case 0x1bd: opBsfBsr(); return;
    case 0x1c0: case 0x1c1: opXadd(); return;
    case 0x1c7: opGrp9(); return;
    case 0x1c8: case 0x1c9: case 0x1ca: case 0x1cb: case 0x1cc: case 0x1cd: case 0x1ce: case 0x1cf: opBswap(); return;
    default: unchecked(handlers[op])(); return;
  }
}
