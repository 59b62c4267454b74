// The timer half of a HostScheduler, the same in Node and in a browser Worker: sleep() on setTimeout, cut
// short by wake(). How to yield differs per host, so subclasses supply yield().
import type { HostScheduler } from './machine';

export abstract class TimerScheduler implements HostScheduler {
  private wakeUp: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  abstract yield(): Promise<void>;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.timer = setTimeout(done, ms);
    });
  }

  wake(): void { this.wakeUp?.(); }
}
