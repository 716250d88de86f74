/**
 * `outpost route add` input checks, run in-process against a temporary store: a bad pattern
 * says why, whole-number options say their range, and nothing is written.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertRefused, cliRunner, writeConfig } from './cli-test-support.ts';
import { registerRouteCommands } from './route-command.ts';

const run = cliRunner((program, out) => registerRouteCommands(program, out, out));

const test = suite<{ config: string }>('route add');

test.before.each((ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-route-cli-'));
  ctx.config = writeConfig(dir, 'a1.yaml', 'node: { id: a1, site: branch-a }\ndataDir: ./data\nsip: { domain: branch-a.example, listen: ["udp:127.0.0.1:5070"] }\n');
});

test('--strip and --priority out of range or not whole numbers say the valid range', (ctx) => {
  const c = ['--config', ctx.config];
  assertRefused(run, ['route', 'add', '12', '--strip', '-1', ...c], /^invalid --strip "-1": use a whole number of 0 or more$/);
  assertRefused(run, ['route', 'add', '12', '--strip', '1.5', ...c], /^invalid --strip "1\.5": use a whole number of 0 or more$/);
  assertRefused(run, ['route', 'add', '12', '--priority', '1.5', ...c], /^invalid --priority "1\.5": use a whole number from -1000000 to 1000000$/);
  assertRefused(run, ['route', 'add', '12', '--priority', '2000000', ...c], /^invalid --priority "2000000": use a whole number from -1000000 to 1000000$/);
});

test('an invalid pattern says which character is wrong and what is allowed', (ctx) => {
  const c = ['--config', ctx.config];
  assertRefused(run, ['route', 'add', '9.1', ...c], /^invalid pattern "9\.1": character 2 is "\." but "\." is allowed only as the last character \(one or more of anything\)$/);
  assertRefused(run, ['route', 'add', '[5-1]XX', ...c], /^invalid pattern "\[5-1\]XX": the set "\[5-1\]" at character 1 has the range 5-1, which goes downwards: write it low to high \(1-5\)$/);
  assertRefused(run, ['route', 'add', '0800-FREE', ...c], /^invalid pattern "0800-FREE": character 5 "-" is not allowed; a pattern may hold digits, \* # \+, X \(0-9\)/);
});

test('valid options still add the route', (ctx) => {
  assert.equal(run(['route', 'add', '9.', '--strip', '1', '--priority', '-5', '--id', 'out', '--config', ctx.config]), ['route out: 9. -> extension (priority -5)']);
});

test.run();
