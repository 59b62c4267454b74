// The system bus between the APICs: it owns the local APICs, decides which of them an interrupt message is for,
// and hands it over. Messages come from an I/O APIC redirection entry (deliver) or from a local APIC's ICR
// (sendIpi). Destinations follow SDM 10.6.2: physical (APIC ID, 0xFF broadcasts) and logical, with each local
// APIC's DFR choosing the flat model (LDR & MDA != 0) or the cluster model (high nibble the cluster, low nibble
// a bit mask); a logical 0xFF also broadcasts.
//
// Lowest priority (SDM 10.6.2.4): the focus processor (one with the vector already pending or in service) if
// focus checking is on, else the target with the lowest PPR, ties going to the lowest APIC ID. Real APICs break
// ties by a rotating arbitration ID; a fixed choice keeps runs reproducible.
import { DeliveryMode, DestMode, Shorthand, type Ipi, type Lapic, type Trigger } from "./lapic";

const BROADCAST = 0xff;
const CLUSTER_SHIFT = 4;
const CLUSTER_MASK = 0x0f;

export class InterruptRouter {
  private readonly lapics: Lapic[] = [];

  /** Put a local APIC on the bus (in APIC ID order for lowest-priority ties). */
  attach(lapic: Lapic): void {
    this.lapics.push(lapic);
  }

  /** A message from an I/O APIC redirection entry: the I/O APIC's `deliver` callback. */
  deliver(destination: number, destMode: DestMode, deliveryMode: DeliveryMode, vector: number, trigger: Trigger): void {
    this.dispatch(this.match(destination, destMode), deliveryMode, vector, trigger);
  }

  /** An IPI written to `from`'s ICR: a local APIC's `sendIpi` option. */
  sendIpi(from: Lapic, ipi: Ipi): void {
    let targets: Lapic[];
    switch (ipi.shorthand) {
      case Shorthand.Self:
        targets = [from];
        break;
      case Shorthand.AllIncludingSelf:
        targets = this.lapics.slice();
        break;
      case Shorthand.AllExcludingSelf:
        targets = this.lapics.filter((l) => l !== from);
        break;
      default:
        targets = this.match(ipi.destination, ipi.destMode);
        break;
    }
    this.dispatch(targets, ipi.deliveryMode, ipi.vector, ipi.trigger);
  }

  /** The local APICs a destination addresses. */
  match(destination: number, destMode: DestMode): Lapic[] {
    destination &= BROADCAST;
    if (destination === BROADCAST) return this.lapics.slice();
    if (destMode === DestMode.Physical) return this.lapics.filter((l) => l.id() === destination);
    return this.lapics.filter((l) => {
      const ldr = l.logicalId();
      if (l.flatModel()) return (ldr & destination) !== 0;
      return ldr >> CLUSTER_SHIFT === destination >> CLUSTER_SHIFT && (ldr & destination & CLUSTER_MASK) !== 0;
    });
  }

  private dispatch(targets: Lapic[], mode: DeliveryMode, vector: number, trigger: Trigger): void {
    if (mode === DeliveryMode.LowestPriority) {
      const chosen = this.lowestPriority(targets, vector);
      if (chosen !== undefined) chosen.receive(mode, vector, trigger);
      return;
    }
    for (const lapic of targets) lapic.receive(mode, vector, trigger);
  }

  /** Among the enabled targets: the focus processor, else the lowest PPR, then the lowest APIC ID. */
  private lowestPriority(targets: Lapic[], vector: number): Lapic | undefined {
    const candidates = targets.filter((l) => l.globallyEnabled() && l.softwareEnabled());
    const focus = candidates.find((l) => l.isFocusFor(vector));
    if (focus !== undefined) return focus;
    let best: Lapic | undefined;
    for (const l of candidates) {
      if (best === undefined || l.ppr() < best.ppr() || (l.ppr() === best.ppr() && l.id() < best.id())) best = l;
    }
    return best;
  }
}
