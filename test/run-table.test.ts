// The run table: 'stalls' holds only stalls; a skipped variant's reason, a receiver's missing
// result and the group's summary are notes, in the last column (checked on the checked-in seed-002
// lab run, with a skipped variant and a failed receiver added).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../src/core/run-report.js';
import { runTable, runTableRows } from '../src/report/run-table.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'report', 'seed-002-querier.run.json');
const load = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as RunReport;

describe('run table', () => {
  it('stalls are stalls (a duration@start per stall, or a count), notes have their own column', () => {
    const r = load();
    r.variants[0]!.receivers[0] = { ...r.variants[0]!.receivers[0]!, result: null, error: 'exited 1: no such interface' };
    r.variants.push({ ...r.variants[1]!, name: 'v6', skipped: 'the lab has no IPv6 addresses', receivers: [] });
    const lines = runTable(r);
    expect(lines[0]).toMatch(/\bstalls  notes$/);
    const rows = runTableRows(r);
    for (const row of rows) {
      expect(row).toHaveLength(13);
      expect(row[11], row.join('|')).toMatch(/^(|\d+|(\d+s@\d+s)( \d+s@\d+s)*)$/);
    }
    const at = (variant: string, guest: string) => rows.find((x) => x[0] === variant && x[1] === guest)!;
    expect(at('default', 'g2')[12]).toBe('exited 1: no such interface');
    expect(at('default', 'g3')[11]).toBe('5s@3s');
    expect(at('default', 'group')[12]).toMatch(/^2\/2 lost packets; worst g2 38\.57%/);
    expect(at('v6', '-')[12]).toBe('the lab has no IPv6 addresses');
    // the notes are left-aligned: each starts where the header's 'notes' does
    const col = lines[0]!.indexOf('notes');
    expect(lines.find((l) => l.startsWith('v6'))!.slice(col)).toBe('the lab has no IPv6 addresses');
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
  });

  it('without a note, no notes column', () => {
    const r = load();
    r.variants = r.variants.map((v) => ({ ...v, receivers: v.receivers.slice(0, 1) })); // one receiver: no group row
    const lines = runTable(r);
    expect(lines[0]).toMatch(/\bstalls$/);
    expect(lines.find((l) => l.startsWith('default'))).toMatch(/ 5s@3s$/);
  });
});
