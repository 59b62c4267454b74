// Where the firmware puts things in guest-physical memory. The loaders and the ACPI builder import these, and
// the machine maps RAM so that all of them (including 0xE0000-0xFFFFF) are backed by the RAM array.
//
//   0x0000_0000  real-mode IVT and BIOS data area: left zero (nothing here runs real-mode code)
//   0x0000_0500  BOOT_GDT: null, null, flat code (0x10), flat data (0x18) (boot.rst "32-bit Boot Protocol")
//   0x0000_7000  ZERO_PAGE: struct boot_params (4 KiB); the initial ESP sits just below it
//   0x0000_8000  MULTIBOOT_INFO: multiboot_info, then its memory map, module list and strings (32 KiB)
//   0x0002_0000  CMDLINE: the kernel command line (up to CMDLINE_MAX bytes with the NUL)
//   0x0009_FC00  EBDA: reserved in the e820 map, left zero
//   0x000F_0000  RSDP: the ACPI root pointer, in the range OSPM scans (ACPI 6.5 5.2.5.1), reserved in e820
//   0x0010_0000  the protected-mode kernel (bzImage) or the multiboot image's segments
//   top of RAM below the PCI hole: ACPI_REGION_SIZE bytes of ACPI tables (e820 type 3), initrd just below

export const BOOT_GDT = 0x0500;
export const INITIAL_ESP = 0x7000;
export const ZERO_PAGE = 0x7000;
export const ZERO_PAGE_SIZE = 0x1000;
export const MULTIBOOT_INFO = 0x8000;
export const MULTIBOOT_INFO_SIZE = 0x8000;
export const CMDLINE = 0x2_0000;
/** Bytes reserved for the command line, NUL included (far above Linux's 2048-byte COMMAND_LINE_SIZE). */
export const CMDLINE_MAX = 0x1_0000;

/** Conventional memory ends where the extended BIOS data area starts (the e820 map reserves the rest). */
export const EBDA = 0x9_fc00;
export const LOW_MEMORY_TOP = 0xa_0000;
/** The legacy VGA window; a PCI host bridge forwards it (it appears in \_SB.PCI0._CRS). */
export const VGA_WINDOW = 0xa_0000;
export const VGA_WINDOW_SIZE = 0x2_0000;
/** The system BIOS area, reserved in e820; the RSDP lives in it. */
export const BIOS_AREA = 0xf_0000;
export const BIOS_AREA_SIZE = 0x1_0000;
export const RSDP_ADDRESS = 0xf_0000;

export const HIGH_MEMORY = 0x10_0000;
export const FOUR_GIB = 0x1_0000_0000;
/** Room for the ACPI tables at the top of low RAM: the DSDT of a 32-slot bus is about 8 KiB. */
export const ACPI_REGION_SIZE = 0x1_0000;

export const PAGE = 0x1000;
export function alignUp(value: number, align: number): number { return Math.ceil(value / align) * align; }
export function alignDown(value: number, align: number): number { return Math.floor(value / align) * align; }
