// Port 0x80 (POST codes; an extra DMA page register on the PC/AT, so it reads back; QEMU's ioport80_read in
// hw/i386/pc.c returns all ones instead) and the 0xE9 debug console (QEMU hw/char/debugcon.c: bytes out, reads
// return the `readback` default 0xE9).
import { describe, expect, it } from "vitest";
import { DebugCon, PostCodePort } from "../../src/devices/debug-port";

describe("PostCodePort", () => {
  it("records the last POST code written and reports each one", () => {
    const codes: number[] = [];
    const port = new PostCodePort((code) => codes.push(code));
    port.write(0, 1, 0x12);
    port.write(0, 1, 0x34);
    expect(port.lastCode).toBe(0x34);
    expect(codes).toEqual([0x12, 0x34]);
  });

  it("reads return the last code written", () => {
    const port = new PostCodePort();
    expect(port.read(0, 1)).toBe(0);
    port.write(0, 1, 0xa5);
    expect(port.read(0, 1)).toBe(0xa5);
  });

  it("keeps only the byte of a wider value", () => {
    const port = new PostCodePort();
    port.write(0, 1, 0x1ff);
    expect(port.lastCode).toBe(0xff);
  });

  it("works without a callback (Linux's outb_p delay writes)", () => {
    const port = new PostCodePort();
    for (let i = 0; i < 1000; i++) port.write(0, 1, 0);
    expect(port.lastCode).toBe(0);
  });
});

describe("DebugCon", () => {
  it("passes each byte written to the output", () => {
    const out: number[] = [];
    const con = new DebugCon((byte) => out.push(byte));
    for (const c of "ok\n") con.write(0, 1, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe("ok\n");
  });

  it("reads return 0xE9, so a guest can detect the port", () => {
    const con = new DebugCon(() => {});
    expect(con.read(0, 1)).toBe(0xe9);
  });
});
