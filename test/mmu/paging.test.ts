// The software MMU through the CPU: page walks, A/D bits, permissions and the #PF error code (SDM 4.7), PSE,
// PAE with 2 MiB pages and NX, global pages, INVLPG, CR0.WP, and accesses that straddle RAM and MMIO.
import { describe, it, expect, beforeEach } from 'vitest';
import { MmuFixture, CODE, P, RW, US, A, D, PS, G, XD } from './fixture';

const PD = 0x100000;
const PT = 0x101000;
const DATA = 0x400000; // the linear page the tests play with (PD index 1, PT index 0)
const DATA_PHYS = 0x500000;

// mov eax, [DATA] ; mov [DATA], eax ; mov dword [DATA], imm
const load = [0xa1, 0x00, 0x00, 0x40, 0x00];
const store = [0xa3, 0x00, 0x00, 0x40, 0x00];

describe('32-bit paging', () => {
  const f = new MmuFixture();
  beforeEach(() => f.reset());

  /** Identity-map the first 4 MiB (supervisor, writable) and map DATA with `pte`. */
  function tables(pdeFlags: number, pte: number): void {
    f.h.writeMem(PD, new Uint8Array(4096));
    f.h.writeMem(PT, new Uint8Array(4096));
    f.write32(PD, 0x000000 | P | RW | US | PS); // 0..4 MiB as one 4 MiB page (needs PSE), user-accessible
    f.write32(PD + 4, PT | pdeFlags);
    f.write32(PT, pte);
  }

  it('reports a not-present read with error code 0 and CR2', () => {
    tables(P | RW | US, 0);
    f.enablePaging(PD, 0x10);
    expect(f.run(load)).toEqual({ vector: 14, error: 0b000, cr2: DATA });
  });

  it('reports a not-present write with W set', () => {
    tables(P | RW | US, 0);
    f.enablePaging(PD, 0x10);
    expect(f.run(store)).toMatchObject({ vector: 14, error: 0b010 });
  });

  it('reports a not-present page directory entry like a not-present PTE', () => {
    tables(0, DATA_PHYS | P | RW);
    f.enablePaging(PD, 0x10);
    expect(f.run(load)).toMatchObject({ vector: 14, error: 0b000 });
  });

  it('faults a user read of a supervisor page with P and U set', () => {
    tables(P | RW | US, DATA_PHYS | P | RW);
    f.enablePaging(PD, 0x10);
    f.user();
    expect(f.run(load)).toMatchObject({ vector: 14, error: 0b101, cr2: DATA });
  });

  it('faults a user write to a read-only user page with P, W and U set', () => {
    tables(P | RW | US, DATA_PHYS | P | US);
    f.enablePaging(PD, 0x10);
    f.user();
    expect(f.run(store)).toMatchObject({ vector: 14, error: 0b111 });
  });

  it('takes U/S and R/W from both levels: a read-only PDE makes a writable PTE read-only for users', () => {
    tables(P | US, DATA_PHYS | P | RW | US);
    f.enablePaging(PD, 0x10);
    f.user();
    expect(f.run(load).vector).toBeUndefined();
    expect(f.run(store)).toMatchObject({ vector: 14, error: 0b111 });
  });

  it('lets a supervisor write a read-only page when CR0.WP is clear, and faults when it is set', () => {
    tables(P | RW | US, DATA_PHYS | P);
    f.enablePaging(PD, 0x10, false);
    expect(f.run(store).vector).toBeUndefined();
    f.reset();
    tables(P | RW | US, DATA_PHYS | P);
    f.enablePaging(PD, 0x10, true);
    expect(f.run(store)).toMatchObject({ vector: 14, error: 0b011 });
  });

  it('sets A in the PDE and PTE on a read, and D in the PTE only on a write', () => {
    tables(P | RW | US, DATA_PHYS | P | RW);
    f.enablePaging(PD, 0x10);
    expect(f.run(load).vector).toBeUndefined();
    expect(f.read32(PD + 4) & (A | D)).toBe(A);
    expect(f.read32(PT) & (A | D)).toBe(A);
    expect(f.run(store).vector).toBeUndefined();
    expect(f.read32(PT) & (A | D)).toBe(A | D);
    expect(f.read32(PD + 4) & D, 'a PDE that points to a table has no D bit').toBe(0);
  });

  it('sets D on the first write even when the translation was cached by an earlier read', () => {
    tables(P | RW | US, DATA_PHYS | P | RW);
    f.enablePaging(PD, 0x10);
    f.run(load);
    f.run(store);
    expect(f.read32(PT) & D).toBe(D);
  });

  it('maps a 4 MiB page with CR4.PSE and keeps its A and D bits in the PDE', () => {
    tables(P | RW | US, 0);
    f.write32(PD + 4, 0x400000 | P | RW | PS);
    f.enablePaging(PD, 0x10);
    f.h.writeMem(0x400000, [0x78, 0x56, 0x34, 0x12]);
    expect(f.run(load).vector).toBeUndefined();
    expect(f.h.getReg('eax')).toBe(0x12345678);
    expect(f.read32(PD + 4) & (A | D)).toBe(A);
    f.run(store);
    expect(f.read32(PD + 4) & (A | D)).toBe(A | D);
  });

  it('ignores PS without CR4.PSE and walks the entry as a page table pointer', () => {
    tables(P | RW | US, 0);
    f.write32(PD + 4, PT | P | RW | PS);
    f.write32(PT, DATA_PHYS | P | RW);
    f.write32(DATA_PHYS, 0xcafe);
    f.h.setControl('cr4', 0);
    // Identity for the code: map 0..4 MiB through a page table too, since PSE is off.
    const PT0 = 0x102000;
    for (let i = 0; i < 1024; i++) f.write32(PT0 + i * 4, (i << 12) | P | RW | US);
    f.write32(PD, PT0 | P | RW | US);
    f.enablePaging(PD, 0);
    expect(f.run(load).vector).toBeUndefined();
    expect(f.h.getReg('eax')).toBe(0xcafe);
  });

  it('keeps a global translation across a CR3 reload and drops a non-global one', () => {
    for (const [flags, expectStale] of [[G, true], [0, false]] as const) {
      f.reset();
      tables(P | RW | US, DATA_PHYS | P | RW | flags);
      f.write32(DATA_PHYS, 1);
      f.write32(DATA_PHYS + 0x1000, 2);
      f.enablePaging(PD, 0x10 | 0x80); // PSE, PGE
      f.run(load);
      f.write32(PT, (DATA_PHYS + 0x1000) | P | RW | flags);
      // mov eax, cr3 ; mov cr3, eax ; then the load again
      expect(f.run([0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8, ...load]).vector).toBeUndefined();
      expect(f.h.getReg('eax'), flags ? 'global: stale' : 'not global: refetched').toBe(expectStale ? 1 : 2);
    }
  });

  it('INVLPG drops a global translation', () => {
    tables(P | RW | US, DATA_PHYS | P | RW | G);
    f.write32(DATA_PHYS, 1);
    f.write32(DATA_PHYS + 0x1000, 2);
    f.enablePaging(PD, 0x10 | 0x80);
    f.run(load);
    f.write32(PT, (DATA_PHYS + 0x1000) | P | RW | G);
    // invlpg [DATA]
    expect(f.run([0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00, ...load]).vector).toBeUndefined();
    expect(f.h.getReg('eax')).toBe(2);
  });

  it('faults an access that straddles a present and a not-present page with CR2 at the second page', () => {
    tables(P | RW | US, DATA_PHYS | P | RW);
    f.enablePaging(PD, 0x10);
    // mov eax, [DATA + 0xffe]: bytes in page 0 (present) and page 1 (not present)
    const r = f.run([0xa1, 0xfe, 0x0f, 0x40, 0x00]);
    expect(r).toMatchObject({ vector: 14, error: 0, cr2: DATA + 0x1000 });
  });

  it('stops REP MOVSD at a not-present destination page with ECX/ESI/EDI of the elements done, and resumes', () => {
    tables(P | RW | US, DATA_PHYS | P | RW); // DATA present; DATA + 0x1000 (PT index 1) not yet
    f.enablePaging(PD, 0x10);
    const SRC = 0x200000; // identity-mapped by the 4 MiB page
    const src = Uint8Array.from({ length: 0x1000 }, (_, i) => (i * 7 + 3) & 0xff);
    f.h.writeMem(SRC, src);
    f.h.writeMem(DATA_PHYS, new Uint8Array(0x2000));
    f.h.setReg('esi', SRC);
    f.h.setReg('edi', DATA + 0x800);
    f.h.setReg('ecx', 0x400);
    const rep = [0xf3, 0xa5];
    // SDM 7.3.9.1: the fault comes at element 0x200, the first in the missing page, after 0x200 were done.
    expect(f.run(rep)).toMatchObject({ vector: 14, error: 0b010, cr2: DATA + 0x1000 });
    const s = f.h.getState();
    expect([s.ecx, s.esi, s.edi]).toEqual([0x200, SRC + 0x800, DATA + 0x1000]);
    expect(f.h.readMem(DATA_PHYS + 0x800, 0x800)).toEqual(src.subarray(0, 0x800));
    expect(f.h.readMem(DATA_PHYS + 0x1000, 4)).toEqual(new Uint8Array(4));
    // What the guest's handler does: map the page and return to the instruction, which goes on from there.
    f.write32(PT + 4, (DATA_PHYS + 0x1000) | P | RW);
    f.reset();
    f.enablePaging(PD, 0x10);
    for (const r of ['ecx', 'esi', 'edi'] as const) f.h.setReg(r, s[r]);
    expect(f.run(rep).vector).toBeUndefined();
    const t = f.h.getState();
    expect([t.ecx, t.esi, t.edi]).toEqual([0, SRC + 0x1000, DATA + 0x1800]);
    expect(f.h.readMem(DATA_PHYS + 0x800, 0x1000)).toEqual(src);
  });

  it('stops REP STOSB going down (DF=1) at a not-present page below with CR2 at its last byte', () => {
    tables(P | RW | US, 0); // DATA not present
    f.write32(PT + 4, (DATA_PHYS + 0x1000) | P | RW);
    f.h.writeMem(DATA_PHYS + 0x1000, new Uint8Array(0x20));
    f.enablePaging(PD, 0x10);
    f.h.setReg('eflags', 0x402);
    f.h.setReg('eax', 0xab);
    f.h.setReg('edi', DATA + 0x1010);
    f.h.setReg('ecx', 0x100);
    expect(f.run([0xf3, 0xaa])).toMatchObject({ vector: 14, error: 0b010, cr2: DATA + 0xfff });
    const s = f.h.getState();
    expect([s.ecx, s.edi]).toEqual([0x100 - 0x11, DATA + 0xfff]);
    expect(f.h.readMem(DATA_PHYS + 0x1000, 0x12)).toEqual(Uint8Array.from([...new Array(0x11).fill(0xab), 0]));
  });

  it('leaves the register file untouched when the store half of a read-modify-write faults', () => {
    tables(P | RW | US, DATA_PHYS | P | US);
    f.enablePaging(PD, 0x10, true);
    f.h.setReg('eax', 5);
    // add [DATA], eax on a read-only page: #PF with W set, memory and flags unchanged
    f.write32(DATA_PHYS, 7);
    expect(f.run([0x01, 0x05, 0x00, 0x00, 0x40, 0x00])).toMatchObject({ vector: 14, error: 0b011 });
    expect(f.read32(DATA_PHYS)).toBe(7);
  });
});

describe('PAE paging', () => {
  const f = new MmuFixture();
  beforeEach(() => f.reset());
  const PDPT = 0x100000;
  const PD0 = 0x101000;
  const PT0 = 0x102000;

  function tables(pte: bigint): void {
    for (const t of [PDPT, PD0, PT0]) f.h.writeMem(t, new Uint8Array(4096));
    f.write64(PDPT, BigInt(PD0 | P));
    f.write64(PD0, BigInt(0 | P | RW | US | PS)); // 0..2 MiB, 2 MiB page
    f.write64(PD0 + 8 * 2, BigInt(PT0 | P | RW | US)); // 4..6 MiB through a page table
    f.write64(PT0, pte); // DATA = 0x400000 is PD index 2, PT index 0
  }

  it('translates through a 4 KiB PAE page and sets A and D in the 64-bit entry', () => {
    tables(BigInt(DATA_PHYS | P | RW));
    f.write32(DATA_PHYS, 0xabcd);
    f.enablePaging(PDPT, 0x20);
    expect(f.run(load).vector).toBeUndefined();
    expect(f.h.getReg('eax')).toBe(0xabcd);
    f.run(store);
    expect(Number(f.read64(PT0) & BigInt(A | D))).toBe(A | D);
  });

  it('translates through a 2 MiB page', () => {
    tables(0n);
    f.write64(PD0 + 8 * 2, BigInt(0x600000 | P | RW | PS));
    f.write32(0x600000, 0x1234);
    f.enablePaging(PDPT, 0x20);
    expect(f.run(load).vector).toBeUndefined();
    expect(f.h.getReg('eax')).toBe(0x1234);
  });

  it('faults a reserved bit in a PTE with RSVD and P set', () => {
    tables(BigInt(DATA_PHYS | P | RW) | (1n << 40n));
    f.enablePaging(PDPT, 0x20);
    expect(f.run(load)).toMatchObject({ vector: 14, error: 0b1001 });
  });

  it('faults reserved address bits 20:13 of a 2 MiB page', () => {
    tables(0n);
    f.write64(PD0 + 8 * 2, BigInt(0x600000 | 0x2000 | P | RW | PS));
    f.enablePaging(PDPT, 0x20);
    expect(f.run(load)).toMatchObject({ vector: 14, error: 0b1001 });
  });

  it('treats XD as reserved while EFER.NXE is clear', () => {
    tables(BigInt(DATA_PHYS | P | RW) | XD);
    f.enablePaging(PDPT, 0x20);
    expect(f.run(load)).toMatchObject({ vector: 14, error: 0b1001 });
  });

  it('allows data accesses but faults instruction fetches from an XD page with I/D set when NXE is on', () => {
    tables(BigInt(DATA_PHYS | P | RW | US) | XD);
    f.h.setEfer(1 << 11);
    f.enablePaging(PDPT, 0x20);
    expect(f.run(load).vector).toBeUndefined();
    // jmp DATA (E9 rel32 from CODE+5)
    const rel = (DATA - (CODE + 5)) >>> 0;
    const r = f.run([0xe9, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, rel >>> 24]);
    expect(r).toMatchObject({ vector: 14, error: 0b10001, cr2: DATA });
  });

  it('refuses a CR3 whose PDPT has a reserved bit in a present entry with #GP', () => {
    tables(BigInt(DATA_PHYS | P | RW));
    f.enablePaging(PDPT, 0x20);
    const PDPT2 = 0x103000;
    f.h.writeMem(PDPT2, new Uint8Array(4096));
    f.write64(PDPT2, BigInt(PD0 | P | RW)); // R/W is reserved in a PAE PDPTE
    // mov eax, PDPT2 ; mov cr3, eax
    expect(f.run([0xb8, 0x00, 0x30, 0x10, 0x00, 0x0f, 0x22, 0xd8])).toMatchObject({ vector: 13, error: 0 });
    expect(f.h.getState().cr3).toBe(PDPT);
  });
});

describe('physical accesses', () => {
  const f = new MmuFixture();
  beforeEach(() => f.reset());

  it('splits an access that straddles the end of RAM into RAM bytes and MMIO bytes', () => {
    const ramEnd = 8 * 1024 * 1024;
    const seen: Array<[number, number, number]> = [];
    f.h.mmio = {
      read: (addr, size) => { seen.push([addr, size, 0]); return 0xaa; },
      write: (addr, size, value) => { seen.push([addr, size, value]); },
    };
    f.h.writeMem(ramEnd - 2, [0x11, 0x22]);
    // mov eax, [ramEnd - 2] ; mov [ramEnd - 2], ebx
    const a = ramEnd - 2;
    const bytes = [a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, a >>> 24];
    f.h.setReg('ebx', 0x44332211);
    expect(f.run([0xa1, ...bytes, 0x89, 0x1d, ...bytes]).vector).toBeUndefined();
    expect(f.h.getReg('eax')).toBe(0xaaaa2211);
    expect(seen).toEqual([[ramEnd, 1, 0], [ramEnd + 1, 1, 0], [ramEnd, 1, 0x33], [ramEnd + 1, 1, 0x44]]);
    expect(Array.from(f.h.readMem(ramEnd - 2, 2))).toEqual([0x11, 0x22]);
  });
});

describe('the TLB', () => {
  const f = new MmuFixture();
  beforeEach(() => f.reset());

  it('drops every translation at a CR3 reload after more pages were filled than its list of filled entries holds', () => {
    // 0..4 MiB identity; linear 256 MiB .. 1 GiB: 4 MiB pages all mapping physical 4..8 MiB.
    const pd = 0x100000;
    f.h.writeMem(pd, new Uint8Array(4096));
    f.write32(pd, P | RW | PS);
    for (let i = 64; i < 256; i++) f.write32(pd + 4 * i, 0x400000 | P | RW | PS);
    const pages = 140_000; // more than the 131,071 entries the filled list holds
    const last = 0x1000_0000 + (pages - 1) * 0x1000;
    f.write32(0x400000 + (last & 0x3fffff), 0x1111_1111);
    f.write32(last & 0x3fffff, 0x2222_2222);
    f.enablePaging(pd, 0x10);
    // mov esi, 0x10000000 ; mov ecx, pages ; l: mov eax, [esi] ; add esi, 0x1000 ; dec ecx ; jnz l ; mov ebx, eax
    // Then the last page's 4 MiB page maps physical 0..4 MiB, and a CR3 reload must drop the entry filled last:
    // mov dword [pde], P|RW|PS ; mov eax, cr3 ; mov cr3, eax ; mov eax, [last] ; hlt
    const d = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
    f.h.writeMem(CODE, [
      0xbe, ...d(0x1000_0000), 0xb9, ...d(pages), 0x8b, 0x06, 0x81, 0xc6, ...d(0x1000), 0x49, 0x75, 0xf5, 0x89, 0xc3,
      0xc7, 0x05, ...d(pd + 4 * (last >>> 22)), ...d(P | RW | PS), 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8, 0xa1, ...d(last), 0xf4,
    ]);
    f.h.setReg('eip', CODE);
    while (!f.h.getState().halted) f.h.step(100_000);
    expect(f.h.getReg('ebx')).toBe(0x1111_1111);
    expect(f.h.getReg('eax')).toBe(0x2222_2222);
  });
});
