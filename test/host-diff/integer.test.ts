// Host-CPU differential tests: every integer form the oracle recorded must match the host CPU exactly,
// except for the flags and register bits the SDM calls undefined (masked per vector).
import { describe, it, expect } from 'vitest';
import { listGroups, loadVectors, byForm } from './vectors';
import { DiffRunner } from './runner';

const runner = new DiffRunner();
const groups = listGroups().filter((g) => !g.startsWith('x87'));

describe('integer instructions against the host CPU', () => {
  for (const group of groups) {
    it(`${group}: every case of every form matches`, () => {
      const failures: string[] = [];
      let failedCases = 0;
      for (const [form, cases] of byForm(loadVectors(group))) {
        let bad = 0;
        let first = '';
        for (const v of cases) {
          const o = runner.run(v);
          if (!o.ok) {
            if (!bad) first = `${v.bytes}: ${o.detail}`;
            bad++;
          }
        }
        if (bad) {
          failedCases += bad;
          failures.push(`${form}: ${bad}/${cases.length} fail, e.g. ${first}`);
        }
      }
      expect(failures, `${failedCases} failing cases`).toEqual([]);
    });
  }
});
