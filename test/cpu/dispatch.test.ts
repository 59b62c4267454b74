// The interpreter reaches handlers through a switch (dispatchOp in src/cpu/optable.ts) written beside the def()
// table it mirrors. Both are source: read them and check that each opcode's case names the handler def() gives
// it, and that every defined opcode has a case (one without still runs, through the slower table).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const source = readFileSync(join(__dirname, '../../src/cpu/optable.ts'), 'utf8');

/** Opcode -> handler, as the def() and defRange() calls (and the ALU loop) assign them. */
function definedHandlers(): Map<number, string> {
  const table = new Map<number, string>();
  const loop = /for \(let op: u32 = 0; op < 0x40; op \+= 8\) \{([^}]*)\}/.exec(source);
  if (!loop) throw new Error('the ALU loop of optable.ts changed shape');
  for (const [, k, h] of loop[1]!.matchAll(/def\(op(?: \+ (\d))?, [^;]*?, (\w+)\);/g)) {
    for (let op = 0; op < 0x40; op += 8) table.set(op + Number(k ?? 0), h!);
  }
  for (const [, op, h] of source.matchAll(/\bdef\((0x[0-9a-f]+), [^;]*?, (\w+)\);/g)) table.set(Number(op), h!);
  for (const [, first, last, h] of source.matchAll(/defRange\((0x[0-9a-f]+), (0x[0-9a-f]+), [^;]*?, (\w+)\);/g)) {
    for (let op = Number(first); op <= Number(last); op++) table.set(op, h!);
  }
  return table;
}

/** Opcode -> handler, as dispatchOp's cases call them. */
function switchHandlers(): Map<number, string> {
  const body = /export function dispatchOp\(op: u32\): void \{([\s\S]*?)\n\}/.exec(source);
  if (!body) throw new Error('dispatchOp not found in optable.ts');
  const cases = new Map<number, string>();
  for (const [, labels, h] of body[1]!.matchAll(/((?:case 0x[0-9a-f]+:\s*)+)(\w+)\(\); return;/g)) {
    for (const [, op] of labels!.matchAll(/case (0x[0-9a-f]+):/g)) {
      expect(cases.has(Number(op)), `opcode ${op} has two cases`).toBe(false);
      cases.set(Number(op), h!);
    }
  }
  return cases;
}

describe('interpreter dispatch', () => {
  it('calls the handler def() gives each opcode, for every defined opcode', () => {
    const defined = definedHandlers();
    const cases = switchHandlers();
    expect(defined.size).toBeGreaterThan(300); // the parse found the table
    for (const [op, h] of defined) expect(cases.get(op), `opcode 0x${op.toString(16)}`).toBe(h);
    for (const op of cases.keys()) expect(defined.has(op), `opcode 0x${op.toString(16)} has a case but no def()`).toBe(true);
  });
});
