// Interrupt wiring helpers: a wired-OR of several sources onto one line, and one source fanned out to several
// inputs (an ISA IRQ goes to the 8259A and to the I/O APIC).
import type { IrqLine } from '../devices/device';

/** A line several devices drive (COM1 and COM3 on IRQ 4): high while any source holds it high. */
export class SharedIrq {
  private readonly levels: boolean[] = [];
  private high = false;
  constructor(private readonly out: IrqLine) {}

  source(): IrqLine {
    const i = this.levels.push(false) - 1;
    return {
      raise: () => { this.levels[i] = true; this.update(); },
      lower: () => { this.levels[i] = false; this.update(); },
    };
  }

  private update(): void {
    const any = this.levels.some((l) => l);
    if (any === this.high) return;
    this.high = any;
    if (any) this.out.raise(); else this.out.lower();
  }
}

/** One line driving several inputs. */
export function fanOut(...lines: IrqLine[]): IrqLine {
  return {
    raise: () => { for (const l of lines) l.raise(); },
    lower: () => { for (const l of lines) l.lower(); },
  };
}
