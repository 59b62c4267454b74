// The write journal of JIT check mode (src/wasm/check.ts): the old value of every guest-memory store while a
// checked call runs, so that its writes can be undone; and a count of the calls to the host that a second run
// would repeat. No imports: the core's memory paths use it, and it must not pull the core in before them.

/** Translated code is checked (set before anything is translated: check mode journals inline stores). */
export let checkMode: bool = false;
/** Check one block per call: translated code does not chain to another block (finds the block at fault). */
export let checkBlocks: bool = false;
export function setJitCheck(level: u32): void { checkMode = level != 0; checkBlocks = level == 2; }

/** Calls the core made to the host that a second run would repeat (I/O, MMIO, time). */
export let hostEffects: u32 = 0;
@inline export function hostEffect(): void { hostEffects++; }

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

