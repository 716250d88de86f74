import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateReport } from './update-report.ts';

const test = suite('update report');
let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-update-report-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('a fresh box: its version, no health check, no update', () => {
  assert.equal(updateReport(dir, 'VERSION=0.1.0+abc\n'), ['version  0.1.0+abc', 'health   no health check yet', 'update   none yet']);
});

test('after a rollback: the bad slot, where it fell back to, and the update rolled back', () => {
  mkdirSync(join(dir, 'update'));
  writeFileSync(join(dir, 'update', 'health.json'), JSON.stringify({ slot: 'A', version: '2.0', seconds: 12.5, at: '2026-12-07T19:00:00.000Z', result: 'bad', reason: 'the agent was restarted 3 times', fallBackTo: 'B' }));
  writeFileSync(join(dir, 'update', 'state.json'), JSON.stringify({ phase: 'rolled-back', version: '2.0', running: '1.0', slot: 'B', targetSlot: 'A', since: Date.UTC(2026, 11, 7, 19, 2), error: 'slot A (2.0) failed its health check' }));
  const lines = updateReport(dir, 'VERSION=1.0\n');
  assert.is(lines[1], 'health   slot A (2.0) bad: the agent was restarted 3 times; fell back to slot B after 12.5 s, 2026-12-07T19:00:00.000Z');
  assert.is(lines[2], 'update   rolled-back 2.0 into slot A since 2026-12-07T19:02:00.000Z (slot A (2.0) failed its health check)');
});

test.run();
