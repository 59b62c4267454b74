#!/usr/bin/env node
// Compare two fixture directories vector by vector, ignoring what each vector marks as
// undefined (flagsMask, regsMask, fswMask, stUndefined). Used by ci-regenerate.sh when a
// regeneration is not byte-identical: a different host CPU may legitimately disagree in
// undefined bits, and x87 transcendental results are implementation-specific.
//
//   node tools/oracle/compare.mjs COMMITTED_DIR FRESH_DIR
// Exit status 1 when a group other than x87-trans differs in defined state.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const [committedDir, freshDir] = process.argv.slice(2);
if (!committedDir || !freshDir) {
  console.error('usage: compare.mjs COMMITTED_DIR FRESH_DIR');
  process.exit(2);
}
const HOST_SPECIFIC = new Set(['x87-trans']);
const load = (dir, file) => gunzipSync(readFileSync(join(dir, file))).toString().trim().split('\n').map((l) => JSON.parse(l));

/** The defined part of a final state, as a comparable string. */
function defined(v) {
  const f = v.final;
  if ('exception' in f) return JSON.stringify(f);
  const regs = {};
  for (const r of ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi']) regs[r] = (f[r] & ~(v.regsMask?.[r] ?? 0)) >>> 0;
  const fpu = f.fpu && {
    ...f.fpu,
    sw: f.fpu.sw & ~v.fswMask,
    st: f.fpu.st.map((x, i) => (v.stUndefined?.includes(i) ? '?' : x)),
  };
  return JSON.stringify({ regs, eflags: f.eflags & ~v.flagsMask, mem: f.mem, fpu });
}

let failed = false;
const files = new Set([...readdirSync(committedDir), ...readdirSync(freshDir)].filter((f) => f.endsWith('.jsonl.gz')));
for (const file of [...files].sort()) {
  const group = file.replace('.jsonl.gz', '');
  let a, b;
  try {
    a = load(committedDir, file);
    b = load(freshDir, file);
  } catch (e) {
    console.log(`${group}: present in only one directory (${e.message})`);
    failed = true;
    continue;
  }
  const forms = new Map();
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    const same = x && y && x.form === y.form && x.bytes === y.bytes && JSON.stringify(x.init) === JSON.stringify(y.init) && defined(x) === defined(y);
    if (!same) forms.set((x ?? y).form, (forms.get((x ?? y).form) ?? 0) + 1);
  }
  if (forms.size === 0) continue;
  const list = [...forms].map(([f, c]) => `${f} (${c})`).join(', ');
  if (HOST_SPECIFIC.has(group)) console.log(`${group}: host-specific results differ: ${list}`);
  else {
    console.log(`${group}: defined state differs: ${list}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
