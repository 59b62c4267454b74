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

@inline export function dispatch(op: u32): void { unchecked(handlers[op & 511])(); }

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
