// Seeded random instruction streams over the forms the translator emits natively, mixed with ones it hands to
// the interpreter, for the JIT's differential and check-mode tests.
import { rng } from '../helpers/rng';

const DST32 = ['eax', 'ecx', 'edx', 'ebp'];
const DST16 = ['ax', 'cx', 'dx', 'bp'];
const DST8 = ['al', 'cl', 'dl', 'ah', 'ch', 'dh'];
const BASES = ['ebx', 'esi', 'edi'];
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
export const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** A seeded random program: 40 instructions looped 150 times, then HLT (flat 32-bit code at 0x1000). */
export function randomProgram(seed: number): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const imm = (): string => pick(['0', '1', '-1', '0x7f', '0x80', '0xffff', '0x7fffffff', '0x80000000', String(Math.floor(r() * 2 ** 32) >>> 0)]);
  const m = (size: string): string => {
    const base = pick(BASES);
    const disp = Math.floor(r() * 60) * 4 + (r() < 0.2 ? 1 : 0);
    if (r() < 0.3) return `${size} [${base}+ecx*0+${disp}]`;
    return `${size} [${base}+${disp}]`;
  };
  const lines: string[] = [];
  let label = 0;
  const one = (): void => {
    const k = Math.floor(r() * 37);
    const d32 = pick(DST32), s32 = pick(DST32), d16 = pick(DST16), d8 = pick(DST8), s8 = pick(DST8);
    switch (k) {
      case 0: lines.push(`${pick(ALU)} ${d32}, ${s32}`); break;
      case 1: lines.push(`${pick(ALU)} ${d32}, ${imm()}`); break;
      case 2: lines.push(`${pick(ALU)} ${d32}, ${m('dword')}`); break;
      case 3: lines.push(`${pick(ALU)} ${m('dword')}, ${s32}`); break;
      case 4: lines.push(`${pick(ALU)} ${d8}, ${s8}`); break;
      case 5: lines.push(`${pick(ALU)} ${d16}, ${m('word')}`); break;
      case 6: lines.push(`${pick(ALU)} ${d32}, byte ${Math.floor(r() * 256) - 128}`); break;
      case 7: lines.push(`test ${d32}, ${pick([s32, imm()])}`); break;
      case 8: lines.push(`mov ${d32}, ${pick([s32, imm(), m('dword')])}`); break;
      case 9: {
        const sz = pick(['dword', 'word', 'byte']);
        const src = sz === 'dword' ? pick([s32, imm()]) : sz === 'word' ? pick([d16, '0x1234']) : pick([s8, '0x12']);
        lines.push(`mov ${m(sz)}, ${src}`);
        break;
      }
      case 10: lines.push(`lea ${d32}, [${pick(BASES)}+${pick(DST32)}*${pick(['1', '2', '4', '8'])}+${Math.floor(r() * 1000)}]`); break;
      case 11: lines.push(`${pick(['movzx', 'movsx'])} ${d32}, ${pick([m('byte'), m('word'), s8])}`); break;
      case 12: lines.push(`push ${s32}`, `pop ${d32}`); break;
      case 13: lines.push(`${pick(['inc', 'dec', 'neg', 'not'])} ${pick([d32, d8, m('dword')])}`); break;
      case 14: lines.push(`${pick(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl'])} ${d32}, ${pick(['1', 'cl', String(Math.floor(r() * 32))])}`); break;
      case 15: lines.push(`imul ${d32}, ${s32}`); break;
      case 16: lines.push(`set${pick(CC)} ${d8}`); break;
      case 17: lines.push(`cmov${pick(CC)} ${d32}, ${s32}`); break;
      case 18: {
        const l = `.f${label++}`;
        lines.push(`${pick(['cmp', 'test', 'sub', 'and', 'add'])} ${d32}, ${pick([s32, imm()])}`, `j${pick(CC)} ${l}`, `xor ${pick(DST32)}, ${imm()}`, `${l}:`);
        break;
      }
      case 19: lines.push('call sub'); break;
      case 20: lines.push(`mov ${d16}, ${pick([pick(DST16), m('word')])}`); break;
      case 21: lines.push(`xchg ${d32}, ${s32}`); break;
      case 22: lines.push(`imul ${d32}, ${pick([m('dword'), s32])}, ${pick(['byte 5', 'byte -3', '100000', '-7'])}`); break;
      case 23: lines.push(`push ${m('dword')}`, `pop ${d32}`); break;
      case 24: lines.push(`set${pick(CC)} ${m('byte')}`, `cmov${pick(CC)} ${d32}, ${m('dword')}`); break;
      case 25: lines.push(`${pick(['inc', 'dec'])} ${d16}`, `${pick(['inc', 'dec'])} ${pick([m('word'), m('byte')])}`); break;
      case 26: lines.push(`mov ${d32}, sub`, `call ${d32}`); break;
      case 27: lines.push(`${pick(['shl', 'shr', 'sar', 'rol', 'ror'])} ${m('dword')}, ${pick(['1', String(Math.floor(r() * 32))])}`); break;
      case 28: lines.push(`${pick(ALU)} ${m('byte')}, ${s8}`, `${pick(ALU)} ${m('word')}, ${pick(['byte 3', '0x1234'])}`); break;
      case 29: {
        const [opnd, im] = pick([[d8, '0x81'], [m('byte'), '0x7f'], [d16, '0x8001'], [m('word'), '0xff'], [d32, imm()], [m('dword'), imm()]] as const);
        lines.push(`test ${opnd}, ${im}`);
        break;
      }
      case 30: {
        const dst = pick([d8, d16, m('byte'), m('word')]);
        const width = /^(byte|[a-d][lh])/.test(dst) ? 8 : 16;
        lines.push(`${pick(['shl', 'shr', 'sar', 'sal'])} ${dst}, ${pick(['1', String(1 + Math.floor(r() * (width - 1))), String(Math.floor(r() * 32))])}`);
        break;
      }
      case 31: lines.push(`mov eax, [data+${Math.floor(r() * 60) * 4}]`, `mov [data+${Math.floor(r() * 60) * 4 + 2}], ${pick(['eax', 'al', 'ax'])}`, `mov al, [data+${Math.floor(r() * 200)}]`); break;
      case 32: lines.push(`push ${pick(['byte -5', 'byte 0x7f', '0x12345678', 'word 0x1234'])}`, `pop ${pick([d32, d16])}`); break;
      case 33: lines.push(`bswap ${d32}`, `${pick(['not', 'neg'])} ${pick([d16, m('byte'), m('word'), d8])}`); break;
      case 34: lines.push('push ebp', 'mov ebp, esp', `push ${s32}`, `push ${m('dword')}`, 'leave'); break;
      case 35: lines.push(`${pick(['mul', 'imul'])} ${pick([s32, m('dword')])}`); break;
      // A divisor made odd (never 0) and EDX below it (DIV) or EAX sign-extended (IDIV): no #DE.
      case 36: lines.push('or ecx, 1', ...(r() < 0.5 ? ['xor edx, edx', 'div ecx'] : ['cdq', 'idiv ecx'])); break;
      default: throw new Error(`random-program: no form ${k}`);
    }
  };
  for (let i = 0; i < 40; i++) one();
  const body = lines.join('\n  ');
  const init = Array.from({ length: 256 }, () => Math.floor(r() * 256)).join(',');
  return `bits 32
org 0x1000
  mov ebx, data
  lea esi, [ebx+256]
  lea edi, [ebx+512]
  mov esp, 0x9000
  mov dword [count], 150
top:
  ${body}
  dec dword [count]
  jnz top
  hlt
sub:
  add eax, ecx
  ${pick(ALU)} edx, ebp
  ret
align 4096 ; data in a page of its own: stores to a code page drop its translations
count: dd 0
align 16
data: db ${init}
times 1024 db 0x5a
`;
}
