// The code cache: which guest code has been translated, where its wasm function is, how hot untranslated code
// is, and dropping translations whose bytes change.
//
// A map entry (16 bytes); entries are in sets of four, chosen by a hash of the host address of the block's first
// byte (that is, of its physical address), so hot blocks in pages at the same offset do not evict each other:
//   +0  u32 host address of the block's first byte (0: empty)
//   +4  u32 bits 0..7 the CPU mode the block was translated for (MODE_* bits and KEY_USER), bits 8..20 its
//           length in bytes, bits 21..26 its number in its module's group function, bit 30 USED (run
//           lately), bit 31 NO_JIT: translation was tried and gave nothing
//   +8  u32 function-table index of the module's group function (0: not compiled yet)
//   +12 u16 executions counted while not compiled (hotness); once compiled, the block's EIP minus the EIP of
//           the group's first block (the group function's $delta: -4095..4095, as an i16)
//   +14 u16 the generation of its page when the entry was made
// Writing a page that holds code bumps the page's generation (JIT_PAGE_GEN), which makes every entry of that
// page stale at once, without a sweep.
//
// Blocks execute from their own copies of the decoded records (the record arena below), never from the
// decoded cache, whose direct-mapped slots other code evicts. Everything is dropped at once when the record
// arena is full; at the host's cap on live modules, the modules that have not run lately (jitDropCold), or
// everything if too few of them are cold.
import {
  JIT_MAP, JIT_MAP_ENTRIES, JIT_PAGE_GEN, JIT_PAGE_GEN_PAGES, RAM_BASE, JIT_STAT_EVICTED, JIT_STATS, JIT_STAT_COMPILED, JIT_STAT_INVALIDATED,
  JIT_STAT_FLUSHES, JIT_PENDING_LIST, JIT_PENDING_DELTAS,
} from "../layout/memory";

export const M_TAG: u32 = 0;
export const M_META: u32 = 4;
export const M_FN: u32 = 8;
export const M_HITS: u32 = 12; // u16
export const M_GEN: u32 = 14; // u16
export const META_KEY_MASK: u32 = 0xff;
export const META_NO_JIT: u32 = 0x8000_0000;
const META_BLOCK_SHIFT: u32 = 21;
const META_BLOCK_MASK: u32 = 0x3f << META_BLOCK_SHIFT;
/** The compiled block has run since its set last lost a compiled block (see jitClaim). */
const META_USED: u32 = 0x4000_0000;

/** Whether run() uses translated code (the host turns it on; --no-jit leaves it off). */
export let jitEnabled: bool = false;
export function setJitEnabled(on: bool): void { jitEnabled = on; }

/**
 * Executions of an untranslated block entry before it is translated. A boot runs much code a few hundred
 * times: at 256, 3.6 k modules (28 MiB of wasm) were compiled and the host engine's compilers took more CPU
 * than the guest; at 1024, a third of that.
 */
export let jitThreshold: u32 = 1024;
export function setJitThreshold(n: u32): void { jitThreshold = n > 0 ? n : 1; }

/**
 * Set when a page holding translated code is written: the running block may be stale past the store, so it
 * returns to the run loop at the end of the current instruction. The run loop clears it.
 */
export let codeDirty: bool = false;
export function clearCodeDirty(): void { codeDirty = false; }
/**
 * The host changed what guest addresses map to (a device moved a BAR over them) while translated code may be
 * running it (from an MMIO write): it leaves at the end of the instruction, as after a write to its code.
 */
export function leaveTranslatedCode(): void { codeDirty = true; }

@inline function stat(off: u32): usize { return <usize>JIT_STATS + off; }
@inline function bump(off: u32): void { store<u32>(stat(off), load<u32>(stat(off)) + 1); }

/** The generation of the page holding host address `host`. */
@inline export function pageGen(host: usize): u32 {
  return <u32>load<u16>(<usize>JIT_PAGE_GEN + (((host - <usize>RAM_BASE) >>> 12) << 1));
}

// ---- the entry cache ----
// The map is 1 MiB of hashed sets, so each run-loop lookup touched a cache line (and often a host TLB page) of
// its own: perf put a third of blockCall's time on the load of the entry's tag. Lookups go first to this
// direct-mapped 64 KiB cache of copies of the map entries of compiled blocks, filled when the map finds one.
// A copy is valid while its page generation and mode key match, like the entry; it is dropped when its entry
// is evicted (the host may reuse the function's table slot) and with everything on a flush. A copy counts as
// "run lately" when the map chooses which compiled block to evict; the run loop marks the copy USED, which
// jitDropCold reads.
const EC_BITS: u32 = 12;
// (entryCache is allocated below the record arena, whose address the golden tests' code holds.)

/** The entry-cache line for host address `host` (another multiplier than jitSet's: a set's ways spread out). */
@inline function ecLine(host: usize): usize {
  return entryCache + (<usize>((<u32>host * 0x85eb_ca6b) >>> (32 - EC_BITS)) << 4);
}

/** The cached copy of the compiled block at `host` for `key`, or 0. */
@inline export function ecFind(host: usize, key: u32): usize {
  const e = ecLine(host);
  if (load<u32>(e + M_TAG) == <u32>host && (load<u32>(e + M_META) & META_KEY_MASK) == key
    && <u32>load<u16>(e + M_GEN) == pageGen(host)) return e;
  return 0;
}

/** Cache a copy of map entry `slot` (a compiled block). */
@inline export function ecFill(slot: usize): void {
  memory.copy(ecLine(<usize>load<u32>(slot + M_TAG)), slot, 16);
}

function ecHolds(host: usize): bool { return load<u32>(ecLine(host) + M_TAG) == <u32>host; }
function ecDrop(host: usize): void {
  const e = ecLine(host);
  if (load<u32>(e + M_TAG) == <u32>host) store<u32>(e + M_TAG, 0);
}

/** Entries per set, and log2 of the number of sets (JIT_MAP_ENTRIES / MAP_WAYS). */
const MAP_WAYS: u32 = 4;
const MAP_SET_BITS: u32 = 14;

/** The first entry of the set for host address `host`. */
@inline export function jitSet(host: usize): usize {
  // Fibonacci hashing: the multiply carries every address bit into the high bits the set number is taken from,
  // so neighbouring entry points (a loop head and the instruction after it) land in different sets.
  const set = (<u32>host * 0x9e37_79b1) >>> (32 - MAP_SET_BITS);
  return <usize>JIT_MAP + (<usize>set << 6);
}

/** The live entry for the block at `host` translated (or counted) for `key`, or 0. */
@inline export function jitFind(host: usize, key: u32): usize {
  const set = jitSet(host);
  const gen = pageGen(host);
  for (let w: u32 = 0; w < MAP_WAYS; w++) {
    const e = set + (<usize>w << 4);
    if (load<u32>(e + M_TAG) == <u32>host && (load<u32>(e + M_META) & META_KEY_MASK) == key
      && <u32>load<u16>(e + M_GEN) == gen) return e;
  }
  return 0;
}

/** A compiled block is being run: keep it over compiled blocks of its set that have not run lately. */
@inline export function markUsed(e: usize, meta: u32): void {
  if ((meta & META_USED) == 0) store<u32>(e + M_META, meta | META_USED);
}

const WORTH_COMPILED: u32 = 0x20000;

/**
 * What keeping entry `e` is worth: 0 if empty or stale; a counter its hits (so hot entry points that share a
 * set all count up instead of resetting each other's count for ever); a compiled block most, and more if it
 * has run since the set last lost a compiled block.
 */
function worth(e: usize): u32 {
  const tag = <usize>load<u32>(e + M_TAG);
  if (tag == 0 || <u32>load<u16>(e + M_GEN) != pageGen(tag)) return 0;
  const meta = load<u32>(e + M_META);
  if (load<u32>(e + M_FN) != 0) return WORTH_COMPILED + ((meta & META_USED) != 0 || ecHolds(tag) ? 1 : 0);
  return 1 + <u32>load<u16>(e + M_HITS);
}

/** Make an entry for the block at `host` (first seen), replacing the least valuable one of its set. */
export function jitClaim(host: usize, key: u32): usize {
  const set = jitSet(host);
  // Between equals, the later way gives way.
  let e = set, w = worth(set);
  for (let i: u32 = 1; i < MAP_WAYS; i++) {
    const c = set + (<usize>i << 4);
    const cw = worth(c);
    if (cw <= w) { e = c; w = cw; }
  }
  if (w >= WORTH_COMPILED) {
    bump(JIT_STAT_EVICTED);
    ecDrop(<usize>load<u32>(e + M_TAG)); // its function may be reused once the host frees the module
    // Second chance: the others must run again to be kept over the next compiled block to go.
    for (let i: u32 = 0; i < MAP_WAYS; i++) {
      const c = set + (<usize>i << 4);
      store<u32>(c + M_META, load<u32>(c + M_META) & ~META_USED);
    }
  }
  // A counter taking over a counter carries its count on: entry points that keep evicting each other still
  // become hot together, and one of them is translated (with its successors in the page).
  const counter = w != 0 && w < WORTH_COMPILED && (load<u32>(e + M_META) & META_NO_JIT) == 0;
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
  for (let i: u32 = 0; i < MAP_WAYS; i++) {
    const e = set + (<usize>i << 4);
    if (worth(e) == 0) { fill(e, host, key, 0); return e; }
  }
  return 0;
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
/**
 * Records of the instructions translated code hands to the interpreter, 32 bytes each. About one translated
 * instruction in a hundred needs one; a Debian boot makes ~30 k. When the arena is full, every translation
 * is dropped (and recompiled when hot again), so it is sized to last a boot and its workloads.
 */
const RECS_COUNT: u32 = 131072;
// (From the heap at start-up: a static memory.data() would put 4 MiB of zeros in core.wasm.)
const recArena: usize = heap.alloc(<usize>RECS_COUNT << 5);
const entryCache: usize = heap.alloc(<usize>16 << EC_BITS);
memory.fill(entryCache, 0, <usize>16 << EC_BITS);
let recsUsed: u32 = 0;

/** Whether `n` more records fit. */
export function recRoom(n: u32): bool { return recsUsed + n <= RECS_COUNT; }

/** Room for `n` records, or 0 when the arena is full (the caller flushes everything). */
export function recAlloc(n: u32): usize {
  if (recsUsed + n > RECS_COUNT) return 0;
  const r = recArena + (<usize>recsUsed << 5);
  recsUsed += n;
  return r;
}

/** Drop every translation (arena full, host cap reached, reset). Function-table slots become reusable. */
export function jitFlushAll(): void {
  memory.fill(<usize>JIT_MAP, 0, <usize>JIT_MAP_ENTRIES << 4);
  memory.fill(entryCache, 0, <usize>16 << EC_BITS);
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
export function addPending(slot: u32, delta: u32): void {
  const n = load<u32>(pendingBase());
  store<u32>(pendingBase() + 4 + (n << 2), slot);
  store<u32>(<usize>JIT_STATS + JIT_PENDING_DELTAS + (n << 2), delta);
  store<u32>(pendingBase(), n + 1);
  if (slot != 0) bump(JIT_STAT_COMPILED);
}

/**
 * The host compiled the pending module; its group function is at function-table index `fn` (0: it failed).
 * Every block of it becomes an entry of that function.
 */
export function jitInstall(fn: u32): void {
  if (fn != 0 && fn < SLOT_MARKS) store<u32>(slotRetired + (<usize>fn << 2), 0); // a new module in a reused slot
  const n = load<u32>(pendingBase());
  for (let i: u32 = 0; i < n; i++) {
    const slot = <usize>load<u32>(pendingBase() + 4 + (i << 2));
    if (slot == 0 || load<u32>(slot + M_TAG) == 0) continue;
    const meta = load<u32>(slot + M_META);
    if (fn == 0) { store<u32>(slot + M_META, meta | META_NO_JIT); continue; }
    store<u32>(slot + M_META, (meta & ~META_BLOCK_MASK) | (i << META_BLOCK_SHIFT));
    store<u16>(slot + M_HITS, <u16>load<u32>(<usize>JIT_STATS + JIT_PENDING_DELTAS + (i << 2)));
    store<u32>(slot + M_FN, fn);
  }
}

/** Run the compiled block of entry `slot` with a budget of `left` instructions; returns those it retired. */
@inline export function callBlock(slot: usize, cpu: usize, left: u32): u32 {
  const k = (load<u32>(slot + M_META) & META_BLOCK_MASK) >> META_BLOCK_SHIFT;
  const fn = load<u32>(slot + M_FN);
  const n = call_indirect<u32>(fn, cpu, left, k, <u32><i32>load<i16>(slot + M_HITS));
  countRetired(fn, n);
  return n;
}

// ---- dropping cold modules at the host's cap ----
/** Function-table indices the scans below can mark (the host's cap keeps tables far smaller). */
const SLOT_MARKS: u32 = 65536;
const slotMark: usize = heap.alloc(<usize>SLOT_MARKS);

@inline function markSlot(fn: u32): void { if (fn < SLOT_MARKS) store<u8>(slotMark + <usize>fn, 1); }
@inline function slotMarked(fn: u32): bool { return fn >= SLOT_MARKS || load<u8>(slotMark + <usize>fn) != 0; }

// ---- hot modules: the host may give a module that has retired many instructions to the engine's optimizing tier ----
/**
 * Guest instructions a module's blocks retire (counted per function-table slot) before the host is told. Measured
 * on the bench in Node (src/node/v8-tiering.ts), 2 M and 8 M both kept gzip as fast as V8's own tiering (without a
 * mark it ran 10-30% slower); 2 M's boots were the steadier.
 */
let hotModuleInsns: u32 = 1 << 21;
export function setJitHotInsns(n: u32): void { hotModuleInsns = n > 1 ? n : 2; }
const HOT_LIST_LEN: u32 = 64;
const slotRetired: usize = heap.alloc(<usize>SLOT_MARKS << 2);
const hotList: usize = heap.alloc(<usize>HOT_LIST_LEN << 2);
let hotCount: u32 = 0;

@inline function countRetired(fn: u32, n: u32): void {
  if (fn >= SLOT_MARKS) return;
  const p = slotRetired + (<usize>fn << 2);
  const before = load<u32>(p);
  if (before >= hotModuleInsns) return; // told already
  let after = before + n;
  if (after >= hotModuleInsns) {
    if (hotCount < HOT_LIST_LEN) { store<u32>(hotList + (<usize>hotCount << 2), fn); hotCount++; }
    else after = hotModuleInsns - 1; // the list is full: tell the host on a later entry
  }
  store<u32>(p, after);
}

/** The next function-table slot whose module became hot (0: none). The host drains this after each run. */
export function jitHotModule(): u32 {
  if (hotCount == 0) return 0;
  hotCount--;
  return load<u32>(hotList + (<usize>hotCount << 2));
}

/** Mark each module a map entry (`usedOnly`: a valid one that ran lately) or an entry-cache copy reaches. */
function markReferenced(usedOnly: bool): void {
  memory.fill(slotMark, 0, <usize>SLOT_MARKS);
  for (let i: u32 = 0; i < <u32>JIT_MAP_ENTRIES; i++) {
    const e = <usize>JIT_MAP + (<usize>i << 4);
    const tag = <usize>load<u32>(e + M_TAG);
    const fn = load<u32>(e + M_FN);
    if (tag == 0 || fn == 0) continue;
    if (usedOnly && ((load<u32>(e + M_META) & META_USED) == 0 || <u32>load<u16>(e + M_GEN) != pageGen(tag))) continue;
    markSlot(fn);
  }
  for (let i: u32 = 0; i < (<u32>1 << EC_BITS); i++) {
    const c = entryCache + (<usize>i << 4);
    if (load<u32>(c + M_TAG) == 0 || (usedOnly && (load<u32>(c + M_META) & META_USED) == 0)) continue;
    markSlot(load<u32>(c + M_FN));
  }
}

/**
 * The host's cap on live modules is reached: instead of dropping everything, drop the map entries and
 * entry-cache copies of the modules none of whose blocks ran in this period (USED in the entry or in its
 * copy, which the run loop marks), and stale entries; the others start a new period with USED clear.
 * Returns the entries dropped. The host then frees the table slots jitSlotReferenced() says nothing reaches.
 */
export function jitDropCold(): u32 {
  markReferenced(true);
  for (let i: u32 = 0; i < (<u32>1 << EC_BITS); i++) {
    const c = entryCache + (<usize>i << 4);
    if (load<u32>(c + M_TAG) != 0 && !slotMarked(load<u32>(c + M_FN))) store<u32>(c + M_TAG, 0);
  }
  let dropped: u32 = 0;
  for (let i: u32 = 0; i < <u32>JIT_MAP_ENTRIES; i++) {
    const e = <usize>JIT_MAP + (<usize>i << 4);
    const tag = <usize>load<u32>(e + M_TAG);
    const fn = load<u32>(e + M_FN);
    if (tag == 0 || fn == 0) continue;
    if (!slotMarked(fn) || <u32>load<u16>(e + M_GEN) != pageGen(tag)) { memory.fill(e, 0, 16); dropped++; }
  }
  store<u32>(stat(JIT_STAT_EVICTED), load<u32>(stat(JIT_STAT_EVICTED)) + dropped);
  jitNewPeriod();
  markReferenced(false);
  return dropped;
}

/** Start a period of use (USED cleared everywhere): the host does this when its table is three quarters full. */
export function jitNewPeriod(): void {
  for (let i: u32 = 0; i < <u32>JIT_MAP_ENTRIES; i++) {
    const e = <usize>JIT_MAP + (<usize>i << 4);
    store<u32>(e + M_META, load<u32>(e + M_META) & ~META_USED);
  }
  for (let i: u32 = 0; i < (<u32>1 << EC_BITS); i++) {
    const c = entryCache + (<usize>i << 4);
    store<u32>(c + M_META, load<u32>(c + M_META) & ~META_USED);
  }
}

/** After jitDropCold: whether a map entry or an entry-cache copy still reaches function-table index `fn`. */
export function jitSlotReferenced(fn: u32): bool { return slotMarked(fn); }
