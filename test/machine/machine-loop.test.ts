// The machine loop: a halted guest sleeps until a device timer raises INTR, takes the interrupt through the
// IVT, and the handler powers the machine off through a device.
import { describe, it, expect } from 'vitest';
import { Machine } from '../../src/machine/machine';
import { hostTime } from '../../src/machine/clock';
import { NodeScheduler } from '../../src/node/scheduler';
import { loadCoreModule } from '../../src/node/core-module';
import type { AccessSize, IoDevice } from '../../src/devices/device';

describe('the machine loop', () => {
  it('sleeps in HLT until a timer interrupt, delivers it, and stops on a power-off request', async () => {
    const m = new Machine({ module: loadCoreModule(), memoryBytes: 1 << 20, time: hostTime, scheduler: new NodeScheduler() });
    let pending = false;
    let acks = 0;
    const timer = m.clock.timer(() => { pending = true; m.setIntr(true); });
    m.interruptController = {
      acknowledge() {
        if (!pending) return -1;
        pending = false;
        acks++;
        m.setIntr(false);
        return 0x20;
      },
    };
    // Port 0x10: arm a 20 ms timer. Port 0x11: power off.
    const dev: IoDevice = {
      read: () => 0,
      write(offset: number, _size: AccessSize, _v: number) {
        if (offset === 0) timer.arm(m.clock.nowNs() + 20e6);
        else m.requestExit({ kind: 'poweroff' });
      },
    };
    m.io.insert(dev, 0x10, 2, 'test');
    const ram = m.core.ram;
    // IVT entry 0x20 -> 0000:0600. The handler writes port 0x11 and halts.
    ram.set([0x00, 0x06, 0x00, 0x00], 0x20 * 4);
    ram.set([0xe6, 0x11, 0xf4], 0x600); // out 0x11, al ; hlt
    // Main at 0000:0500: sp = 0x7000; out 0x10 (arm); sti; hlt; jmp $-1 (back to hlt).
    ram.set([0xbc, 0x00, 0x70, 0xe6, 0x10, 0xfb, 0xf4, 0xeb, 0xfd], 0x500);
    const v = m.core.cpuView();
    // CS = 0, EIP = 0x500 (the core resets to F000:FFF0; move it to the program).
    m.core.writeSegment(1, 0, 0, 0xffff, 0x93);
    v.setBigUint64(0x80, 0x500n, true);
    const t0 = performance.now();
    const exit = await m.run();
    const elapsed = performance.now() - t0;
    expect(exit).toEqual({ kind: 'poweroff' });
    expect(acks).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(15);
    // The handler ran with the frame of the interrupted HLT loop on the stack: IP after HLT, CS 0, FLAGS with IF.
    expect(Array.from(ram.slice(0x7000 - 6, 0x7000))).toEqual([0x07, 0x05, 0x00, 0x00, 0x02, 0x02]);
  });
});
