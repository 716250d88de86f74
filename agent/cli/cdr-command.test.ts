import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from './cli-error.ts';
import { parseSince, registerCdrCommands } from './cdr-command.ts';
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
