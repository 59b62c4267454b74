// The machine loop's waits in Node: setImmediate to yield, setTimeout to sleep, cut short by wake().
import type { HostScheduler } from '../machine/machine';

export class NodeScheduler implements HostScheduler {
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  yield(): Promise<void> { return new Promise((resolve) => setImmediate(resolve)); }

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
