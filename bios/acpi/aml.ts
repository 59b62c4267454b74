// An AML encoder (ACPI 6.5 20, "ACPI Machine Language (AML) Specification"): every function returns the bytes
// of one term, and terms nest by concatenation, as in ASL. Only what the DSDT of this machine needs is here.
import { FirmwareConfigError } from '../errors';

export type Aml = number[];

// 20.2.3 "Data Objects Encoding" and 20.2.5 "Term Objects Encoding": the opcodes used below.
const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const NAME_OP = 0x08;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const STRING_PREFIX = 0x0d;
const QWORD_PREFIX = 0x0e;
const SCOPE_OP = 0x10;
const BUFFER_OP = 0x11;
const PACKAGE_OP = 0x12;
const METHOD_OP = 0x14;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
const EXT_OP_PREFIX = 0x5b;
const DEVICE_OP = 0x82; // after EXT_OP_PREFIX
const ROOT_CHAR = 0x5c; // '\'
const PARENT_PREFIX_CHAR = 0x5e; // '^'
const ARG0_OP = 0x68;
const STORE_OP = 0x70;
const LEQUAL_OP = 0x93;
const IF_OP = 0xa0;
const ELSE_OP = 0xa1;
const RETURN_OP = 0xa4;
const ONES_OP = 0xff;
const NULL_NAME = 0x00;

/** The largest PkgLength: 28 bits (20.2.4 "Package Length Encoding"). */
const PKG_LENGTH_MAX = (1 << 28) - 1;

/**
 * 20.2.4: PkgLength counts itself and what follows. One byte holds 0..63 in bits 5..0; otherwise bits 7..6 of
 * the lead byte give the count of following bytes (1-3), bits 3..0 the low nibble, and each following byte the
 * next 8 bits:   lead = count << 6 | len & 0xF,  then len >> 4, len >> 12, len >> 20.
 */
export function pkgLength(contentBytes: number): Aml {
  if (contentBytes + 1 <= 0x3f) return [contentBytes + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = contentBytes + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new FirmwareConfigError(`AML object of ${contentBytes} bytes exceeds the PkgLength limit ${PKG_LENGTH_MAX}`);
}

function withPkgLength(content: Aml): Aml { return [...pkgLength(content.length), ...content]; }

/** 20.2.2 NameSeg: a lead character A-Z or _, then up to three of A-Z, 0-9, _; padded with _ to four. */
export function nameSeg(seg: string): Aml {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new FirmwareConfigError(`"${seg}" is not an ACPI name segment`);
  return [...seg.padEnd(4, '_')].map((c) => c.charCodeAt(0));
}

/**
 * 20.2.2 NameString: an optional root ('\') or parent ('^'...) prefix, then a NamePath: NullName for no
 * segments, one NameSeg, DualNamePrefix and two, or MultiNamePrefix, a count and three or more.
 */
export function nameString(path: string): Aml {
  const out: Aml = [];
  let rest = path;
  if (rest.startsWith('\\')) { out.push(ROOT_CHAR); rest = rest.slice(1); }
  while (rest.startsWith('^')) { out.push(PARENT_PREFIX_CHAR); rest = rest.slice(1); }
  const segs = rest === '' ? [] : rest.split('.');
  if (segs.length === 0) out.push(NULL_NAME);
  else if (segs.length === 2) out.push(DUAL_NAME_PREFIX);
  else if (segs.length > 2) out.push(MULTI_NAME_PREFIX, segs.length);
  for (const s of segs) out.push(...nameSeg(s));
  return out;
}

/** 20.2.3 ComputationalData: Zero and One as opcodes, otherwise the smallest prefixed constant that holds it. */
export function integer(value: number | bigint): Aml {
  const v = BigInt(value);
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new FirmwareConfigError(`${value} is not a 64-bit AML integer`);
  if (v === 0n) return [ZERO_OP];
  if (v === 1n) return [ONE_OP];
  const bytes = v <= 0xffn ? 1 : v <= 0xffffn ? 2 : v <= 0xffff_ffffn ? 4 : 8;
  const prefix = { 1: BYTE_PREFIX, 2: WORD_PREFIX, 4: DWORD_PREFIX, 8: QWORD_PREFIX }[bytes]!;
  const out = [prefix];
  for (let i = 0; i < bytes; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** The integer with all bits set (OnesOp): 0xFFFFFFFFFFFFFFFF in a revision-2 definition block. */
export function ones(): Aml { return [ONES_OP]; }

/** 20.2.3 String: StringPrefix, ASCII characters 0x01-0x7F, NUL. */
export function string(text: string): Aml {
  const chars = [...text].map((c) => c.charCodeAt(0));
  if (chars.some((c) => c < 0x01 || c > 0x7f)) throw new FirmwareConfigError(`AML strings are ASCII: "${text}"`);
  return [STRING_PREFIX, ...chars, 0x00];
}

/**
 * The compressed EISA ID of "PNP0A03" (ASL EISAID(), ACPI 6.5 19.6.35): three letters of five bits each
 * ('A' = 1) and four hex digits, stored big-endian in a 32-bit integer.
 */
export function eisaIdValue(id: string): number {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new FirmwareConfigError(`"${id}" is not an EISA ID (three letters, four hex digits)`);
  const letters = [0, 1, 2].map((i) => id.charCodeAt(i) - 0x40);
  const product = parseInt(id.slice(3), 16);
  const b0 = (letters[0]! << 2) | (letters[1]! >> 3);
  const b1 = ((letters[1]! & 0b111) << 5) | letters[2]!;
  return (b0 | (b1 << 8) | ((product >> 8) << 16) | ((product & 0xff) << 24)) >>> 0;
}

export function eisaId(id: string): Aml { return integer(eisaIdValue(id)); }

/** DefName := NameOp NameString DataRefObject */
export function name(path: string, value: Aml): Aml { return [NAME_OP, ...nameString(path), ...value]; }

/** DefScope := ScopeOp PkgLength NameString TermList */
export function scope(path: string, ...terms: Aml[]): Aml {
  return [SCOPE_OP, ...withPkgLength([...nameString(path), ...terms.flat()])];
}

/** DefDevice := DeviceOp PkgLength NameString TermList (DeviceOp = ExtOpPrefix 0x82) */
export function device(path: string, ...terms: Aml[]): Aml {
  return [EXT_OP_PREFIX, DEVICE_OP, ...withPkgLength([...nameString(path), ...terms.flat()])];
}

/**
 * DefMethod := MethodOp PkgLength NameString MethodFlags TermList, where
 * MethodFlags bits 2..0 ArgCount, bit 3 SerializeFlag, bits 7..4 SyncLevel.
 */
export function method(path: string, argCount: number, serialized: boolean, ...terms: Aml[]): Aml {
  if (argCount < 0 || argCount > 7) throw new FirmwareConfigError(`a method takes 0-7 arguments, not ${argCount}`);
  const flags = argCount | (serialized ? 0b1000 : 0);
  return [METHOD_OP, ...withPkgLength([...nameString(path), flags, ...terms.flat()])];
}

/** DefPackage := PackageOp PkgLength NumElements PackageElementList (at most 255 elements). */
export function pkg(...elements: Aml[]): Aml {
  if (elements.length > 0xff) throw new FirmwareConfigError(`a Package holds at most 255 elements, not ${elements.length}`);
  return [PACKAGE_OP, ...withPkgLength([elements.length, ...elements.flat()])];
}

/** DefBuffer := BufferOp PkgLength BufferSize ByteList */
export function buffer(bytes: readonly number[]): Aml {
  return [BUFFER_OP, ...withPkgLength([...integer(bytes.length), ...bytes])];
}

/** A reference to a named object (a NameString used as a term or package element). */
export function ref(path: string): Aml { return nameString(path); }

export function arg(n: number): Aml { return [ARG0_OP + n]; }

/** DefReturn := ReturnOp ArgObject */
export function ret(value: Aml): Aml { return [RETURN_OP, ...value]; }

/** DefStore := StoreOp TermArg SuperName */
export function store(source: Aml, target: Aml): Aml { return [STORE_OP, ...source, ...target]; }

/** DefLEqual := LEqualOp Operand Operand */
export function lEqual(a: Aml, b: Aml): Aml { return [LEQUAL_OP, ...a, ...b]; }

/** DefIfElse := IfOp PkgLength Predicate TermList DefElse */
export function ifThen(predicate: Aml, ...terms: Aml[]): Aml {
  return [IF_OP, ...withPkgLength([...predicate, ...terms.flat()])];
}

/** DefElse := ElseOp PkgLength TermList (it must directly follow its If). */
export function orElse(...terms: Aml[]): Aml {
  return [ELSE_OP, ...withPkgLength(terms.flat())];
}
