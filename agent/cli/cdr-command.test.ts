import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from './cli-error.ts';
import type { CdrRecord } from '../store/cdrs.ts';
import { formatCdr, parseSince, registerCdrCommands } from './cdr-command.ts';
import { assertRefused, cliRunner } from './cli-test-support.ts';

const since = suite('parseSince');
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

since('ages and ISO times; a time without a zone is UTC', () => {
  assert.is(parseSince('15m', NOW), NOW - 15 * 60_000);
  assert.is(parseSince('2h', NOW), NOW - 2 * 3_600_000);
  assert.is(parseSince('7d', NOW), NOW - 7 * 86_400_000);
  assert.is(parseSince('2026-11-21T10:00', NOW), Date.UTC(2026, 10, 21, 10, 0));
  assert.is(parseSince('2026-11-21 10:00:30', NOW), Date.UTC(2026, 10, 21, 10, 0, 30));
  assert.is(parseSince('2026-11-21T10:00+01:00', NOW), Date.UTC(2026, 10, 21, 9, 0));
});

since('anything else is a one-line CliError', () => {
  assert.throws(() => parseSince('yesterday', NOW), (e: unknown) => e instanceof CliError && /invalid --since/.test((e as Error).message));
});

since.run();

const limit = suite('cdr list --limit');

limit('0, a negative or a fraction says the valid range, before the config is read', () => {
  const run = cliRunner(registerCdrCommands);
  for (const text of ['0', '-3', '2.5']) {
    assertRefused(run, ['cdr', 'list', '--limit', text, '--config', '/nonexistent.yaml'], new RegExp(`^invalid --limit "${text.replace('.', '\\.')}": use a whole number of 1 or more$`));
  }
});

limit.run();

const text = suite('cdr list text output');

const CDR: CdrRecord = {
  uuid: '01a20011-8153-737e-9e34-74aa050b84ca', nodeId: 'a1', caller: '1001', callee: '1002',
  startedAt: Date.UTC(2026, 10, 21, 21, 44, 36), answeredAt: Date.UTC(2026, 10, 21, 21, 44, 37), endedAt: Date.UTC(2026, 10, 21, 21, 44, 39), durationMs: 2011,
  disposition: 'answered', sipStatus: 200, sipReason: 'caller hung up', endedBy: 'caller', codecA: 'PCMA/8000', codecB: 'PCMA/8000',
  aCallId: 'a@x', bCallId: 'b@outpost', media: '{}', link: '',
};

text('one codec when both legs have it, caller\'s→callee\'s when the box transcoded', () => {
  assert.is(formatCdr(CDR), '2026-11-21 21:44:36  1001     -> 1002     answered    200     2s  PCMA/8000  ended by caller  01a20011-8153-737e-9e34-74aa050b84ca');
  assert.match(formatCdr({ ...CDR, codecA: 'PCMU/8000', codecB: 'opus/48000' }), '  PCMU/8000→opus/48000  ended by caller');
  // Unanswered: the offer's first codec only; nothing known at all: "-".
  assert.match(formatCdr({ ...CDR, codecB: '' }), '  PCMA/8000  ended by');
  assert.match(formatCdr({ ...CDR, codecA: '', codecB: '' }), '  -  ended by');
});

text('a call that crossed boxes ends with its link', () => {
  assert.is(formatCdr({ ...CDR, link: '01a20011-0000-737e-9e34-74aa050b84ca' }), `${formatCdr(CDR)}  link 01a20011-0000-737e-9e34-74aa050b84ca`);
});

text.run();
