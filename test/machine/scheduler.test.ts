// The machine's sleeps: never shorter than asked (a timer deadline that is not due yet costs the machine a
// wasted slice and a second trip through the event loop), cut short by wake(), and blocking in deep idle without
// shutting the host's events out.
import { describe, it, expect } from 'vitest';
import { NodeScheduler } from '../../src/node/scheduler';
import { QUIET_MS, TURN_EVERY_MS } from '../../src/machine/scheduler';

/** Keep the thread busy for `ms`: the event loop's cached clock goes stale by as much. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

describe('TimerScheduler', () => {
  it('does not wake before the time asked: fractions of a millisecond, a stale event-loop clock', async () => {
    const s = new NodeScheduler();
    for (let i = 0; i < 10; i++) {
      // setTimeout alone dropped the 0.8 and counted from the loop's clock, read before this turn's work.
      await new Promise((resolve) => setImmediate(resolve));
      busy(i % 2 === 0 ? 0 : 2);
      const t0 = performance.now();
      await s.sleep(3.8);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(3.8);
    }
  });

  it('wake() ends a sleep early', async () => {
    const s = new NodeScheduler();
    const t0 = performance.now();
    setTimeout(() => s.wake(), 5);
    await s.sleep(10_000);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('deep idle: blocks once the host is quiet, still serves its events, and wakes up fully on one', async () => {
    const s = new NodeScheduler();
    // An idle guest's machine loop: a timer tick every 4 ms, nothing else.
    const idle = async (until: () => boolean, limitMs: number) => {
      const end = performance.now() + limitMs;
      while (!until() && performance.now() < end) {
        const t0 = performance.now();
        await s.sleep(3.8);
        if (seenAt === 0) expect(performance.now() - t0).toBeGreaterThanOrEqual(3.8); // wake() may cut it short
      }
    };
    let seenAt = 0;
    await idle(() => false, QUIET_MS / 2);
    expect(s.blockingSleeps).toBe(0); // not quiet yet: every sleep went through the event loop
    await idle(() => false, QUIET_MS / 2 + 300);
    const blocked = s.blockingSleeps;
    expect(blocked).toBeGreaterThan(20);

    // An event from the host (console input, a packet) arrives while the loop blocks.
    const sentAt = performance.now();
    setTimeout(() => { seenAt = performance.now(); s.wake(); }, 0);
    await idle(() => seenAt !== 0, 5_000);
    expect(seenAt).toBeGreaterThan(0);
    // Served at the next turn: TURN_EVERY_MS plus a sleep, with room for a loaded machine.
    expect(seenAt - sentAt).toBeLessThan(TURN_EVERY_MS + 500);

    // The next QUIET_MS belong to the host's events again: no sleep blocks.
    const after = s.blockingSleeps;
    await idle(() => false, QUIET_MS / 2);
    expect(s.blockingSleeps).toBe(after);
  });
});
