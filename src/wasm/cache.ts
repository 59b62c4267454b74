// The code cache: which guest code has been translated, where its wasm function is, how hot untranslated code
// is, and dropping translations whose bytes change.
//
// A map entry (16 bytes), direct-mapped by the host address of the block's first byte like the decoded cache
// (so one 4 KiB page's blocks live in 4096 consecutive slots and a page is invalidated in one sweep):
//   +0  u32 host address of the block's first byte (0: empty)
//   +4  u32 bits 0..7 the CPU mode the block was translated for (MODE_* bits), bits 8..20 its length in bytes,
//           bit 31 NO_JIT: translation was tried and gave nothing (first instruction not translatable)
//   +8  u32 function-table index of the compiled block (0: not compiled yet)
//   +12 u32 executions counted while not compiled (hotness)
//
// Blocks execute from their own copies of the decoded records (JIT_RECS), never from the decoded cache, whose
// direct-mapped slots other code evicts. Everything is dropped at once when the record arena or the host's
// cap on live modules is full.
import {
  JIT_MAP, JIT_MAP_ENTRIES, JIT_RECS, JIT_RECS_COUNT, JIT_STATS, JIT_STAT_COMPILED, JIT_STAT_INVALIDATED,
  JIT_STAT_FLUSHES, JIT_STAT_PENDING,
} from "../layout/memory";

export const M_TAG: u32 = 0;
export const M_META: u32 = 4;
export const M_FN: u32 = 8;
export const M_HITS: u32 = 12;
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

@inline export function jitSlot(host: usize): usize {
  return <usize>JIT_MAP + ((host & <usize>(JIT_MAP_ENTRIES - 1)) << 4);
}

@inline function stat(off: u32): usize { return <usize>JIT_STATS + off; }
@inline function bump(off: u32): void { store<u32>(stat(off), load<u32>(stat(off)) + 1); }

/** Physical page at host address `hostPage` is being written: drop every block that starts in it. */
export function jitInvalidatePage(hostPage: usize): void {
  const first = jitSlot(hostPage);
  let dropped = false;
  for (let i: usize = 0; i < 4096; i++) {
    const slot = first + (i << 4);
    if (<usize>load<u32>(slot + M_TAG) - hostPage < 4096) {
      if (load<u32>(slot + M_FN) != 0) { bump(JIT_STAT_INVALIDATED); dropped = true; }
      store<u32>(slot + M_TAG, 0);
      store<u32>(slot + M_FN, 0);
    }
  }
  if (dropped) codeDirty = true;
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
  store<u32>(stat(JIT_STAT_PENDING), 0);
  bump(JIT_STAT_FLUSHES);
  codeDirty = true;
}

/** Remember the slot whose module is in JIT_OUT until the host installs it. */
export function setPending(slot: usize): void {
  store<u32>(stat(JIT_STAT_PENDING), <u32>slot);
  bump(JIT_STAT_COMPILED);
}

/** The host compiled JIT_OUT into function-table index `fn` (0: it failed; the block stays interpreted). */
export function jitInstall(fn: u32): void {
  const slot = <usize>load<u32>(stat(JIT_STAT_PENDING));
  store<u32>(stat(JIT_STAT_PENDING), 0);
  if (slot == 0 || load<u32>(slot + M_TAG) == 0) return; // invalidated meanwhile (cannot happen today)
  if (fn == 0) { store<u32>(slot + M_META, load<u32>(slot + M_META) | META_NO_JIT); return; }
  store<u32>(slot + M_FN, fn);
}
