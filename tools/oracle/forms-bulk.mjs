// Long REP MOVS and REP STOS runs (group `string-bulk`, run by oracle64.c on a 64-bit host):
// up to thousands of bytes, so runs cross pages at every alignment, in both directions, and
// MOVS with source and destination overlapping at small distances, where a copy that is not
// element by element gives another result. The data are a pattern rather than random bytes
// so that the fixture compresses (a copied run repeats the source bytes).

import { DATA_BASE, DF, EAX, ECX, EDI, ESI } from './lib.mjs';
import { prefix, wide } from './forms-int.mjs';

export const forms = [];
const LOW = DATA_BASE + 0x100, HIGH = DATA_BASE + 0xe000; // below the oracle's stack page
const MAX_BYTES = 6000;

/** Byte i of the pattern seeded by `seed`: not periodic within a run, cheap to compress. */
const pattern = (n, seed) => Array.from({ length: n }, (_, i) => (i * 0x9d + (i >> 7) * 0x3b + seed) & 0xff);

function bulkForm(op, opcode, size) {
  const bytes = size / 8;
  const name = `bulk rep ${op}${size === 8 ? 'b' : size === 16 ? 'w' : 'd'}`;
  forms.push({
    group: 'string-bulk', name, count: 200, gen: (c) => {
      const rng = c.rng;
      const r = rng.below(10);
      const n = r < 2 ? rng.below(17) : r < 6 ? rng.below(Math.floor(700 / bytes)) : rng.below(Math.floor(MAX_BYTES / bytes) + 1);
      const len = n * bytes;
      const down = rng.chance(0.5);
      if (down) c.eflags |= DF; else c.eflags &= ~DF;
      // [start, start+len) is what the run touches; the first element is at its low end going up and at
      // its high end going down.
      const span = (first) => (down ? first - len + bytes : first);
      let dst, src = 0;
      if (op === 'movs' && rng.chance(0.4)) {
        const d = rng.chance(0.6) ? rng.pick([1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 63, 64, 65, 4095, 4096]) : rng.below(len + 2);
        const sign = rng.chance(0.5) ? 1 : -1;
        const margin = Math.max(len + 2, 4097);
        const lo = LOW + margin, hi = HIGH - margin - len;
        dst = lo + rng.below(hi - lo) + (down ? len - bytes : 0);
        src = dst + sign * d;
      } else {
        dst = LOW + rng.below(HIGH - LOW - len) + (down ? len - bytes : 0);
        if (op === 'movs') src = LOW + rng.below(HIGH - LOW - len) + (down ? len - bytes : 0);
      }
      if (op === 'movs') {
        c.poke(span(src), pattern(len, rng.below(256)));
        c.setReg(32, ESI, src);
      }
      c.setReg(32, EDI, dst).setReg(32, ECX, n).setReg(32, EAX, rng.u32());
      c.emit(0xf3);
      prefix(c, size).emit(wide(size, opcode));
    },
  });
}
for (const size of [8, 16, 32]) {
  bulkForm('movs', 0xa4, size);
  bulkForm('stos', 0xaa, size);
}
