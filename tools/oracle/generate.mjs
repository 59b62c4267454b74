#!/usr/bin/env node
// Generates the host-CPU differential vectors in test/fixtures/host-diff/.
//
//   make -C tools/oracle && node tools/oracle/generate.mjs [--out DIR] [--group NAME]...
//
// Every form draws its cases from a PRNG seeded by the form's name, runs them through
// the native oracle (tools/oracle/oracle) and writes one gzip'd JSON-lines file per
// group. The same host CPU therefore always produces byte-identical fixtures.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Case, decodeResults, encodeCases, rngFor, vectorJson } from './lib.mjs';
import { forms as intForms } from './forms-int.mjs';
import { forms as miscForms } from './forms-misc.mjs';
import { forms as x87Forms } from './forms-x87.mjs';
import { forms as bulkForms } from './forms-bulk.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outDir = resolve(option('--out') ?? join(here, '../../test/fixtures/host-diff'));
const oracle = resolve(option('--oracle') ?? join(here, 'oracle'));
// Groups that a 64-bit program runs (oracle64.c: long REP MOVS/STOS with an address-size prefix).
const oracle64 = resolve(option('--oracle64') ?? join(here, 'oracle64'));
const GROUPS_64 = new Set(['string-bulk']);
const onlyGroups = args.flatMap((a, i) => (args[i - 1] === '--group' ? [a] : []));

const allForms = [...intForms, ...miscForms, ...x87Forms, ...bulkForms];
const names = new Set();
for (const f of allForms) {
  if (names.has(f.name)) throw new Error(`generate: form "${f.name}" is defined twice`);
  names.add(f.name);
}

const groups = [...new Set(allForms.map((f) => f.group))].filter((g) => !onlyGroups.length || onlyGroups.includes(g));
mkdirSync(outDir, { recursive: true });

for (const group of groups) {
  const cases = [];
  for (const f of allForms.filter((x) => x.group === group)) {
    const rng = rngFor(f.name);
    for (let i = 0; i < f.count; i++) {
      const c = new Case(f.name, rng);
      f.gen(c);
      cases.push(c);
    }
  }
  const exe = GROUPS_64.has(group) ? oracle64 : oracle;
  const run = spawnSync(exe, { input: encodeCases(cases), maxBuffer: 1 << 30 });
  if (run.error) throw new Error(`generate: cannot run ${exe} (${run.error.message}); build it with make -C tools/oracle`);
  if (run.status !== 0) throw new Error(`generate: oracle failed on group ${group}: ${run.stderr}`);
  const results = decodeResults(run.stdout, cases);
  const lines = cases.map((c, i) => {
    if (c.fixup) c.fixup(c, results[i]);
    return vectorJson(c, results[i]);
  });
  const gz = gzipSync(lines.join('\n') + '\n', { level: 9 });
  writeFileSync(join(outDir, `${group}.jsonl.gz`), gz);
  const exceptions = results.filter((r) => 'exception' in r).length;
  console.log(`${group}: ${cases.length} cases, ${exceptions} exceptions, ${(gz.length / 1024).toFixed(0)} KiB`);
}
