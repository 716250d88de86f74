/**
 * Every key of the config schemas (agent/config/schema.ts for a box, hub-schema.ts for the hub,
 * with the sections of sync-schema.ts) has its row in a key table of docs/config/*.md, and every
 * row names a key the schemas have. The convention is in docs/README.md ("Config keys").
 * Runs alone too: node --import tsx test/integration/docs-config-keys.test.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigSchema } from '../../agent/config/schema.ts';
import { HubConfigSchema } from '../../agent/config/hub-schema.ts';
import { documentedKeys, schemaKeys, type KeyRow } from '../helpers/docs-config-keys.ts';
import { ROOT } from '../../bench/lib/node-process.ts';

const CONFIG_DOCS = join(ROOT, 'docs/config');
/** The page of the hub's file: its rows name keys of the hub's file. Every other page: a box's file. */
const HUB_PAGE = 'hub.md';

const pages = new Map(
  readdirSync(CONFIG_DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => [f, documentedKeys(readFileSync(join(CONFIG_DOCS, f), 'utf8'))] as const),
);
const boxRows: Array<KeyRow & { page: string }> = [...pages].filter(([p]) => p !== HUB_PAGE).flatMap(([page, rows]) => rows.map((r) => ({ ...r, page })));
const hubRows = (pages.get(HUB_PAGE) ?? []).map((r) => ({ ...r, page: HUB_PAGE }));
const box = schemaKeys(ConfigSchema);
const hub = schemaKeys(HubConfigSchema);
const all = (k: { sections: Set<string>; leaves: Set<string> }) => new Set([...k.sections, ...k.leaves]);
const where = (r: KeyRow & { page: string }) => `docs/config/${r.page}:${r.line}`;

const keys = suite('docs/config keys');

keys('the schemas have keys at every depth', () => {
  assert.ok(box.leaves.has('sip.flood.ban.window'));
  assert.ok(box.leaves.has('peers[].url'));
  assert.ok(hub.leaves.has('mqtt.url'));
  assert.ok(box.sections.has('sip.flood.rateLimit'));
});

keys("every key of a box's file has its row in docs/config", () => {
  const documented = new Set(boxRows.map((r) => r.key));
  const missing = [...box.leaves].filter((k) => !documented.has(k));
  assert.equal(missing, [], `keys of agent/config/schema.ts without a row in docs/config/*.md (other than ${HUB_PAGE}): ${missing.join(', ')}`);
});

keys("every key of the hub's file has its row in docs/config", () => {
  const documented = new Set([...hubRows, ...boxRows].map((r) => r.key));
  const missing = [...hub.leaves].filter((k) => !documented.has(k));
  assert.equal(missing, [], `keys of agent/config/hub-schema.ts without a row in docs/config/*.md: ${missing.join(', ')}`);
});

keys('every documented key is a key of the schemas', () => {
  const known = new Set([...all(box), ...all(hub)]);
  const unknown = boxRows.filter((r) => !known.has(r.key)).map((r) => `${where(r)}: ${r.key}`);
  const unknownHub = hubRows.filter((r) => !all(hub).has(r.key)).map((r) => `${where(r)}: ${r.key} (not a key of the hub's file)`);
  assert.equal([...unknown, ...unknownHub], [], 'rows that name no key of the schemas');
});

keys('a key has one row among the pages of a box (README.md lists the sections besides)', () => {
  const seen = new Map<string, string>();
  const twice: string[] = [];
  for (const r of boxRows.filter((x) => x.page !== 'README.md')) {
    const first = seen.get(r.key);
    if (first !== undefined && box.leaves.has(r.key)) twice.push(`${r.key}: ${first} and ${where(r)}`);
    seen.set(r.key, first ?? where(r));
  }
  assert.equal(twice, [], 'keys with more than one row');
});

keys('a changed key is found: a row table parses as keys', () => {
  const page = ['| key | type |', '|---|---|', '| `calls.minSE` | integer |', '| minSE | integer |', '', '| file | what |', '|---|---|', '| `node.json` | x |'].join('\n');
  assert.equal(documentedKeys(page), [{ key: 'calls.minSE', line: 3 }, { key: 'minSE', line: 4 }]);
});

keys.run();
