// What the ACPI tables promise about the machine, as constants the device models import too: the PIIX4-style
// power-management block, the SCI, the reset register, the interrupt controllers and the PCI INTx routing.
// A device that disagrees with these makes Linux misbehave silently, so both sides read them from here.

/** PM I/O block (as QEMU's PIIX4 PM at 0x600): PM1a event (status, enable), PM1a control, PM timer, GPE0. */
export const PM_BASE = 0x600;
export const PM1A_EVT_BLK = PM_BASE + 0x00; // PM1_STS (16) then PM1_EN (16): ACPI 6.5 4.8.3.1
export const PM1_EVT_LEN = 4;
export const PM1A_CNT_BLK = PM_BASE + 0x04; // PM1_CNT (16): SCI_EN bit 0, SLP_TYP bits 12..10, SLP_EN bit 13
export const PM1_CNT_LEN = 2;
export const PM_TMR_BLK = PM_BASE + 0x08; // 24-bit counter at 3.579545 MHz (FADT TMR_VAL_EXT clear)
export const PM_TMR_LEN = 4;
export const GPE0_BLK = PM_BASE + 0x20; // GPE0_STS (16) then GPE0_EN (16): ACPI 6.5 4.8.4.1
export const GPE0_BLK_LEN = 4;
/** The whole PM block, reserved for the motherboard in the DSDT. */
export const PM_BLOCK_LEN = 0x40;

/** SCI: ISA IRQ 9, level-triggered active high through the I/O APIC (MADT override), as on PIIX4. */
export const SCI_IRQ = 9;
/** _S5 SLP_TYP value: writing SLP_TYP=0 with SLP_EN to PM1a_CNT powers the machine off (as QEMU's PIIX4). */
export const SLP_TYP_S5 = 0;
export const SLP_TYP_S0 = 0;

/** FADT RESET_REG: the PCI reset control register (port 0xCF9); writing 0x06 asks for a hard reset. */
export const RESET_PORT = 0xcf9;
export const RESET_VALUE = 0x06;

/** CMOS index of the century byte (FADT CENTURY). */
export const RTC_CENTURY_INDEX = 0x32;

export const LAPIC_BASE = 0xfee0_0000;
export const IOAPIC_BASE = 0xfec0_0000;
/** The I/O APIC's pins: ISA IRQs 0-15 on 0-15 (IRQ0 on pin 2), PCI INTx on 16-19, as QEMU's. */
export const IOAPIC_PINS = 24;
export const HPET_BASE = 0xfed0_0000;
/**
 * The HPET's event timer block ID (its capabilities register's low half, IA-PC HPET 1.0a 2.3.4): revision 1,
 * 3 comparators, 64-bit counter, no legacy replacement route, vendor 8086 (src/devices/hpet.ts).
 */
export const HPET_BLOCK_ID = 0x8086_2201;
/** I/O APIC pins an HPET comparator may be routed to (Tn_INT_ROUTE_CAP): 20-23, above the PCI links' 16-19. */
export const HPET_ROUTE_PINS = 0x00f0_0000;

/** COM1-COM4 at their classic ports and ISA IRQs (the machine may have fewer: FirmwareOptions.comPorts). */
export const COM_PORTS: readonly { base: number; irq: number }[] = [
  { base: 0x3f8, irq: 4 }, { base: 0x2f8, irq: 3 }, { base: 0x3e8, irq: 4 }, { base: 0x2e8, irq: 3 },
];

/** The PCI-to-ISA bridge (LPC) that holds the legacy devices: device 1, function 0. */
export const ISA_BRIDGE_SLOT = 1;

/** The first I/O APIC input for PCI interrupts: PIRQ A-D go to GSIs 16-19. */
export const PCI_GSI_BASE = 16;
/**
 * In PIC mode the interrupt links LNKA-LNKD are wired to these ISA IRQs (SeaBIOS's choice for PIIX). No BIOS
 * code runs, so the machine must program PIIX3 PIRQRC[A:D] (60h-63h) and the ELCR (level) with them at reset.
 */
export const PCI_LINK_PIC_IRQS: readonly number[] = [10, 10, 11, 11];

/**
 * Which of the four PCI interrupt lines (PIRQ A-D, links LNKA-LNKD) slot `slot` pin `pin` (0 = INTA#) drives:
 * the barber-pole swizzle (PCI-to-PCI Bridge 1.2 9.1) as the i440FX/PIIX3 board wires it, (slot + pin - 1)
 * mod 4, so that slot 1 INTA# is PIRQA (QEMU's pci_slot_get_pirq, and src/devices/pci.ts pirqForPin).
 */
export function pciIntxLine(slot: number, pin: number): number { return (slot + pin - 1) & 3; }

/** The GSI (I/O APIC input) a PCI function on `slot` raises with `pin` (0 = INTA#) in APIC mode. */
export function pciIntxGsi(slot: number, pin: number): number { return PCI_GSI_BASE + pciIntxLine(slot, pin); }
