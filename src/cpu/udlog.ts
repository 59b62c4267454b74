// Counting of instructions the core does not implement. Each raises #UD in the guest (never a silent no-op)
// and is counted here by opcode so `--log-ud` can list them.
import { CPU_UD_COUNT, CPU_UD_COUNT_LEN } from "../layout/memory";
import { cpu } from "./state";

/**
 * Count one unimplemented instruction. `code` is dOp (0x000-0x1FF); 0x200 | type marks a protected-mode
 * transfer through a system descriptor of that type (gates, TSS) that is not implemented yet.
 */
export function logUnimplemented(code: u32): void {
  const i = code < <u32>CPU_UD_COUNT_LEN ? code : <u32>CPU_UD_COUNT_LEN - 1;
  const p = cpu + CPU_UD_COUNT + (i << 2);
  store<u32>(p, load<u32>(p) + 1);
}
