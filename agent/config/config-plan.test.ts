/** The decision core of config push (config-plan.ts): refuse whole, or split live and restart-only keys. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from './errors.ts';
import { parseConfigObject } from './load-config.ts';
import { planConfig, type StoredDocument } from './config-plan.ts';

const FILE = '/etc/outpost/box.yaml';
const local = () => ({
  node: { id: 'a1', site: 'branch-a' },
  dataDir: './var/a1',
  sip: { domain: 'branch-a.example', listen: ['udp:127.0.0.1:5070'], registrar: { minExpires: 60, defaultExpires: 600 } },
});
const boot = parseConfigObject(local(), FILE);
const doc = (kind: StoredDocument['kind'], version: number, body: unknown): StoredDocument => ({ kind, version, document: JSON.stringify(body) });

const plan = suite('planConfig');

plan('no documents: the file as loaded, nothing changes', () => {
  const p = planConfig({ file: FILE, local: local(), documents: [], running: boot, boot });
  assert.is(p.kind, 'accepted');
  if (p.kind !== 'accepted') return;
  assert.equal(p.config, boot);
  assert.equal([p.live, p.pendingRestart, p.desired], [[], [], {}]);
});

plan('node over site over fleet; live keys now, restart-only keys waiting', () => {
  const documents = [
    doc('node', 2, { sip: { registrar: { maxExpires: 900 } } }),
    doc('fleet', 7, { sip: { registrar: { maxExpires: 3600 }, timers: { t1: 250 } }, log: { level: 'debug' } }),
    doc('site', 3, { sip: { registrar: { maxExpires: 1200 } } }),
  ];
  const p = planConfig({ file: FILE, local: local(), documents, running: boot, boot });
  assert.is(p.kind, 'accepted');
  if (p.kind !== 'accepted') return;
  assert.is(p.config.sip.registrar.maxExpires, 900);
  assert.is(p.config.sip.timers.t1, 250);
  assert.equal(p.desired, { fleet: 7, site: 3, node: 2 });
  assert.equal(p.live, ['log.level', 'sip.registrar.maxExpires']);
  assert.equal(p.pendingRestart, ['sip.timers.t1']);
});

plan('a restart-only key changed back is no longer waiting; live keys are compared with the running config', () => {
  const first = planConfig({ file: FILE, local: local(), documents: [doc('site', 1, { sip: { timers: { t1: 250 }, registrar: { maxExpires: 1200 } } })], running: boot, boot });
  assert.is(first.kind, 'accepted');
  if (first.kind !== 'accepted') return;
  const second = planConfig({ file: FILE, local: local(), documents: [doc('site', 2, { sip: { registrar: { maxExpires: 1200 } } })], running: first.config, boot });
  assert.is(second.kind, 'accepted');
  if (second.kind !== 'accepted') return;
  assert.equal(second.live, []);
  assert.equal(second.pendingRestart, []);
});

plan('invalid in combination with the file: refused, the problem names the document that set the key', () => {
  // maxExpires 30 is a valid value, but the file's minExpires is 60.
  const p = planConfig({ file: FILE, local: local(), documents: [doc('fleet', 1, {}), doc('site', 4, { sip: { registrar: { maxExpires: 30 } } })], running: boot, boot });
  assert.is(p.kind, 'refused');
  if (p.kind !== 'refused') return;
  assert.equal(p.desired, { fleet: 1, site: 4 });
  assert.equal(p.problems, ['sip.registrar: must satisfy minExpires <= defaultExpires <= maxExpires (from site document v4)']);
});

plan('a problem of the file itself names the file; an unreadable file is refused', () => {
  const bad = { ...local(), log: { level: 'loud' } };
  const p = planConfig({ file: FILE, local: bad, documents: [], running: boot, boot });
  assert.is(p.kind, 'refused');
  if (p.kind === 'refused') assert.match(p.problems[0]!, /^log\.level: .*\(from \/etc\/outpost\/box\.yaml\)$/);
  const gone = planConfig({ file: FILE, local: new ConfigError(FILE, [{ key: '', reason: 'file not found' }]), documents: [], running: boot, boot });
  assert.equal(gone.kind === 'refused' && gone.problems, ['(file): file not found (from /etc/outpost/box.yaml)']);
});

plan('a stored document that is not a mapping is refused', () => {
  const p = planConfig({ file: FILE, local: local(), documents: [{ kind: 'node', version: 1, document: '[1]' }], running: boot, boot });
  assert.equal(p.kind === 'refused' && p.problems, ['(node document v1): not a mapping of config sections']);
});

plan.run();
