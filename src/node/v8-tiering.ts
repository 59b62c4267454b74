// How V8 tiers the translated code up. Node only: a browser page cannot set engine flags.
//
// V8 compiles a wasm function with its baseline compiler (Liftoff) first and recompiles it with TurboFan once it has
// used up a budget (--wasm-tiering-budget, 1,800,000 by default) that Liftoff code counts down as it runs, at loop
// back edges among other places. A translated module is one function whose blocks sit in one dispatch loop tens of
// KiB long, and the default budget sent most of them to TurboFan: booting the bench guest to userspace
// (--trace-wasm-compilation-times), V8 recompiled 1,268 of 1,491 translated modules with TurboFan, 65 CPU-seconds of
// compiling for a 27-35 s boot, on the second core and in the main thread's way; with a 1000x budget, 106 modules and
// 10 CPU-seconds (the core's own 176 TurboFan functions unchanged).
//
// The large budget alone left code that is hot but entered often from the run loop (gzip's calls across pages) on
// Liftoff: gzip 15.7-20.2 s against 14.4-15.8 s. So the core counts the guest instructions each module retires, and
// a module past 2 M (src/wasm/cache.ts) is instantiated again with V8's default budget and tiers up as before.
// Sequential bench runs, three of each, alternating: boot to userspace 17.8-19.5 s against 26.7-28.6 s with V8's
// defaults, gzip 14.3-15.9 s against 14.4-15.8 s, the whole bench 48-51 s against 55-61 s, 60-63 CPU-seconds
// against 83-92. A boot to userspace with --trace-wasm-compilation-times: 70 modules found hot, 107 translated
// functions compiled by TurboFan in 8.4 CPU-seconds (65 with V8's defaults).
import { setFlagsFromString } from 'node:v8';

/** 1000 times V8's default: a translated module tiers up after tens of thousands of passes through its loop. */
export const TRANSLATED_CODE_TIERING_BUDGET = 1_800_000_000;

/**
 * Give wasm instances created from now on the translated-code tiering budget. Call it after the core's instance
 * exists: an instance's functions start with the budget of the flag's value when it was created, so the core keeps
 * V8's default (the boot above tiered up the same 176-177 core functions with and without this).
 */
export function useTranslatedCodeTiering(): void {
  setFlagsFromString(`--wasm-tiering-budget=${TRANSLATED_CODE_TIERING_BUDGET}`);
}

/** V8's default budget (`node --v8-options`, Node 20). */
const DEFAULT_TIERING_BUDGET = 1_800_000;

/**
 * Instantiate a translated module the core found hot with V8's default budget, so that its function tiers up as
 * V8 would otherwise decide (the instances share the module's code, TurboFan's included).
 */
export function instantiateHot(module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance {
  setFlagsFromString(`--wasm-tiering-budget=${DEFAULT_TIERING_BUDGET}`);
  try {
    return new WebAssembly.Instance(module, imports);
  } finally {
    useTranslatedCodeTiering();
  }
}

/**
 * Compile a merged module of translated code (src/machine/jit-merge.ts) lazily: V8 validates it now and gives
 * each function machine code when it is first called. Most functions of a merged module never run again once
 * the boot phase that made them is over; compiled eagerly they cost a background compile and a second copy of
 * their code (the first module lives until the JS heap's next full collection). Booting the bench guest through
 * its workloads: 34.2 CPU-seconds lazily (two boots) against 35.8-38.1 eagerly (three); peak RSS 274-307 MiB
 * against 268-313 (and 280-336 without merging: RSS moves with the collector's timing more than with this).
 * Functions compiled as they are called also lie in the order they ran. The flag is set back to V8's default
 * afterwards (a `node --wasm-lazy-compilation` given by the user is not restored).
 */
export function compileMergedLazily(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  setFlagsFromString('--wasm-lazy-compilation');
  try {
    return new WebAssembly.Module(bytes);
  } finally {
    setFlagsFromString('--no-wasm-lazy-compilation');
  }
}
