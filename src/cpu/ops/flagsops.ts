// Flag manipulation: CLC STC CMC CLD STD CLI STI, LAHF SAHF, PUSHF POPF (SDM 3.4.3 and the reference pages:
// which bits POPF may change depends on the mode, CPL and IOPL).
import { CPU_SHADOW } from "../../layout/memory";
import { dOp, dOsz } from "../decode";
import { faulted, raiseGP } from "../exceptions";
import { getFlags, setFlags, sysFlag, flag, CF, PF, AF, ZF, SF, IF, DF, TF, OF, IOPL, NT, AC, ID, RF, VM, VIF, VIP } from "../flags";
import { cpu, cpl, reg8, setReg8 } from "../state";
import { push, pop } from "../operand";
import { protMode, vm86 } from "../segments";

@inline function iopl(): u32 { return (getFlags() & IOPL) >> 12; }

/** F5 CMC, F8 CLC, F9 STC, FC CLD, FD STD. */
export function opFlagOp(): void {
  switch (dOp()) {
    case 0xf5: setFlags(flag(CF) ? 0 : CF, CF); break;
    case 0xf8: setFlags(0, CF); break;
    case 0xf9: setFlags(CF, CF); break;
    case 0xfc: setFlags(0, DF); break;
    default: setFlags(DF, DF); break;
  }
}

/** FA CLI, FB STI: IOPL-sensitive in protected and virtual-8086 mode (VME/PVI not advertised). */
export function opCliSti(): void {
  if ((protMode() && cpl() > iopl()) || (vm86() && iopl() < 3)) { raiseGP(0); return; }
  if (dOp() == 0xfa) { setFlags(0, IF); return; }
  // STI: interrupts stay inhibited until after the next instruction, unless IF was already set (SDM STI).
  if (!sysFlag(IF)) store<u32>(cpu + CPU_SHADOW, 1);
  setFlags(IF, IF);
}

/** 9F LAHF: AH = SF ZF 0 AF 0 PF 1 CF. */
export function opLahf(): void { setReg8(4, getFlags() & 0xff); }
/** 9E SAHF: SF ZF AF PF CF from AH. */
export function opSahf(): void { setFlags(reg8(4), SF | ZF | AF | PF | CF); }

/** 9C PUSHF/PUSHFD: VM and RF are pushed as 0 (SDM PUSHF). In VM86, IOPL < 3 is #GP. */
export function opPushf(): void {
  if (vm86() && iopl() < 3) { raiseGP(0); return; }
  const f = getFlags() & ~(VM | RF);
  push(dOsz(), dOsz() == 4 ? f : f & 0xffff);
}

/** 9D POPF/POPFD. */
export function opPopf(): void {
  if (vm86() && iopl() < 3) { raiseGP(0); return; }
  const v = pop(dOsz());
  if (faulted) return;
  let mask: u32 = CF | PF | AF | ZF | SF | TF | DF | OF | NT;
  if (dOsz() == 4) mask |= AC | ID;
  if (!protMode() && !vm86()) {
    mask |= IOPL | IF;
  } else if (vm86()) {
    mask |= IF; // IOPL == 3 here; IOPL itself is not changed from VM86
  } else {
    if (cpl() == 0) mask |= IOPL;
    if (cpl() <= iopl()) mask |= IF;
  }
  // VM, RF, VIF and VIP are never changed by POPF (SDM POPF).
  mask &= ~(VM | RF | VIF | VIP);
  setFlags(v, mask);
}
