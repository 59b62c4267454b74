// The split virtqueue (virtio 1.2 §2.7) over real guest RAM: rings and descriptors are laid out by the test
// exactly as a driver lays them out, and the queue must walk them, reject what a hostile driver writes, and
// decide notifications as EVENT_IDX says.
import { beforeEach, describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/machine/dma';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { ChainError, DescriptorChain, QueueError, SplitQueue, type QueueFeatures } from '../../src/devices/virtio/queue';

const RAM = 1 << 20;
const SIZE = 8;
const DESC = 0x1000, AVAIL = 0x2000, USED = 0x3000;
const F_NEXT = 1, F_WRITE = 2, F_INDIRECT = 4;
const ALL: QueueFeatures = { indirect: true, eventIdx: false };

describe('split virtqueue', () => {
  const h = new CpuHarness(loadCoreModule(), RAM);
  const mem = new GuestMemory(h.core);
  const ram = new DataView(h.core.ram.buffer, h.core.ram.byteOffset, RAM);
  let availIdx = 0;

  function desc(table: number, i: number, addr: number, len: number, flags: number, next = 0): void {
    const at = table + 16 * i;
    ram.setUint32(at, addr % 2 ** 32, true);
    ram.setUint32(at + 4, Math.floor(addr / 2 ** 32), true);
    ram.setUint32(at + 8, len >>> 0, true);
    ram.setUint16(at + 12, flags, true);
    ram.setUint16(at + 14, next, true);
  }
  function offer(head: number): void {
    ram.setUint16(AVAIL + 4 + 2 * (availIdx % SIZE), head, true);
    availIdx = (availIdx + 1) & 0xffff;
    ram.setUint16(AVAIL + 2, availIdx, true);
  }
  const usedIdx = () => ram.getUint16(USED + 2, true);
  const usedElem = (i: number) => [ram.getUint32(USED + 4 + 8 * i, true), ram.getUint32(USED + 8 + 8 * i, true)];
  function queue(features: QueueFeatures = ALL): SplitQueue {
    const q = SplitQueue.create(mem, { size: SIZE, desc: DESC, avail: AVAIL, used: USED }, features);
    if (q instanceof QueueError) throw new Error(q.message);
    return q;
  }

  beforeEach(() => {
    h.core.ram.fill(0, 0, 0x10000);
    availIdx = 0;
  });

  it('is empty until the driver moves the available index', () => {
    const q = queue();
    expect(q.pop()).toBeUndefined();
    expect(q.hasAvailable).toBe(false);
  });

  it('walks a chain of readable then writable buffers and reads and writes them as byte streams', () => {
    h.writeMem(0x8000, [1, 2, 3, 4]);
    h.writeMem(0x9000, [5, 6]);
    desc(DESC, 3, 0x8000, 4, F_NEXT, 5);
    desc(DESC, 5, 0x9000, 2, F_NEXT, 1);
    desc(DESC, 1, 0xa000, 3, F_WRITE | F_NEXT, 2);
    desc(DESC, 2, 0xb000, 2, F_WRITE);
    offer(3);
    const c = queue().pop();
    expect(c).toBeInstanceOf(DescriptorChain);
    const chain = c as DescriptorChain;
    expect(chain.head).toBe(3);
    expect([chain.readableLength, chain.writableLength]).toEqual([6, 5]);
    expect(Array.from(chain.read(mem, 2, 4) as Uint8Array)).toEqual([3, 4, 5, 6]);
    expect(chain.write(mem, 1, Uint8Array.of(9, 8, 7))).toBeUndefined();
    expect(Array.from(h.readMem(0xa000, 3))).toEqual([0, 9, 8]);
    expect(Array.from(h.readMem(0xb000, 2))).toEqual([7, 0]);
    // Past the end of either stream is refused rather than clipped.
    expect(chain.read(mem, 4, 3)).not.toBeInstanceOf(Uint8Array);
    expect(chain.write(mem, 4, Uint8Array.of(1, 2))).toBeDefined();
  });

  it('follows an indirect table (§2.7.5.3)', () => {
    desc(0x4000, 0, 0x8000, 16, F_NEXT, 1);
    desc(0x4000, 1, 0x9000, 512, F_WRITE | F_NEXT, 2);
    desc(0x4000, 2, 0xa000, 1, F_WRITE);
    desc(DESC, 0, 0x4000, 48, F_INDIRECT);
    offer(0);
    const chain = queue().pop() as DescriptorChain;
    expect(chain).toBeInstanceOf(DescriptorChain);
    expect(chain.readable.map((d) => d.addr)).toEqual([0x8000]);
    expect(chain.writable.map((d) => d.addr)).toEqual([0x9000, 0xa000]);
  });

  it('returns used elements and moves the used index', () => {
    const q = queue();
    q.pushUsed(4, 513);
    q.pushUsed(2, 1);
    expect(usedIdx()).toBe(2);
    expect([usedElem(0), usedElem(1)]).toEqual([[4, 513], [2, 1]]);
  });

  it('wraps the free-running indices at 2^16', () => {
    const q = queue();
    desc(DESC, 0, 0x8000, 1, F_WRITE);
    let chains = 0;
    for (let i = 0; i < 70000; i++) {
      offer(0);
      if (q.pop() instanceof DescriptorChain) chains++;
      q.pushUsed(0, 1);
    }
    expect(chains).toBe(70000);
    expect(usedIdx()).toBe(70000 & 0xffff);
  });

  describe('a hostile driver', () => {
    it('cannot loop the device: a cycle ends as a too-long chain with no status byte', () => {
      desc(DESC, 0, 0x8000, 16, F_NEXT, 1);
      desc(DESC, 1, 0x9000, 1, F_WRITE | F_NEXT, 0);
      offer(0);
      const e = queue().pop() as ChainError;
      expect(e).toBeInstanceOf(ChainError);
      expect([e.head, e.fault, e.tail]).toEqual([0, 'too-long', undefined]);
    });

    it('cannot loop inside an indirect table either', () => {
      desc(0x4000, 0, 0x8000, 16, F_NEXT, 0);
      desc(DESC, 2, 0x4000, 16, F_INDIRECT);
      offer(2);
      expect((queue().pop() as ChainError).fault).toBe('too-long');
    });

    it('gets a chain longer than the queue refused (§2.7.5.3.1)', () => {
      for (let i = 0; i < SIZE; i++) desc(0x4000, i, 0x8000, 1, F_NEXT, i + 1);
      desc(0x4000, SIZE, 0x8000, 1, F_WRITE);
      desc(DESC, 0, 0x4000, 16 * (SIZE + 1), F_INDIRECT);
      offer(0);
      expect((queue().pop() as ChainError).fault).toBe('too-long');
    });

    it('may still fill an indirect table with as many buffers as the queue has entries', () => {
      for (let i = 0; i < SIZE - 1; i++) desc(0x4000, i, 0x8000, 1, F_NEXT, i + 1);
      desc(0x4000, SIZE - 1, 0x8000, 1, F_WRITE);
      desc(DESC, 0, 0x4000, 16 * SIZE, F_INDIRECT);
      offer(0);
      expect((queue().pop() as DescriptorChain).readable.length).toBe(SIZE - 1);
    });

    it('gets next indices outside the table refused', () => {
      desc(DESC, 0, 0x8000, 16, F_NEXT, SIZE);
      offer(0);
      expect((queue().pop() as ChainError).fault).toBe('index');
    });

    it('gets a head index outside the table reported as a corrupt ring', () => {
      offer(SIZE + 3);
      const e = queue().pop();
      expect(e).toBeInstanceOf(QueueError);
      expect((e as QueueError).fault).toBe('head-index');
    });

    it('gets an available index jumping far ahead reported as a corrupt ring', () => {
      ram.setUint16(AVAIL + 2, 1000, true);
      expect((queue().pop() as QueueError).fault).toBe('avail-overrun');
    });

    it('gets buffers beyond RAM and 64-bit addresses refused, keeping the status byte reachable', () => {
      desc(DESC, 0, RAM - 8, 16, F_NEXT, 1);
      desc(DESC, 1, 0x9000, 1, F_WRITE);
      desc(DESC, 2, 2 ** 40 + 0x1000, 16, F_NEXT, 1);
      offer(0);
      offer(2);
      const q = queue();
      for (const head of [0, 2]) {
        const e = q.pop() as ChainError;
        expect([e.head, e.fault]).toEqual([head, 'range']);
        expect(e.tail).toEqual({ addr: 0x9000, len: 1, writable: true });
      }
    });

    it('gets a length of 2^32-1 refused without reading it', () => {
      desc(DESC, 0, 0x8000, 0xffff_ffff, F_NEXT, 1);
      desc(DESC, 1, 0x9000, 1, F_WRITE);
      desc(DESC, 2, 0x4000, 0xffff_fff0, F_INDIRECT);
      offer(0);
      offer(2);
      const q = queue();
      expect((q.pop() as ChainError).fault).toBe('range');
      expect((q.pop() as ChainError).fault).toBe('range');
    });

    it('gets readable buffers after writable ones refused (§2.7.4.2)', () => {
      desc(DESC, 0, 0x9000, 1, F_WRITE | F_NEXT, 1);
      desc(DESC, 1, 0x8000, 16, 0);
      offer(0);
      expect((queue().pop() as ChainError).fault).toBe('order');
    });

    it('cannot use indirect tables without the feature, nested, with NEXT or of a ragged length', () => {
      desc(0x4000, 0, 0x5000, 16, F_INDIRECT);
      desc(DESC, 0, 0x4000, 16, F_INDIRECT);
      desc(DESC, 1, 0x4000, 16, F_INDIRECT | F_NEXT, 2);
      desc(DESC, 2, 0x4000, 20, F_INDIRECT);
      desc(DESC, 3, 0x4000, 0, F_INDIRECT);
      for (const head of [0, 1, 2, 3]) offer(head);
      const q = queue();
      for (let i = 0; i < 4; i++) expect((q.pop() as ChainError).fault).toBe('indirect');
      desc(0x4000, 0, 0x8000, 1, F_WRITE);
      offer(0);
      const plain = queue({ indirect: false, eventIdx: false });
      for (let i = 0; i < 4; i++) plain.pop();
      expect((plain.pop() as ChainError).fault).toBe('indirect');
    });

    it('cannot place rings outside RAM or misaligned', () => {
      const at = (desc: number, avail: number, used: number) =>
        SplitQueue.create(mem, { size: SIZE, desc, avail, used }, ALL) as QueueError;
      expect(at(DESC, AVAIL, RAM - 16).fault).toBe('ring-range');
      expect(at(2 ** 33, AVAIL, USED).fault).toBe('ring-range');
      expect(at(DESC + 8, AVAIL, USED).fault).toBe('ring-align');
      expect((SplitQueue.create(mem, { size: 12, desc: DESC, avail: AVAIL, used: USED }, ALL) as QueueError).fault).toBe('size');
    });
  });

  describe('used buffer notifications (§2.7.7)', () => {
    it('are suppressed by VIRTQ_AVAIL_F_NO_INTERRUPT without EVENT_IDX', () => {
      const q = queue();
      q.pushUsed(0, 1);
      expect(q.needsNotification()).toBe(true);
      ram.setUint16(AVAIL, 1, true);
      expect(q.needsNotification()).toBe(false);
    });

    it('follow used_event with EVENT_IDX, ignoring the flag', () => {
      const q = queue({ indirect: true, eventIdx: true });
      ram.setUint16(AVAIL, 1, true);
      q.pushUsed(0, 1);
      expect(q.needsNotification()).toBe(true); // the first decision always notifies
      ram.setUint16(AVAIL + 4 + 2 * SIZE, 3, true); // used_event: notify when entry 3 is used
      q.pushUsed(0, 1); // used idx 2
      expect(q.needsNotification()).toBe(false);
      q.pushUsed(0, 1);
      q.pushUsed(0, 1); // used idx 4: entry 3 was crossed
      expect(q.needsNotification()).toBe(true);
      q.pushUsed(0, 1);
      expect(q.needsNotification()).toBe(false);
    });

    it('publish avail_event so the driver notifies for the next buffer only (§2.7.10)', () => {
      const q = queue({ indirect: true, eventIdx: true });
      desc(DESC, 0, 0x8000, 1, F_WRITE);
      offer(0);
      offer(0);
      q.pop();
      expect(ram.getUint16(USED + 4 + 8 * SIZE, true)).toBe(1);
      q.pop();
      expect(ram.getUint16(USED + 4 + 8 * SIZE, true)).toBe(2);
      q.unpop();
      expect(ram.getUint16(USED + 4 + 8 * SIZE, true)).toBe(1);
      expect(q.pop()).toBeInstanceOf(DescriptorChain);
    });
  });
});
