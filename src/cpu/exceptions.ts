// How a fault unwinds without try/catch: the access that faults records the exception here and sets
// `faulted`; every caller checks it after each memory access and returns at once, leaving architectural
// state untouched. The step loop then restores EIP to the start of the instruction and delivers the exception.
export let faulted: bool = false;
export let excVector: u32 = 0;
export let excError: u32 = 0;
export let excHasError: bool = false;

export const EXC_DE: u32 = 0;
export const EXC_DB: u32 = 1;
export const EXC_NMI: u32 = 2;
export const EXC_BP: u32 = 3;
export const EXC_OF: u32 = 4;
export const EXC_BR: u32 = 5;
export const EXC_UD: u32 = 6;
export const EXC_NM: u32 = 7;
export const EXC_DF: u32 = 8;
export const EXC_TS: u32 = 10;
export const EXC_NP: u32 = 11;
export const EXC_SS: u32 = 12;
export const EXC_GP: u32 = 13;
export const EXC_PF: u32 = 14;
export const EXC_MF: u32 = 16;
export const EXC_AC: u32 = 17;

export function raise(vector: u32, error: u32, hasError: bool): void {
  if (faulted) return; // the first fault of an instruction wins
  faulted = true;
  excVector = vector;
  excError = error;
  excHasError = hasError;
}
@inline export function raiseNoErr(vector: u32): void { raise(vector, 0, false); }
@inline export function raiseGP(error: u32): void { raise(EXC_GP, error, true); }
@inline export function raiseSS(error: u32): void { raise(EXC_SS, error, true); }
@inline export function raiseUD(): void { raise(EXC_UD, 0, false); }
export function clearFault(): void { faulted = false; }

/**
 * A task switch that has committed makes later faults belong to the new task: they are delivered with the new
 * task's EIP, not the instruction start. Cleared by the step loop after every instruction.
 */
export let faultEipOverride: bool = false;
export let faultEip: u32 = 0;
export function setFaultEip(eip: u32): void { faultEipOverride = true; faultEip = eip; }
export function clearFaultEip(): void { faultEipOverride = false; }
