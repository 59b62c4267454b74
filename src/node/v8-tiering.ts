// How V8 tiers the translated code up. Node only: a browser page cannot set engine flags.
//
// V8 compiles a wasm function with its baseline compiler (Liftoff) first and recompiles it with TurboFan once it has
// used up a budget of "executed bytes" (--wasm-tiering-budget, 1.8 M by default; Liftoff charges a loop's back edge
// the loop body's size). A translated module is one function whose blocks sit in one dispatch loop tens of KiB long,
// so the default budget sends a module to TurboFan after a few dozen passes. Booting the bench guest to userspace
// (--trace-wasm-compilation-times), V8 recompiled 1,268 translated modules with TurboFan, 65 CPU-seconds of
// compiling for a 27-35 s boot, on the second core and in the main thread's way; with this budget, 106 modules and
// 10 CPU-seconds (the core's own 176 TurboFan functions unchanged). Sequential bench runs on this 2-core host: boot to
// userspace 17-19 s against 26-29 s (one 25 s against 26 s), 53-67 CPU-seconds for the whole bench against 76-94;
// sha256, gzip and the shell loop no slower, since the code they loop in still tiers up.
import { setFlagsFromString } from 'node:v8';

/** 1000 times V8's default: a translated module tiers up after tens of thousands of passes through its loop. */
export const TRANSLATED_CODE_TIERING_BUDGET = 1_800_000_000;

/**
 * Give wasm instances created from now on the translated-code tiering budget. Call it after the core's instance
 * exists: V8 reads the flag when it creates an instance (its functions' first budget) and when a function's budget
 * runs out, so the core's functions keep the default for their first tier-up, which is the one that matters.
 */
export function useTranslatedCodeTiering(): void {
  setFlagsFromString(`--wasm-tiering-budget=${TRANSLATED_CODE_TIERING_BUDGET}`);
}
