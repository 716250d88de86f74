/**
 * The live/restart registry (key-apply.ts): every key of a box's file has a marking and every
 * marking names a key; changedKeys finds the leaves that differ.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { schemaKeys } from '../../test/helpers/docs-config-keys.ts';
import { applyOf, changedKeys, KEY_APPLY } from './key-apply.ts';
import { ConfigSchema } from './schema.ts';

const registry = suite('KEY_APPLY');
const leaves = schemaKeys(ConfigSchema).leaves;

registry('every key of the box schema is marked live or restart', () => {
  const unmarked = [...leaves].filter((k) => KEY_APPLY[k] === undefined);
  assert.equal(unmarked, [], `keys of agent/config/schema.ts without a marking in agent/config/key-apply.ts: ${unmarked.join(', ')}`);
});

registry('every marking names a key of the box schema', () => {
  const stale = Object.keys(KEY_APPLY).filter((k) => !leaves.has(k));
  assert.equal(stale, []);
});

registry('identity, storage, addresses and TLS files wait for a restart; the brief set is live', () => {
  for (const k of ['node.id', 'node.site', 'dataDir', 'sip.listen', 'sip.tls.cert', 'sip.tls.key', 'mqtt.listen', 'hub.url']) assert.is(KEY_APPLY[k], 'restart', k);
  for (const k of ['log.level', 'sip.registrar.maxExpires', 'sip.registrar.shedLag', 'sip.flood.ban.window', 'sip.auth.algorithms', 'calls.ringTimeout', 'rtp.codecs', 'sync.pushDelay']) assert.is(KEY_APPLY[k], 'live', k);
});

const apply = suite('applyOf');

apply('an item of a list of objects is looked up as []; an unknown key waits for a restart', () => {
  assert.is(applyOf('peers[3].url'), 'restart');
  assert.is(applyOf('sip.flood.rateLimit.burst'), 'live');
  assert.is(applyOf('sip.nonsense'), 'restart');
});

const changed = suite('changedKeys');

changed('lists the differing leaves, a registry key as one value', () => {
  const a = { log: { level: 'info' }, sip: { listen: [{ protocol: 'udp', host: '127.0.0.1', port: 5070 }], registrar: { maxExpires: 7200, retryAfter: [1, 10] } } };
  const b = { log: { level: 'debug' }, sip: { listen: [{ protocol: 'udp', host: '127.0.0.2', port: 5070 }], registrar: { maxExpires: 7200, retryAfter: [1, 20] } } };
  assert.equal(changedKeys(a, b), ['log.level', 'sip.listen', 'sip.registrar.retryAfter']);
});

changed('a section on one side only contributes every leaf; lists of objects item by item', () => {
  assert.equal(changedKeys({}, { hub: { url: 'mqtts://h:1', id: 'hub' } }), ['hub.id', 'hub.url']);
  assert.equal(changedKeys({ peers: [{ id: 'a', url: 'u' }] }, { peers: [{ id: 'a', url: 'v' }, { id: 'b', url: 'w' }] }), ['peers[0].url', 'peers[1].id', 'peers[1].url']);
  assert.equal(changedKeys({ calls: { ringTimeout: 60 } }, { calls: { ringTimeout: 60 } }), []);
});

registry.run();
apply.run();
changed.run();

const docs = suite('docs/config marks the live keys');

docs('a row of a live key ends with **Live.**, a row of any other key does not', () => {
  const dir = new URL('../../docs/config/', import.meta.url);
  const wrong: string[] = [];
  for (const page of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md' && f !== 'hub.md')) {
    for (const line of readFileSync(new URL(page, dir), 'utf8').split('\n')) {
      const key = /^\|\s*`([^`]+)`\s*\|/.exec(line)?.[1];
      if (key === undefined || !leaves.has(key)) continue;
      const marked = /\*\*Live\.\*\* \|$/.test(line);
      if (marked !== (KEY_APPLY[key] === 'live')) wrong.push(`docs/config/${page}: ${key} is ${KEY_APPLY[key]} but its row ${marked ? 'says' : 'does not say'} **Live.**`);
    }
  }
  assert.equal(wrong, []);
});

docs.run();
