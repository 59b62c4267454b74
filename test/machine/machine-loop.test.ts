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

  it('leaves the host time spent compiling translated code out of the guest clock (TSC, timers)', async () => {
    // A host clock that moves 1 us per reading, and 1 s on every module compiled: the guest must not see that second.
    let t = 0;
    let modules = 0;
    const time = { nowNs: () => (t += 1000), wallMs: () => 0 };
    const onModule = () => { modules++; t += 1e9; };
    const m = new Machine({ module: loadCoreModule(), memoryBytes: 1 << 20, time, scheduler: new NodeScheduler(), jit: { threshold: 16, onModule } });
    m.io.insert({ read: () => 0, write: () => m.requestExit({ kind: 'poweroff' }) }, 0x11, 1, 'test');
    // At 0000:0500: rdtsc; mov esi,eax; mov cx,2000; l: loop l (hot: translated); rdtsc; sub eax,esi; out 0x11,al.
    m.core.ram.set([0x0f, 0x31, 0x66, 0x89, 0xc6, 0xb9, 0xd0, 0x07, 0xe2, 0xfe, 0x0f, 0x31, 0x66, 0x29, 0xf0, 0xe6, 0x11], 0x500);
    const v = m.core.cpuView();
    m.core.writeSegment(1, 0, 0, 0xffff, 0x93);
    v.setBigUint64(0x80, 0x500n, true);
    expect(await m.run()).toEqual({ kind: 'poweroff' });
    expect(modules).toBeGreaterThan(0);
    const tscDelta = v.getUint32(0, true); // EAX
    expect(tscDelta).toBeGreaterThan(0);
    expect(tscDelta).toBeLessThan(1e8);
  });

  it('with icount, counts one nanosecond per instruction (TSC) and skips a halted CPU to its next timer', async () => {
    const m = new Machine({ module: loadCoreModule(), memoryBytes: 1 << 20, time: 'icount', scheduler: new NodeScheduler(), jit: false });
    let fired = 0;
    const timer = m.clock.timer(() => { fired++; m.setIntr(true); });
    m.interruptController = { acknowledge() { m.setIntr(false); return 0x20; } };
    m.io.insert({ read: () => 0, write: (off) => (off === 0 ? timer.arm(m.clock.nowNs() + 20e6) : m.requestExit({ kind: 'poweroff' })) }, 0x10, 2, 'test');
    const ram = m.core.ram;
    ram.set([0x00, 0x06, 0x00, 0x00], 0x20 * 4);
    ram.set([0xe6, 0x11, 0xf4], 0x600); // handler: out 0x11 (power off)
    // rdtsc; mov esi,eax; mov cx,2000; l: loop l; rdtsc; sub eax,esi; mov esp,0x7000; mov edi,eax; out 0x10 (arm); sti; hlt
    ram.set([0x0f, 0x31, 0x66, 0x89, 0xc6, 0xb9, 0xd0, 0x07, 0xe2, 0xfe, 0x0f, 0x31, 0x66, 0x29, 0xf0,
      0xbc, 0x00, 0x70, 0x66, 0x89, 0xc7, 0xe6, 0x10, 0xfb, 0xf4], 0x500);
    const v = m.core.cpuView();
    m.core.writeSegment(1, 0, 0, 0xffff, 0x93);
    v.setBigUint64(0x80, 0x500n, true);
    expect(await m.run()).toEqual({ kind: 'poweroff' });
    // From the first RDTSC to the second: itself, two MOVs and 2000 LOOPs retired.
    expect(v.getUint32(0x38, true)).toBe(2003); // EDI
    expect(fired).toBe(1);
    // The 20 ms of HLT passed in virtual time without 20 million instructions.
    expect(m.clock.nowNs()).toBeGreaterThanOrEqual(20e6);
    expect(Number(v.getBigUint64(0x268, true))).toBeLessThan(3000);
  });

  it('with icount, repeats a run exactly, with the JIT as without', async () => {
    const trace = async (jit: boolean) => {
      const m = new Machine({ module: loadCoreModule(), memoryBytes: 1 << 20, time: 'icount', scheduler: new NodeScheduler(), jit: jit ? { threshold: 4 } : false });
      const seen: number[] = [];
      // Every 10 us a timer interrupt; the handler records the counter the main loop was at, 50 times.
      const timer = m.clock.timer(() => { m.setIntr(true); timer.arm(m.clock.nowNs() + 10_000); });
      m.interruptController = { acknowledge() { m.setIntr(false); return 0x20; } };
      m.io.insert({ read: () => 0, write: (_o, _s, val) => { seen.push(val); if (seen.length === 50) m.requestExit({ kind: 'poweroff' }); } }, 0x10, 2, 'test');
      timer.arm(10_000);
      const ram = m.core.ram;
      ram.set([0x00, 0x06, 0x00, 0x00], 0x20 * 4);
      ram.set([0x66, 0x89, 0xd8, 0xe7, 0x10, 0xcf], 0x600); // handler: mov eax,ebx; out 0x10,eax; iret
      ram.set([0xbc, 0x00, 0x70, 0xfb, 0x66, 0x43, 0xeb, 0xfc], 0x500); // mov sp,0x7000; sti; l: inc ebx; jmp l
      const v = m.core.cpuView();
      m.core.writeSegment(1, 0, 0, 0xffff, 0x93);
      v.setBigUint64(0x80, 0x500n, true);
      expect(await m.run()).toEqual({ kind: 'poweroff' });
      return seen;
    };
    const a = await trace(false);
    expect(a[49]).toBeGreaterThan(a[0]);
    expect(await trace(false)).toEqual(a);
    expect(await trace(true)).toEqual(a);
  });
});
