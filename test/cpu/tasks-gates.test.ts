// Hardware task switches and call gates, checked from inside the guest (test/asm/tasks-gates.asm). The
// expected values are those the SDM's CALL, IRET and task-switch descriptions prescribe.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { assemble, requireNasm } from '../asm/assemble';

const STACK3 = 0x6000;

describe('task switches and call gates, checked from inside the guest', () => {
  it.skipIf(!requireNasm())('nest a task with CALL, return with IRET, and cross privilege levels through a call gate', () => {
    const bin = assemble(readFileSync(new URL('../asm/tasks-gates.asm', import.meta.url), 'utf8'));
    const h = new CpuHarness(loadCoreModule());
    h.setRealMode();
    h.writeMem(0x7c00, bin);
    h.setReg('eip', 0x7c00);
    const r = h.step(100_000);
    const s = h.getState();
    expect(s.halted, `stopped at ${s.eip.toString(16)} after ${r.executed} instructions, ud ${[...h.udCounts()]}`).toBe(true);
    const w = new DataView(h.readMem(0x9000, 64).buffer);
    const at = (i: number) => w.getUint32(i, true);
    expect(at(48), 'task B sees the back link to task A').toBe(0x28);
    expect(at(52) & 0x4000, 'NT is set in the nested task').toBe(0x4000);
    expect(at(56) & 0xffff, 'TR names task B').toBe(0x30);
    expect(at(0), 'task A gets its own EBX back').toBe(0x11111111);
    expect(at(4) & 0x4000, 'NT is clear in task A').toBe(0);
    expect(at(8) & 8, 'the task switch set CR0.TS').toBe(8);
    expect((at(12) >>> 8) & 0xf, 'IRET left task B available (type 9)').toBe(9);
    expect((at(16) >>> 8) & 0xf, 'task A stays busy (type 0xB)').toBe(0xb);
    expect(at(32), 'the gate target sees the caller CS').toBe(0x1b);
    expect(at(36), 'and the caller SS on the inner stack').toBe(0x23);
    expect(at(40), 'and the caller ESP after its pushes').toBe(STACK3 - 8);
    expect(at(44) & 0xffff, 'the target runs at CPL 0').toBe(0x08);
    expect(at(20), 'the routine read both copied parameters').toBe(0xbbbb + 0xaaaa);
    expect(at(24), 'RETF 8 released the parameters on the outer stack').toBe(STACK3);
    expect(at(28) & 0xffff, 'back at CPL 3').toBe(0x1b);
  });
});
