// The write journal of JIT check mode (src/wasm/check.ts): the old value of every guest-memory store while a
// checked call runs, so that its writes can be undone; and a log of its calls to the host, so that the
// interpreter's run gets the same answers without the devices seeing the accesses twice. No imports: the
// core's memory paths use it, and it must not pull the core in before them.

/** Translated code is checked (set before anything is translated: check mode journals inline stores). */
export let checkMode: bool = false;
/** Check one block per call: translated code does not chain to another block (finds the block at fault). */
export let checkBlocks: bool = false;
export function setJitCheck(level: u32): void { checkMode = level != 0; checkBlocks = level == 2; }

// ---- calls to the host (I/O, MMIO, the clock): recorded while translated code runs, replayed to the interpreter ----
// The device sees each access once (the translated run's); the interpreter gets the values read back, in
// order, and must make the same calls with the same arguments.
export const HE_OFF: u32 = 0, HE_RECORD: u32 = 1, HE_REPLAY: u32 = 2;
export const HE_IOR: u8 = 1, HE_IOW: u8 = 2, HE_MMIOR: u8 = 3, HE_MMIOW: u8 = 4, HE_NOW: u8 = 5;
export let heMode: u32 = HE_OFF;
const HE_MAX: u32 = 1024;
const heKind = new StaticArray<u8>(<i32>HE_MAX);
const heAddr = new StaticArray<u32>(<i32>HE_MAX);
const heSize = new StaticArray<u32>(<i32>HE_MAX);
const heValue = new StaticArray<f64>(<i32>HE_MAX);
let heN: u32 = 0;
let heAt: u32 = 0;
let heOverflow: bool = false;
let heMismatch: bool = false;
/** Record from here on (a fresh log). */
export function heRecord(): void { heMode = HE_RECORD; heN = 0; heOverflow = false; }
/** Replay the log from its start. */
export function heReplay(): void { heMode = HE_REPLAY; heAt = 0; heMismatch = false; }
export function heStop(): void { heMode = HE_OFF; }
export function heCount(): u32 { return heN; }
/** More calls than the log holds were made: the call cannot be replayed. */
export function heOverflowed(): bool { return heOverflow; }
/** The replay made other calls (kind, address, size, value written) than the recording, or fewer or more. */
export function heDiffered(): bool { return heMismatch || heAt != heN; }
export function heLog(kind: u8, addr: u32, size: u32, value: f64): void {
  if (heN >= HE_MAX) { heOverflow = true; return; }
  unchecked(heKind[heN] = kind);
  unchecked(heAddr[heN] = addr);
  unchecked(heSize[heN] = size);
  unchecked(heValue[heN] = value);
  heN++;
}
/** The next recorded call, which must be this one (`value`: what a write writes); returns what a read read. */
export function heNext(kind: u8, addr: u32, size: u32, value: f64): f64 {
  if (heAt >= heN) { heMismatch = true; return 0; }
  const i = heAt++;
  const write = kind == HE_IOW || kind == HE_MMIOW;
  if (unchecked(heKind[i]) != kind || unchecked(heAddr[i]) != addr || unchecked(heSize[i]) != size
    || (write && unchecked(heValue[i]) != value)) heMismatch = true;
  return unchecked(heValue[i]);
}

// ---- the write journal ----
export const J_MAX: u32 = 8192;
export const jAddr = new StaticArray<u32>(<i32>J_MAX);
export const jSize = new StaticArray<u8>(<i32>J_MAX);
export const jOld = new StaticArray<u32>(<i32>J_MAX);
export const jNew = new StaticArray<u32>(<i32>J_MAX);
let journalOn: bool = false;
let jn: u32 = 0;
let jOverflow: bool = false;
export function journalStart(): void { jn = 0; jOverflow = false; journalOn = true; }
/** Journal further writes after the ones recorded so far. */
export function journalResume(): void { journalOn = true; }
export function journalStop(): void { journalOn = false; }
export function journalCount(): u32 { return jn; }
export function journalOverflowed(): bool { return jOverflow; }

@inline export function loadSz(h: usize, size: u32): u32 {
  return size == 4 ? load<u32>(h) : size == 2 ? <u32>load<u16>(h) : <u32>load<u8>(h);
}
@inline export function storeSz(h: usize, size: u32, v: u32): void {
  if (size == 4) store<u32>(h, v); else if (size == 2) store<u16>(h, <u16>v); else store<u8>(h, <u8>v);
}

/** Guest memory at host address `h` is about to be written (`size` bytes): journal its old value. */
@inline export function journal(h: usize, size: u32): void { if (journalOn) journalSlow(h, size); }
function journalSlow(h: usize, size: u32): void {
  if (jn >= J_MAX) { jOverflow = true; return; }
  unchecked(jAddr[jn] = <u32>h);
  unchecked(jSize[jn] = <u8>size);
  unchecked(jOld[jn] = loadSz(h, size & 7));
  jn++;
}
/** Core state outside guest memory (the TLB) is about to change: journaled to be undone, not compared. */
@inline export function journalState(h: usize): void { if (journalOn) journalSlow(h, JOURNAL_STATE | 4); }
export const JOURNAL_STATE: u32 = 0x80;
/** A change the journal cannot undo (a TLB flush): the call is not repeated. */
@inline export function journalFail(): void { if (journalOn) jOverflow = true; }

/** The journal hook of generated code (an inline store's host address and size). */
export function jitJournal(h: u32, size: u32): void { journal(<usize>h, size); }

