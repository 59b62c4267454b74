// Per-opcode decode information, indexed like dOp (0x000-0x0FF one-byte map, 0x100-0x1FF 0F map).
//
//  15        8 7   6   5   4 3   1   0
// +-----------+---+---+---+---+------+---+
// |  reserved |REG|END|LCK|IMP| imm  |MRM|
// +-----------+---+---+---+---+------+---+
//   MRM  a ModRM byte follows          imm  IMM_* immediate kind
//   IMP  the opcode is implemented (otherwise #UD)
//   LCK  LOCK is allowed (with a memory destination)
//   END  the instruction may change EIP other than by falling through (ends a translated block)
//   REG  the ModRM byte always names registers, whatever its mod field says (MOV to/from CRn and DRn)
export const INFO_MODRM: u16 = 0b0000_0001;
export const INFO_IMM_MASK: u16 = 0b0000_1110;
export const IMM_IB: u16 = 1 << 1;
export const IMM_IW: u16 = 2 << 1;
export const IMM_IZ: u16 = 3 << 1; // 16 or 32 bits by operand size
export const IMM_AP: u16 = 4 << 1; // far pointer: offset (iz) then selector (iw)
export const IMM_IW_IB: u16 = 5 << 1; // ENTER
export const IMM_MOFFS: u16 = 6 << 1; // 16 or 32 bits by address size
export const IMM_GRP3: u16 = 7 << 1; // F6/F7: ib/iz only for TEST
export const INFO_IMPL: u16 = 0b0001_0000;
export const INFO_LOCK: u16 = 0b0010_0000;
export const INFO_END: u16 = 0b0100_0000;
export const INFO_MODRM_REG: u16 = 0b1000_0000;

const table = new StaticArray<u16>(512);

@inline export function opInfo(op: u32): u16 { return unchecked(table[op & 511]); }
/**
 * Whether the instruction with opcode `op` and ModRM reg field `reg` ends a translated block: INFO_END, except
 * FF /0 /1 /6 (INC, DEC, PUSH r/m), which share their opcode with the indirect and far CALL and JMP.
 */
@inline export function endsBlock(op: u32, reg: u32): bool {
  if ((opInfo(op) & INFO_END) == 0) return false;
  return op != 0xff || (reg != 0 && reg != 1 && reg != 6);
}
export function setOpInfo(op: u32, info: u16): void { table[op] = info | INFO_IMPL; }
