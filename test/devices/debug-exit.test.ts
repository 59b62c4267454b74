// QEMU's isa-debug-exit (hw/misc/debugexit.c): any write of 1 to 4 bytes exits with (value << 1) | 1; reads
// return 0 (debug_exit_read).
import { describe, expect, it } from "vitest";
import { DebugExit } from "../../src/devices/debug-exit";

describe("DebugExit", () => {
  const statuses = () => {
    const seen: number[] = [];
    return { seen, dev: new DebugExit((status) => seen.push(status)) };
  };

  it("a write of 0 exits with status 1", () => {
    const { seen, dev } = statuses();
    dev.write(0, 1, 0);
    expect(seen).toEqual([1]);
  });

  it("a write of 0x31 exits with status 0x63", () => {
    const { seen, dev } = statuses();
    dev.write(0, 1, 0x31);
    expect(seen).toEqual([0x63]);
  });

  it("word and dword writes pass the whole value, as QEMU's iosize=4 region does", () => {
    const { seen, dev } = statuses();
    dev.write(0, 2, 0x10);
    dev.write(0, 4, 0x0001_0000);
    dev.write(0, 4, 0xffff_ffff);
    expect(seen).toEqual([0x21, 0x0002_0001, 0xffff_ffff]); // the host process status is the low byte
  });

  it("a write at any offset of the region exits", () => {
    const { seen, dev } = statuses();
    dev.write(3, 1, 2);
    expect(seen).toEqual([5]);
  });

  it("reads return 0 and do not exit", () => {
    const { seen, dev } = statuses();
    expect([dev.read(0, 1), dev.read(0, 2), dev.read(0, 4)]).toEqual([0, 0, 0]);
    expect(seen).toEqual([]);
  });
});
