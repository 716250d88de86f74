/**
 * The hub's SIGHUP check (checkHubConfigAgain): the file read again against the running config,
 * with a logger writing into memory.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadHubConfig } from '../config/load-config.ts';
import { createLogger } from '../lib/logger.ts';
import { checkHubConfigAgain } from './hub-command.ts';

function memoryLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ destination }), lines };
}

const test = suite('outpost hub: SIGHUP reads the file again');

const BASE = 'id: hub\ndataDir: ./hub-data\nmqtt: { listen: "mqtts://127.0.0.1:0" }\n';

test('a changed file: the changed keys are named as waiting for the next start', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'outpost-hub-hup-')), 'hub.yaml');
  writeFileSync(file, BASE);
  const running = loadHubConfig(file);
  writeFileSync(file, `${BASE}log: { level: debug }\nupdates: { keepBundles: 5 }\n`);
  const { logger, lines } = memoryLogger();
  assert.equal(checkHubConfigAgain(file, running, logger), ['log.level', 'updates.keepBundles']);
  assert.equal(lines.map((l) => [l['msg'], l['changed']]), [['config file read again: these keys take effect at the next start of the hub', ['log.level', 'updates.keepBundles']]]);
});

test('an unchanged file: nothing changed', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'outpost-hub-hup-')), 'hub.yaml');
  writeFileSync(file, BASE);
  const { logger, lines } = memoryLogger();
  assert.equal(checkHubConfigAgain(file, loadHubConfig(file), logger), []);
  assert.equal(lines.map((l) => l['msg']), ['config file read again: nothing changed']);
});

test('an invalid file: its problem is logged with the key and the file, the running config stays', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'outpost-hub-hup-')), 'hub.yaml');
  writeFileSync(file, BASE);
  const running = loadHubConfig(file);
  writeFileSync(file, `${BASE}updates: { keepBundles: -1 }\n`);
  const { logger, lines } = memoryLogger();
  assert.equal(checkHubConfigAgain(file, running, logger), []);
  assert.is(lines.length, 1);
  assert.is(lines[0]!['msg'], 'config file not valid; the hub runs on with the config it started with');
  assert.match(String(lines[0]!['err']), file);
  assert.match(String(lines[0]!['err']), 'updates.keepBundles');
});

test.run();
