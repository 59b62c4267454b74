// The 8042 keyboard controller, its keyboard and port 0x92, through their ports. Behaviour from the IBM PS/2
// Hardware Interface Technical Reference (keyboard controller and keyboard chapters) and the Intel PIIX4 data
// sheet for port 0x92; the probe sequences are those of Linux's i8042.c and atkbd.c.
import { beforeEach, describe, expect, it } from "vitest";
import { I8042, Port92 } from "../../src/devices/i8042";
import { FakeIrq } from "./helpers";

const DATA = 0, CMD = 4;
const STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_CMD = 0x08, STATUS_AUX = 0x20, STATUS_TIMEOUT = 0x40;
const CB_KBD_INT = 0x01, CB_AUX_INT = 0x02, CB_KBD_DISABLE = 0x10, CB_AUX_DISABLE = 0x20, CB_XLATE = 0x40;

describe("I8042", () => {
  let irq1: FakeIrq;
  let irq12: FakeIrq;
  let a20: boolean[];
  let resets: number;
  let kbc: I8042;

  const status = () => kbc.read(CMD, 1);
  const command = (c: number, data?: number) => {
    kbc.write(CMD, 1, c);
    if (data !== undefined) kbc.write(DATA, 1, data);
  };
  /** Everything waiting in the output buffer, the way a polling driver drains it. */
  const drain = () => {
    const bytes = [];
    while (status() & STATUS_OBF) bytes.push(kbc.read(DATA, 1));
    return bytes;
  };
  const setCommandByte = (cb: number) => command(0x60, cb);

  beforeEach(() => {
    irq1 = new FakeIrq();
    irq12 = new FakeIrq();
    a20 = [];
    resets = 0;
    kbc = new I8042({ irq1, irq12, onA20: (on) => a20.push(on), onReset: () => resets++ });
  });

  it("controller self-test 0xAA answers 0x55 and sets the system flag", () => {
    expect(status() & STATUS_SYS).toBe(0);
    command(0xaa);
    expect(status() & STATUS_OBF).toBe(STATUS_OBF);
    expect(drain()).toEqual([0x55]);
    expect(status() & STATUS_SYS).toBe(STATUS_SYS);
  });

  it("keyboard and AUX interface tests answer 0x00", () => {
    command(0xab);
    expect(drain()).toEqual([0x00]);
    command(0xa9);
    expect(drain()).toEqual([0x00]);
  });

  it("the command byte reads back what was written", () => {
    setCommandByte(0x65);
    command(0x20);
    expect(drain()).toEqual([0x65]);
    expect(status() & STATUS_SYS).toBe(STATUS_SYS); // command byte bit 2 is the system flag
  });

  it("status bit 3 tells whether the last write went to the command port", () => {
    command(0xa7);
    expect(status() & STATUS_CMD).toBe(STATUS_CMD);
    kbc.write(DATA, 1, 0xf4);
    expect(status() & STATUS_CMD).toBe(0);
  });

  it("AUX disable and enable show in the command byte (Linux's bit assignment test)", () => {
    command(0xa7);
    command(0x20);
    expect(drain()[0]! & CB_AUX_DISABLE).toBe(CB_AUX_DISABLE);
    command(0xa8);
    command(0x20);
    expect(drain()[0]! & CB_AUX_DISABLE).toBe(0);
  });

  it("a disabled keyboard interface holds key codes until it is enabled", () => {
    command(0xad);
    kbc.keyboardInput([0x1c]);
    expect(status() & STATUS_OBF).toBe(0);
    command(0xae);
    expect(drain()).toEqual([0x1e]);
  });

  it("AUX loopback 0xD3 returns the byte as AUX data on IRQ12", () => {
    setCommandByte(CB_AUX_INT | CB_KBD_INT);
    command(0xd3, 0x5a);
    expect(status() & (STATUS_OBF | STATUS_AUX)).toBe(STATUS_OBF | STATUS_AUX);
    expect(irq12.level).toBe(true);
    expect(irq1.level).toBe(false);
    expect(kbc.read(DATA, 1)).toBe(0x5a);
    expect(irq12.level).toBe(false);
  });

  it("a byte for the absent mouse comes back as 0xFE with the timeout bit", () => {
    command(0xd4, 0xf2);
    expect(status() & (STATUS_OBF | STATUS_AUX | STATUS_TIMEOUT)).toBe(STATUS_OBF | STATUS_AUX | STATUS_TIMEOUT);
    expect(kbc.read(DATA, 1)).toBe(0xfe);
    expect(status() & STATUS_TIMEOUT).toBe(0);
  });

  it("output port write 0xD1 drives A20 and reads back with 0xD0", () => {
    command(0xd1, 0xdd); // A20 off
    command(0xd1, 0xdf); // A20 on
    expect(a20).toEqual([false, true]);
    command(0xd0);
    expect(drain()[0]! & 0x03).toBe(0x03);
    expect(resets).toBe(0);
  });

  it("output port bit 0 low resets the CPU", () => {
    command(0xd1, 0xde);
    expect(resets).toBe(1);
  });

  it("i8042 command 0xFE pulses reset", () => {
    command(0xfe);
    expect(resets).toBe(1);
    command(0xff); // pulses no line
    expect(resets).toBe(1);
  });

  it("commands 0xDD and 0xDF switch A20", () => {
    command(0xdd);
    command(0xdf);
    expect(a20).toEqual([false, true]);
  });

  it("keyboard reset 0xFF answers ACK then BAT OK, each raising IRQ1", () => {
    kbc.write(DATA, 1, 0xff);
    expect(irq1.level).toBe(true);
    expect(kbc.read(DATA, 1)).toBe(0xfa);
    expect(irq1.level).toBe(true);
    expect(kbc.read(DATA, 1)).toBe(0xaa);
    expect(irq1.level).toBe(false);
    expect(irq1.raised).toBe(2);
  });

  it("identify answers AB 83, translated to AB 41", () => {
    kbc.write(DATA, 1, 0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]);
    setCommandByte(CB_KBD_INT);
    kbc.write(DATA, 1, 0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x83]);
  });

  it("set LEDs is acknowledged twice and remembered", () => {
    kbc.write(DATA, 1, 0xed);
    kbc.write(DATA, 1, 0x04);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(kbc.keyboardLeds()).toBe(0x04);
  });

  it("scan-code set can be selected and queried", () => {
    setCommandByte(CB_KBD_INT); // untranslated, so the set number reads as itself
    kbc.write(DATA, 1, 0xf0);
    kbc.write(DATA, 1, 0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x02]);
    kbc.write(DATA, 1, 0xf0);
    kbc.write(DATA, 1, 0x03);
    kbc.write(DATA, 1, 0xf0);
    kbc.write(DATA, 1, 0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0x03]);
  });

  it("disable scanning stops key codes and enable brings them back", () => {
    kbc.write(DATA, 1, 0xf5);
    expect(drain()).toEqual([0xfa]);
    kbc.keyboardInput([0x1c]);
    expect(drain()).toEqual([]);
    kbc.write(DATA, 1, 0xf4);
    kbc.keyboardInput([0x1c, 0xf0, 0x1c]);
    expect(drain()).toEqual([0xfa, 0x1e, 0x9e]);
  });

  it("translation maps set 2 make and break codes to set 1", () => {
    kbc.keyboardInput([0x1c, 0xf0, 0x1c, 0x76, 0xe0, 0x75, 0xe0, 0xf0, 0x75]);
    // A make/break, Esc, then extended cursor-up make/break (E0 48 / E0 C8).
    expect(drain()).toEqual([0x1e, 0x9e, 0x01, 0xe0, 0x48, 0xe0, 0xc8]);
  });

  it("without translation set 2 codes pass through", () => {
    setCommandByte(CB_KBD_INT);
    kbc.keyboardInput([0x1c, 0xf0, 0x1c]);
    expect(drain()).toEqual([0x1c, 0xf0, 0x1c]);
  });

  it("echo answers EE and an unknown keyboard command answers resend", () => {
    kbc.write(DATA, 1, 0xee);
    kbc.write(DATA, 1, 0x42);
    expect(drain()).toEqual([0xee, 0xfe]);
  });

  it("IRQ1 needs the keyboard interrupt bit of the command byte", () => {
    setCommandByte(CB_XLATE);
    kbc.keyboardInput([0x1c]);
    expect(irq1.level).toBe(false);
    expect(status() & STATUS_OBF).toBe(STATUS_OBF);
    setCommandByte(CB_XLATE | CB_KBD_INT);
    expect(irq1.level).toBe(true);
  });

  it("writing to the keyboard re-enables a disabled keyboard interface", () => {
    command(0xad);
    kbc.write(DATA, 1, 0xf4);
    command(0x20);
    expect(drain()).toEqual([0xfa, CB_KBD_INT | CB_AUX_INT | CB_XLATE]); // CB_KBD_DISABLE is clear again
  });

  it("Linux's i8042 probe and atkbd probe see a controller with a keyboard", () => {
    drain(); // i8042_flush
    command(0xaa);
    expect(drain()).toEqual([0x55]);
    command(0x20);
    const ctr = drain()[0]!;
    command(0x60, (ctr | CB_KBD_DISABLE | CB_AUX_DISABLE) & ~(CB_KBD_INT | CB_AUX_INT));
    command(0xd3, 0x5a); // i8042_check_aux: AUX loopback
    expect(drain()).toEqual([0x5a]);
    command(0xab);
    expect(drain()).toEqual([0x00]);
    command(0x60, ctr & ~CB_AUX_INT);
    // atkbd_probe: reset, get ID, LEDs, then enable.
    for (const [cmd, reply] of [[0xff, [0xfa, 0xaa]], [0xf2, [0xfa, 0xab, 0x41]], [0xf5, [0xfa]], [0xf4, [0xfa]]] as const) {
      kbc.write(DATA, 1, cmd);
      expect(drain()).toEqual(reply);
    }
  });

  it("garbage on both ports never throws", () => {
    for (let v = 0; v < 256; v++) {
      kbc.write(CMD, 1, v);
      kbc.write(DATA, 1, v ^ 0x5a);
      kbc.read(DATA, 1);
      kbc.read(CMD, 1);
    }
    kbc.write(1, 4, 0xffff_ffff);
    expect(kbc.read(2, 1)).toBe(0xff);
  });
});

describe("Port92", () => {
  let a20: boolean[];
  let resets: number;
  let port: Port92;

  beforeEach(() => {
    a20 = [];
    resets = 0;
    port = new Port92((on) => a20.push(on), () => resets++);
    port.reset();
  });

  it("bit 1 switches A20 and reads back", () => {
    port.write(0, 1, 0x02);
    expect(port.read(0, 1)).toBe(0x02);
    port.write(0, 1, 0x00);
    expect(a20).toEqual([true, false]);
  });

  it("bit 0 going from 0 to 1 resets the CPU, once", () => {
    port.write(0, 1, 0x01);
    port.write(0, 1, 0x03);
    expect(resets).toBe(1);
    port.write(0, 1, 0x02);
    port.write(0, 1, 0x03);
    expect(resets).toBe(2);
  });
});
