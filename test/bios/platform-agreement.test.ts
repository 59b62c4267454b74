// The ACPI tables describe the board; the device models are the board. Where both encode the same wiring, they
// must agree, or Linux routes interrupts to inputs that never fire.
import { describe, expect, it } from 'vitest';
import { pciIntxLine } from '../../bios/acpi/platform';
import { IntxPin } from '../../src/devices/pci-config';
import { pirqForPin } from '../../src/devices/pci';

describe('the DSDT and the device models', () => {
  it('swizzle PCI INTx onto the same PIRQ for every slot and pin', () => {
    const pins = [IntxPin.IntA, IntxPin.IntB, IntxPin.IntC, IntxPin.IntD];
    for (let slot = 0; slot < 32; slot++) {
      pins.forEach((pin, index) => expect(pciIntxLine(slot, index), `slot ${slot} pin ${index}`).toBe(pirqForPin(slot, pin)));
    }
  });
});
