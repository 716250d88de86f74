/**
 * What a new user meets when the config is valid but this host cannot carry it out: each is
 * one line on stderr naming the config key, its value and the file, with a non-zero exit and
 * no stack trace. Runs alone too: node --import tsx test/integration/cli-host-errors.test.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, tempDir } from '../helpers/node-process.ts';

const BOX = (dataDir: string, extra = '') => `node: { id: a1, site: branch-a }
dataDir: ${dataDir}
log: { level: warn }
sip: { domain: branch-a.example, listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"] }
${extra}`;

/** Runs `outpost ...args`; asserts exit 1 and exactly one stderr line, and returns that line. */
async function oneLineFailure(args: string[], cwd: string): Promise<string> {
  const res = await runCli(args, cwd);
  assert.is(res.code, 1, `${args.join(' ')}: ${res.stderr}`);
  const lines = res.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `one line on stderr, got:\n${res.stderr}`);
  assert.not.match(res.stderr, /\n\s+at /);
  return lines[0]!;
}

const test = suite('host errors in config terms');

test('a dataDir under a regular file: node, user add, status', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file'), 'a file, not a folder');
  const config = join(dir, 'outpost.yaml');
  writeFileSync(config, BOX('./file/data'));
  const expected = `outpost: config error: dataDir ${join(dir, 'file/data')} in ${config}: cannot create it: ${join(dir, 'file')} is a file, not a folder`;
  assert.is(await oneLineFailure(['node', '--config', config], dir), expected);
  assert.is(await oneLineFailure(['user', 'add', '1001', '--password', 'long-enough', '--config', config], dir), expected);
  writeFileSync(config, BOX('./file'));
  assert.is(await oneLineFailure(['status', '--config', 'outpost.yaml'], dir), `outpost: config error: dataDir ${join(dir, 'file')} in ${config}: it is a file, not a folder`);
});

test.run();
