// CPUID: an honest P6-class identity. Feature bits are advertised only for what the core implements; the host
// can clear bits further (CPU_MSR area, MSR_CPUID_MASK) to present a smaller feature set.
import { CPU_MSR } from "../layout/memory";
import { cpu } from "./state";

export let cpuidA: u32 = 0;
export let cpuidB: u32 = 0;
export let cpuidC: u32 = 0;
export let cpuidD: u32 = 0;

// Leaf 1 EDX bits (SDM Vol. 2A, Table 3-11).
const FEAT_FPU: u32 = 1 << 0;
const FEAT_PSE: u32 = 1 << 3;
const FEAT_TSC: u32 = 1 << 4;
const FEAT_MSR: u32 = 1 << 5;
const FEAT_PAE: u32 = 1 << 6;
const FEAT_CX8: u32 = 1 << 8;
const FEAT_APIC: u32 = 1 << 9;
const FEAT_SEP: u32 = 1 << 11;
const FEAT_PGE: u32 = 1 << 13;
const FEAT_CMOV: u32 = 1 << 15;

/**
 * What the core implements today. APIC says a local APIC exists: the machine provides it, and a host without
 * one (the test harness) clears the bit in its mask (CPUID_EDX_APIC).
 */
export const FEATURES_EDX: u32 = FEAT_FPU | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_PAE | FEAT_CX8 | FEAT_APIC | FEAT_SEP | FEAT_PGE | FEAT_CMOV;

// Leaf 0x80000001 EDX: NX (execute disable, with EFER.NXE).
const EXT_NX: u32 = 1 << 20;
/** What the core implements in leaf 0x80000001 EDX. */
export const FEATURES_EXT_EDX: u32 = EXT_NX;
/** Slot (u64) in the MSR area with the host's mask for leaf 0x80000001 EDX. */
export const MSR_SLOT_CPUID_EXT_MASK: u32 = 36;

/** Slot (u64) in the MSR area where the host keeps the leaf-1 EDX mask it allows; it survives resets. */
export const MSR_SLOT_CPUID_MASK: u32 = 0;
/** IA32_BIOS_SIGN_ID (0x8B), which CPUID leaf 1 fills with the microcode revision, as on every P6 (SDM 9.11.7.1). */
export const MSR_SLOT_BIOS_SIGN_ID: u32 = 35;
/** The microcode revision reported there: 1, as QEMU reports for Intel models. */
const UCODE_REV: u64 = 1;

// The core follows Intel's SDM, so it presents itself as an Intel P6: a vendor Linux does not know gets the
// generic setup and the warning "Your system may be unstable". Stepping 9 is past the Pentium Pro errata Linux
// works around (SEP on steppings < 3, errata #50 on steppings < 8).
const VENDOR_B: u32 = 0x75_6e_65_47; // "Genu"
const VENDOR_D: u32 = 0x49_65_6e_69; // "ineI"
const VENDOR_C: u32 = 0x6c_65_74_6e; // "ntel"

/** Family 6, model 1, stepping 9: a Pentium Pro, the P6 without MMX, as the core implements it. */
const SIGNATURE: u32 = (6 << 8) | (1 << 4) | 9;
export function cpuSignature(): u32 { return SIGNATURE; }

/** Fill cpuidA..D for `leaf` (no implemented leaf depends on the subleaf in ECX yet). */
export function cpuidLeaf(leaf: u32): void {
  cpuidA = 0; cpuidB = 0; cpuidC = 0; cpuidD = 0;
  switch (leaf) {
    case 0:
      cpuidA = 1; cpuidB = VENDOR_B; cpuidD = VENDOR_D; cpuidC = VENDOR_C;
      break;
    case 1: {
      const allowed = <u32>load<u64>(cpu + CPU_MSR + MSR_SLOT_CPUID_MASK * 8);
      cpuidA = SIGNATURE;
      cpuidD = FEATURES_EDX & allowed;
      store<u64>(cpu + CPU_MSR + MSR_SLOT_BIOS_SIGN_ID * 8, UCODE_REV << 32);
      break;
    }
    case 0x8000_0000:
      cpuidA = 0x8000_0001;
      break;
    case 0x8000_0001:
      cpuidD = FEATURES_EXT_EDX & <u32>load<u64>(cpu + CPU_MSR + MSR_SLOT_CPUID_EXT_MASK * 8);
      break;
    default:
      // Leaves above the maximum return the highest basic leaf's data on Intel; we report zeros, as for
      // reserved leaves, which is what guests test for.
      break;
  }
}
