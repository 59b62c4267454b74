// The code cache: which guest code has been translated, where its wasm function is, how hot untranslated code
// is, and dropping translations whose bytes change.
//
// A map entry (16 bytes); entries are in sets of two, chosen by a hash of the host address of the block's first
// byte (that is, of its physical address), so hot blocks in pages at the same offset do not evict each other:
//   +0  u32 host address of the block's first byte (0: empty)
//   +4  u32 bits 0..7 the CPU mode the block was translated for (MODE_* bits and KEY_USER), bits 8..20 its
//           length in bytes, bit 31 NO_JIT: translation was tried and gave nothing
//   +8  u32 function-table index of the compiled block (0: not compiled yet)
//   +12 u16 executions counted while not compiled (hotness)
//   +14 u16 the generation of its page when the entry was made
// Writing a page that holds code bumps the page's generation (JIT_PAGE_GEN), which makes every entry of that
// page stale at once, without a sweep.
//
// Blocks execute from their own copies of the decoded records (JIT_RECS), never from the decoded cache, whose
// direct-mapped slots other code evicts. Everything is dropped at once when the record arena or the host's
// cap on live modules is full.
import {
  JIT_MAP, JIT_MAP_ENTRIES, JIT_PAGE_GEN, JIT_PAGE_GEN_PAGES, RAM_BASE, JIT_STAT_EVICTED, JIT_RECS, JIT_RECS_COUNT, JIT_STATS, JIT_STAT_COMPILED, JIT_STAT_INVALIDATED,
  JIT_STAT_FLUSHES, JIT_PENDING_LIST,
} from "../layout/memory";

export const M_TAG: u32 = 0;
export const M_META: u32 = 4;
export const M_FN: u32 = 8;
export const M_HITS: u32 = 12; // u16
export const M_GEN: u32 = 14; // u16
export const META_KEY_MASK: u32 = 0xff;
export const META_NO_JIT: u32 = 0x8000_0000;

/** Whether run() uses translated code (the host turns it on; --no-jit leaves it off). */
export let jitEnabled: bool = false;
export function setJitEnabled(on: bool): void { jitEnabled = on; }

/** Executions of an untranslated block entry before it is translated. */
export let jitThreshold: u32 = 256;
export function setJitThreshold(n: u32): void { jitThreshold = n > 0 ? n : 1; }

/**
 * Set when a page holding translated code is written: the running block may be stale past the store, so it
 * returns to the run loop at the end of the current instruction. The run loop clears it.
 */
export let codeDirty: bool = false;
export function clearCodeDirty(): void { codeDirty = false; }

@inline function stat(off: u32): usize { return <usize>JIT_STATS + off; }
@inline function bump(off: u32): void { store<u32>(stat(off), load<u32>(stat(off)) + 1); }

/** The generation of the page holding host address `host`. */
@inline export function pageGen(host: usize): u32 {
  return <u32>load<u16>(<usize>JIT_PAGE_GEN + (((host - <usize>RAM_BASE) >>> 12) << 1));
}

/** log2 of the number of two-entry sets (JIT_MAP_ENTRIES / 2). */
const MAP_SET_BITS: u32 = 15;

/** The first entry of the set for host address `host`. */
@inline export function jitSet(host: usize): usize {
  // Fibonacci hashing: the multiply carries every address bit into the high bits the set number is taken from,
  // so neighbouring entry points (a loop head and the instruction after it) land in different sets.
  const set = (<u32>host * 0x9e37_79b1) >>> (32 - MAP_SET_BITS);
  return <usize>JIT_MAP + (<usize>set << 5);
}

/** The live entry for the block at `host` translated (or counted) for `key`, or 0. */
@inline export function jitFind(host: usize, key: u32): usize {
  const set = jitSet(host);
  const gen = pageGen(host);
  if (load<u32>(set + M_TAG) == <u32>host && (load<u32>(set + M_META) & META_KEY_MASK) == key
    && <u32>load<u16>(set + M_GEN) == gen) return set;
  const e = set + 16;
  if (load<u32>(e + M_TAG) == <u32>host && (load<u32>(e + M_META) & META_KEY_MASK) == key
    && <u32>load<u16>(e + M_GEN) == gen) return e;
  return 0;
}

const WORTH_COMPILED: u32 = 0x20000;

/**
 * What keeping entry `e` is worth: 0 if empty or stale, a live compiled block most, and a counter its hits (so
 * two hot entry points that share a set both count up instead of resetting each other's count for ever).
 */
function worth(e: usize): u32 {
  const tag = <usize>load<u32>(e + M_TAG);
  if (tag == 0 || <u32>load<u16>(e + M_GEN) != pageGen(tag)) return 0;
  return load<u32>(e + M_FN) != 0 ? WORTH_COMPILED : 1 + <u32>load<u16>(e + M_HITS);
}

/** Make an entry for the block at `host` (first seen), replacing the less valuable one of its set. */
export function jitClaim(host: usize, key: u32): usize {
  const set = jitSet(host);
  const e1 = set + 16;
  // Between equals, the second way gives way.
  const w1 = worth(e1), w0 = worth(set);
  const e = w1 <= w0 ? e1 : set;
  const w = w1 <= w0 ? w1 : w0;
  if (w == WORTH_COMPILED) bump(JIT_STAT_EVICTED);
  // A counter taking over a counter carries its count on: entry points that keep evicting each other still
  // become hot together, and one of them is translated (with its successors in the page).
  const counter = w != 0 && w != WORTH_COMPILED && (load<u32>(e + M_META) & META_NO_JIT) == 0;
  fill(e, host, key, counter ? w - 1 : 0);
  return e;
}

@inline function fill(e: usize, host: usize, key: u32, hits: u32): void {
  store<u32>(e + M_TAG, <u32>host);
  store<u32>(e + M_META, key);
  store<u32>(e + M_FN, 0);
  store<u16>(e + M_HITS, <u16>hits);
  store<u16>(e + M_GEN, <u16>pageGen(host));
}

/** Make an entry for the block at `host` if its set has an empty or stale one; else 0. */
export function jitClaimFree(host: usize, key: u32): usize {
  const set = jitSet(host);
  const e = worth(set + 16) == 0 ? set + 16 : (worth(set) == 0 ? set : 0);
  if (e != 0) fill(e, host, key, 0);
  return e;
}

/** Physical page at host address `hostPage` is being written: every block that starts in it becomes stale. */
export function jitInvalidatePage(hostPage: usize): void {
  const a = <usize>JIT_PAGE_GEN + (((hostPage - <usize>RAM_BASE) >>> 12) << 1);
  const gen = <u32>load<u16>(a) + 1;
  if (gen > 0xffff) {
    // The generation would wrap and could revive a stale entry: start everything afresh.
    jitFlushAll();
    memory.fill(<usize>JIT_PAGE_GEN, 0, <usize>JIT_PAGE_GEN_PAGES << 1);
    return;
  }
  store<u16>(a, <u16>gen);
  bump(JIT_STAT_INVALIDATED);
  codeDirty = true;
}

// ---- decoded records of translated blocks ----
let recsUsed: u32 = 0;

/** Whether `n` more records fit. */
export function recRoom(n: u32): bool { return recsUsed + n <= <u32>JIT_RECS_COUNT; }

/** Room for `n` records, or 0 when the arena is full (the caller flushes everything). */
export function recAlloc(n: u32): usize {
  if (recsUsed + n > <u32>JIT_RECS_COUNT) return 0;
  const r = <usize>JIT_RECS + (<usize>recsUsed << 5);
  recsUsed += n;
  return r;
}

/** Drop every translation (arena full, host cap reached, reset). Function-table slots become reusable. */
export function jitFlushAll(): void {
  memory.fill(<usize>JIT_MAP, 0, <usize>JIT_MAP_ENTRIES << 4);
  recsUsed = 0;
  clearPending();
  bump(JIT_STAT_FLUSHES);
  codeDirty = true;
}

// The pending list: the map slot of each function of the module in JIT_OUT (0: not to be installed), which
// the host installs in order after compiling it.
@inline function pendingBase(): usize { return <usize>JIT_STATS + JIT_PENDING_LIST; }
export function clearPending(): void { store<u32>(pendingBase(), 0); }
export function pendingCount(): u32 {
  // Functions to install (the list also holds zeros for untranslatable entries).
  const n = load<u32>(pendingBase());
  let k: u32 = 0;
  for (let i: u32 = 0; i < n; i++) if (load<u32>(pendingBase() + 4 + (i << 2)) != 0) k++;
  return k;
}
export function addPending(slot: u32): void {
  const n = load<u32>(pendingBase());
  store<u32>(pendingBase() + 4 + (n << 2), slot);
  store<u32>(pendingBase(), n + 1);
  if (slot != 0) bump(JIT_STAT_COMPILED);
}

/** The host compiled function `i` of the pending module into function-table index `fn` (0: it failed). */
export function jitInstall(i: u32, fn: u32): void {
  if (i >= load<u32>(pendingBase())) return;
  const slot = <usize>load<u32>(pendingBase() + 4 + (i << 2));
  if (slot == 0 || load<u32>(slot + M_TAG) == 0) return;
  if (fn == 0) { store<u32>(slot + M_META, load<u32>(slot + M_META) | META_NO_JIT); return; }
  store<u32>(slot + M_FN, fn);
}
