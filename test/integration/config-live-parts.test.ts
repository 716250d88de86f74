/**
 * Live keys reach the parts of a real node (buildNode with a config file, standalone): a
 * desired document in its store changes the log level and the flood guard's rate limit and
 * trusted sources once the node refreshes; restart-only keys do not touch the parts.
 * Runs alone too: node --import tsx test/integration/config-live-parts.test.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../agent/config/load-config.ts';
import { createLogger } from '../../agent/lib/logger.ts';
import { buildNode } from '../../agent/main.ts';

const test = suite('liveReconfigurer');

test('a pushed document changes the log level and the flood guard at once, and reports the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-live-'));
  const file = join(dir, 'box.yaml');
  writeFileSync(file, 'node: { id: n1, site: a }\ndataDir: ./data\nlog: { level: info }\nsip: { domain: box.test, listen: ["udp:127.0.0.1:0"] }\n');
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (_c, _e, done) => done() }) });
  const node = buildNode(loadConfig(file), logger, undefined, { configFile: file });
  await node.start();
  try {
    const admitted = (ip: string, n: number) => Array.from({ length: n }, () => node.flood.admit(ip)).filter(Boolean).length;
    assert.is(admitted('198.51.100.1', 3), 3, 'the default burst lets three through');
    const doc = { log: { level: 'debug' }, sip: { flood: { rateLimit: { perSecond: 1, burst: 1 }, trusted: ['192.0.2.7'] }, userAgent: 'pushed' } };
    node.store.desiredConfigs.write('site:a', 'a', JSON.stringify(doc), 'test', Date.now());
    node.configPush.refresh();
    assert.is(logger.level, 'debug');
    assert.is(admitted('198.51.100.2', 3), 1, 'the new burst of 1');
    assert.is(admitted('192.0.2.7', 3), 3, 'a trusted source is never limited');
    assert.equal(node.configPush.state, { applied: { site: 1 }, desired: { site: 1 }, pendingRestart: ['sip.userAgent'], problems: [] });
    assert.is(node.config.sip.userAgent, 'outpost', 'the parts keep the restart-only value');
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
