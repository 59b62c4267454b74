// The ACPI tables describe the board; the device models are the board. Where both encode the same wiring, they
// must agree, or Linux routes interrupts to inputs that never fire.
import { describe, expect, it } from 'vitest';
import { HPET_BLOCK_ID, pciIntxLine } from '../../bios/acpi/platform';
import { HPET_CAPABILITIES } from '../../src/devices/hpet';
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

describe('the HPET table and the HPET', () => {
  it('give the same event timer block ID (the capabilities register\'s low half)', () => {
    expect(HPET_BLOCK_ID.toString(16)).toBe(HPET_CAPABILITIES.toString(16));
  });
});
