// A small real-mode program, encoded here byte by byte, run through the harness. Expected values follow from
// the instruction set (SDM), worked out by hand in the comments.
import { describe, it, expect } from 'vitest';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';

// Loaded at 0000:7C00. Sums 1..10 with LOOP, stores the sum, calls a near subroutine that doubles it through
// the stack, copies 4 bytes with REP MOVSB, writes AL to port 0xE9 and halts.
const program = [
  0x31, 0xc0,             // 7C00 xor ax, ax
  0xb9, 0x0a, 0x00,       // 7C02 mov cx, 10
  0x01, 0xc8,             // 7C05 add ax, cx          <- loop body
  0xe2, 0xfc,             // 7C07 loop 7C05
  0xa3, 0x00, 0x05,       // 7C09 mov [0500], ax      ; 55 = 0x37
  0xe8, 0x12, 0x00,       // 7C0C call 7C21
  0xbe, 0x00, 0x05,       // 7C0F mov si, 0500
  0xbf, 0x10, 0x05,       // 7C12 mov di, 0510
  0xb9, 0x04, 0x00,       // 7C15 mov cx, 4
  0xfc,                   // 7C18 cld
  0xf3, 0xa4,             // 7C19 rep movsb
  0xe6, 0xe9,             // 7C1B out 0xe9, al
  0xf4,                   // 7C1D hlt
  0x90, 0x90, 0x90,       // 7C1E padding
  0x50,                   // 7C21 push ax
  0x5b,                   // 7C22 pop bx
  0x01, 0xd8,             // 7C23 add ax, bx          ; 110 = 0x6E
  0xa3, 0x02, 0x05,       // 7C25 mov [0502], ax
  0xc3,                   // 7C28 ret
];

describe('a real-mode program run through the harness', () => {
  it('computes, calls, copies, writes a port and halts with the expected state', () => {
    const h = new CpuHarness(loadCoreModule());
    h.setRealMode();
    h.writeMem(0x7c00, program);
    h.setSegReal('cs', 0);
    h.setReg('eip', 0x7c00);
    h.setReg('esp', 0x7000);
    const r = h.step(1000);
    const s = h.getState();
    expect(s.halted).toBe(true);
    expect(s.eip).toBe(0x7c1e); // HLT completes: EIP points past it
    expect(s.eax & 0xffff).toBe(110);
    expect(s.ebx & 0xffff).toBe(55);
    expect(s.ecx & 0xffff).toBe(0);
    expect(s.esi & 0xffff).toBe(0x504);
    expect(s.edi & 0xffff).toBe(0x514);
    expect(s.esp & 0xffff).toBe(0x7000);
    expect(Array.from(h.readMem(0x500, 4))).toEqual([55, 0, 110, 0]);
    expect(Array.from(h.readMem(0x510, 4))).toEqual([55, 0, 110, 0]);
    expect(h.ioLog).toEqual([[0xe9, 1, 110]]);
    // 2 + 10 * 2 (add, loop) + 1 (mov) + 1 (call) + 5 (push pop add mov ret) + 5 (mov mov mov cld rep) + out + hlt
    expect(r.executed).toBe(2 + 20 + 1 + 1 + 5 + 5 + 1 + 1);
    // After ADD AX,BX = 55 + 55: no carry, no overflow, not zero, positive; 110 = 0b0110_1110 has 5 ones: PF=0.
    expect(s.eflags & 0x8d5).toBe(0x0);
  });
});
