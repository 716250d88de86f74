/**
 * A box's side of config push (config-push.ts) on a real store and a real file, with a manual
 * clock: the boot config includes the documents; a replicated change applies its live keys and
 * reports the others waiting; an invalid combination keeps the running config and reports the
 * problems; SIGHUP's re-read takes the edited file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { ManualClock } from '../lib/clock.ts';
import { createLogger, createSilentLogger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import { ConfigPush } from './config-push.ts';

const FILE_TEXT = (level: string) => `
node: { id: a1, site: branch-a }
dataDir: ./data
log: { level: ${level} }
sip: { domain: branch-a.example, listen: ["udp:127.0.0.1:0"], registrar: { minExpires: 60, defaultExpires: 600 } }
`;

interface Box {
  file: string;
  store: Store;
  clock: ManualClock;
  push: ConfigPush;
  applied: Array<{ keys: readonly string[]; config: Config }>;
}

const opened: Store[] = [];

/** A box whose store already holds `docs` (as if replicated) when it starts. */
function box(docs: Record<string, unknown> = {}): Box {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-push-'));
  const file = join(dir, 'box.yaml');
  writeFileSync(file, FILE_TEXT('info'));
  const config = loadConfig(file);
  const store = Store.open({ dataDir: config.dataDir, durable: false });
  opened.push(store);
  const clock = new ManualClock();
  for (const [scope, doc] of Object.entries(docs)) store.desiredConfigs.write(scope, 'branch-a', JSON.stringify(doc), 'test', clock.now());
  const push = new ConfigPush({ config, file, store, clock, logger: process.env['PUSH_DEBUG'] ? createLogger() : createSilentLogger() });
  const b: Box = { file, store, clock, push, applied: [] };
  return b;
}

/** What a test sees of the live apply: the keys handed over (the parts are tested in test/integration). */
function watchApply(b: Box): void {
  b.push.attach((config, keys) => b.applied.push({ keys, config }));
  b.applied.length = 0;
}

const push = suite('ConfigPush');
push.after.each(() => opened.splice(0).forEach((s) => s.close()));

push('boots with the documents in the store and reports them applied, at the clock time', () => {
  const b = box({ fleet: { sip: { registrar: { maxExpires: 3600 } } }, 'site:branch-a': { sip: { timers: { t1: 250 } } }, 'site:branch-b': { log: { level: 'debug' } } });
  assert.is(b.push.boot.sip.registrar.maxExpires, 3600);
  assert.is(b.push.boot.sip.timers.t1, 250, 'a restart-only key takes effect at boot');
  assert.is(b.push.boot.log.level, 'info', "another site's document is not overlaid");
  assert.equal(b.store.configReports.get('a1'), {
    nodeId: 'a1', applied: { fleet: 1, site: 1 }, desired: { fleet: 1, site: 1 }, pendingRestart: [], problems: [], reportedAt: b.clock.now(),
  });
});

push('a replicated document: live keys applied now, restart-only keys reported waiting', () => {
  const b = box();
  watchApply(b);
  b.clock.advance(5000);
  b.store.desiredConfigs.write('node:a1', 'branch-a', JSON.stringify({ sip: { registrar: { maxExpires: 900 }, listen: ['udp:127.0.0.1:5999'] } }), 'test', b.clock.now());
  b.push.refresh();
  assert.equal(b.applied.map((a) => a.keys), [['sip.registrar.maxExpires']]);
  assert.is(b.push.config.sip.registrar.maxExpires, 900);
  const r = b.store.configReports.get('a1')!;
  assert.equal([r.applied, r.pendingRestart, r.problems, r.reportedAt], [{ node: 1 }, ['sip.listen'], [], b.clock.now()]);
  b.push.refresh();
  assert.is(b.applied.length, 1, 'unchanged versions: nothing to do');
});

push('invalid with the file: the running config stays, the problems are reported with the document', () => {
  const b = box({ 'site:branch-a': { sip: { registrar: { maxExpires: 1200 } } } });
  watchApply(b);
  b.store.desiredConfigs.write('site:branch-a', 'branch-a', JSON.stringify({ sip: { registrar: { maxExpires: 30 } } }), 'test', b.clock.now());
  b.push.refresh();
  assert.equal(b.applied, []);
  assert.is(b.push.config.sip.registrar.maxExpires, 1200);
  const r = b.store.configReports.get('a1')!;
  assert.equal([r.applied, r.desired], [{ site: 1 }, { site: 2 }]);
  assert.equal(r.problems, ['sip.registrar: must satisfy minExpires <= defaultExpires <= maxExpires (from site document v2)']);
});

push('SIGHUP re-read: the edited file applies its live keys; a broken file is refused and reported', () => {
  const b = box();
  watchApply(b);
  writeFileSync(b.file, FILE_TEXT('debug'));
  b.push.reread();
  assert.equal(b.applied.map((a) => [a.keys, a.config.log.level]), [[['log.level'], 'debug']]);
  writeFileSync(b.file, 'node: [');
  b.push.reread();
  assert.is(b.applied.length, 1);
  assert.is(b.push.config.log.level, 'debug');
  assert.match(b.store.configReports.get('a1')!.problems[0]!, /box\.yaml: \(file\): YAML/);
});

push.run();
