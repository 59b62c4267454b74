// A reader for MOO v1.1, the SingleStepTests container format (see shared/conformance/README.md): a flat
// sequence of chunks, each a 4-byte ASCII type, a u32 little-endian payload length and the payload. TEST,
// INIT and FINA nest further chunks. Unknown chunk types are skipped by their length, so newer files with
// extra chunks (GMET, CYCL, QUEU, EA32, ...) still read. Pure parsing over bytes: the caller decompresses.

/** The 286 `REGS` bit order: bit i of the mask selects the i-th name. */
export const REGS16_ORDER = ['ax', 'bx', 'cx', 'dx', 'cs', 'ss', 'ds', 'es', 'sp', 'bp', 'si', 'di', 'ip', 'flags'] as const;
/** The 386 `RG32` bit order. Segment registers use the low 16 bits of their slot. */
export const REGS32_ORDER = [
  'cr0', 'cr3', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp',
  'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'eip', 'eflags', 'dr6', 'dr7',
] as const;

export type Reg16Name = (typeof REGS16_ORDER)[number];
export type Reg32Name = (typeof REGS32_ORDER)[number];
export type MooRegName = Reg16Name | Reg32Name;

/** A register file as listed in a chunk: only the registers whose mask bit was set. */
export type MooRegs = Partial<Record<MooRegName, number>>;

/** One register-bearing chunk: which layout it used and the listed values. */
export interface MooRegBlock {
  /** 16 for `REGS`/`RMSK`, 32 for `RG32`/`RM32`. */
  width: 16 | 32;
  regs: MooRegs;
}

export interface MooState {
  /** `REGS` or `RG32`; absent when the chunk was missing (a FINA where nothing changed). */
  regs?: MooRegBlock;
  /** `RMSK` / `RM32` inside FINA: per-test masks ANDed into both the expected and the actual value. */
  mask?: MooRegBlock;
  /** `RAM ` entries: [physical address, byte]. */
  ram: Array<[number, number]>;
}

export interface MooException {
  vector: number;
  /** Physical address of the FLAGS image the CPU pushed. */
  flagsAddress: number;
}

export interface MooTest {
  index: number;
  name: string;
  bytes: Uint8Array;
  init: MooState;
  final: MooState;
  exception?: MooException;
  /** SHA-1 of the test as 40 lowercase hex digits (what revocation_list.txt lists). */
  hash?: string;
}

export interface MooMeta {
  collectionVersion: number;
  cpuType: number;
  /** 0xFFFFFFFF when the file mixes opcodes. */
  opcode: number;
  mnemonic: string;
  testCount: number;
  seed: bigint;
  /** 0 = real mode. */
  cpuMode: number;
}

export interface MooFile {
  major: number;
  minor: number;
  /** The test count the header claims (the tests array holds what was actually present). */
  headerTestCount: number;
  /** CPU id, e.g. `C286`, `386E` (trailing spaces kept off). */
  cpu: string;
  meta?: MooMeta;
  /** A top-level `RMSK` / `RM32`: masks for every test in the file. */
  mask?: MooRegBlock;
  tests: MooTest[];
}

/** Malformed input: names the chunk and byte offset so a bad file can be found with a hex dump. */
export class MooFormatError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`MOO: ${message} at byte ${offset}`);
    this.name = 'MooFormatError';
  }
}

const LATIN1 = new TextDecoder('latin1');

/** A bounds-checked little-endian cursor over [start, end) of a buffer. */
class Cursor {
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get remaining(): number { return this.end - this.pos; }
  private need(n: number, what: string): void {
    if (n > this.remaining) throw new MooFormatError(`${what} needs ${n} bytes, ${this.remaining} left`, this.pos);
  }
  u8(what: string): number { this.need(1, what); return this.view.getUint8(this.pos++); }
  u16(what: string): number { this.need(2, what); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(what: string): bigint { this.need(8, what); const v = this.view.getBigUint64(this.pos, true); this.pos += 8; return v; }
  bytes(n: number, what: string): Uint8Array { this.need(n, what); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  ascii(n: number, what: string): string { return LATIN1.decode(this.bytes(n, what)); }
}

interface Chunk {
  type: string;
  /** A cursor over exactly the payload. */
  body: Cursor;
}

/** The chunks in [cur.pos, cur.end), in order; the cursor ends at cur.end. */
function* chunks(cur: Cursor): Generator<Chunk> {
  while (cur.remaining > 0) {
    const at = cur.pos;
    if (cur.remaining < 8) throw new MooFormatError(`truncated chunk header (${cur.remaining} bytes)`, at);
    const type = cur.ascii(4, 'chunk type');
    const len = cur.u32('chunk length');
    if (len > cur.remaining) throw new MooFormatError(`chunk '${type}' claims ${len} bytes, ${cur.remaining} left`, at);
    const body = new Cursor(cur.buf, cur.pos, cur.pos + len);
    cur.pos += len;
    yield { type, body };
  }
}

function readRegBlock(c: Cursor, width: 16 | 32): MooRegBlock {
  const order: readonly MooRegName[] = width === 16 ? REGS16_ORDER : REGS32_ORDER;
  const bitmap = width === 16 ? c.u16('register bitmap') : c.u32('register bitmap');
  const regs: MooRegs = {};
  for (let i = 0; i < order.length; i++) {
    if (bitmap & (1 << i)) regs[order[i]!] = width === 16 ? c.u16(order[i]!) : c.u32(order[i]!);
  }
  // Bits past the known names would each be followed by a value we cannot name; refuse rather than misread.
  if ((bitmap >>> order.length) !== 0) throw new MooFormatError(`register bitmap 0x${bitmap.toString(16)} has unknown bits`, c.pos);
  return { width, regs };
}

function readState(c: Cursor): MooState {
  const state: MooState = { ram: [] };
  for (const ch of chunks(c)) {
    switch (ch.type) {
      case 'REGS': state.regs = readRegBlock(ch.body, 16); break;
      case 'RG32': state.regs = readRegBlock(ch.body, 32); break;
      case 'RMSK': state.mask = readRegBlock(ch.body, 16); break;
      case 'RM32': state.mask = readRegBlock(ch.body, 32); break;
      case 'RAM ': {
        const n = ch.body.u32('RAM count');
        if (n * 5 > ch.body.remaining) throw new MooFormatError(`RAM claims ${n} entries`, ch.body.pos);
        for (let i = 0; i < n; i++) state.ram.push([ch.body.u32('RAM address'), ch.body.u8('RAM value')]);
        break;
      }
      default: break; // QUEU, EA32 and anything newer: not needed by an instruction-level runner
    }
  }
  return state;
}

function readTest(c: Cursor): MooTest {
  const test: MooTest = { index: c.u32('TEST index'), name: '', bytes: new Uint8Array(0), init: { ram: [] }, final: { ram: [] } };
  for (const ch of chunks(c)) {
    const b = ch.body;
    switch (ch.type) {
      case 'NAME': test.name = b.ascii(b.u32('NAME length'), 'NAME'); break;
      case 'BYTS': test.bytes = b.bytes(b.u32('BYTS length'), 'BYTS').slice(); break;
      case 'INIT': test.init = readState(b); break;
      case 'FINA': test.final = readState(b); break;
      case 'EXCP': test.exception = { vector: b.u8('EXCP vector'), flagsAddress: b.u32('EXCP flags address') }; break;
      case 'HASH': test.hash = Array.from(b.bytes(20, 'HASH'), (x) => x.toString(16).padStart(2, '0')).join(''); break;
      default: break; // CYCL, GMET, ...
    }
  }
  return test;
}

function readMeta(c: Cursor): MooMeta {
  return {
    collectionVersion: c.u16('META version'),
    cpuType: c.u8('META cpu type'),
    opcode: c.u32('META opcode'),
    mnemonic: c.ascii(8, 'META mnemonic').trimEnd(),
    testCount: c.u32('META test count'),
    seed: c.u64('META seed'),
    cpuMode: c.u8('META cpu mode'),
  };
}

/** True if `data` starts like a gzip stream (the caller then inflates it before parsing). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** Parse a whole (decompressed) MOO file. Throws MooFormatError on malformed input. */
export function parseMoo(data: Uint8Array): MooFile {
  const cur = new Cursor(data, 0, data.length);
  const file: MooFile = { major: 0, minor: 0, headerTestCount: 0, cpu: '', tests: [] };
  let sawHeader = false;
  for (const ch of chunks(cur)) {
    const b = ch.body;
    if (!sawHeader && ch.type !== 'MOO ') throw new MooFormatError(`expected a 'MOO ' header chunk, found '${ch.type}'`, 0);
    switch (ch.type) {
      case 'MOO ':
        file.major = b.u8('major version');
        file.minor = b.u8('minor version');
        b.u16('reserved');
        file.headerTestCount = b.u32('test count');
        file.cpu = b.ascii(4, 'CPU id').trimEnd();
        sawHeader = true;
        break;
      case 'META': file.meta = readMeta(b); break;
      case 'RMSK': file.mask = readRegBlock(b, 16); break;
      case 'RM32': file.mask = readRegBlock(b, 32); break;
      case 'TEST': file.tests.push(readTest(b)); break;
      default: break;
    }
  }
  if (!sawHeader) throw new MooFormatError('empty file (no header chunk)', 0);
  return file;
}
