/**
 * The audit trail's repository over a real cr-sqlite store: secrets redacted at any depth and
 * inside config text, bodies capped, newest first, filters, pruning to a bound, not a CRR.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { auditBody, MAX_AUDIT_BODY, redactSecrets, TRUNCATED, type AuditInput } from './admin-audit.ts';
import { REPLICATED_TABLES } from './replicated-tables.ts';
import { Store } from './store.ts';

const open = () => Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-audit-')), durable: false });
const entry = (over: Partial<AuditInput> = {}): AuditInput => ({ at: 1000, admin: 'ann', op: 'user.add', tx: 't-1', outcome: 'ok', problems: [], body: {}, ...over });

const redact = suite('redactSecrets / auditBody');

redact('secret-named keys become "***" at any depth; other values stay', () => {
  const body = {
    items: [
      { op: 'user.add', body: { ext: '1001', password: 's3cret-1', name: 'Ann' } },
      { op: 'x', body: { nested: { Secret: 'a', ha1Md5: 'b', claim: 'c', key: 'd', siteAdminKey: 'e', keys: ['k'] } } },
    ],
  };
  assert.equal(redactSecrets(body), {
    items: [
      { op: 'user.add', body: { ext: '1001', password: '***', name: 'Ann' } },
      { op: 'x', body: { nested: { Secret: '***', ha1Md5: '***', claim: '***', key: '***', siteAdminKey: '***', keys: ['k'] } } },
    ],
  });
});

redact('a config document sent as YAML or JSON text has its secrets redacted too', () => {
  const yaml = 'trace:\n  hep:\n    host: 192.0.2.1\n    password: hunter22\nsync: { siteAdminKey: /etc/k.pem, peers: [] }\n';
  const out = redactSecrets({ document: yaml }) as { document: string };
  assert.not.match(out.document, /hunter22/);
  assert.not.match(out.document, /k\.pem/);
  assert.match(out.document, /host: 192\.0\.2\.1/);
  assert.match(out.document, /password: "\*\*\*"/);
  const json = redactSecrets('{"trace":{"hep":{"password":"p\\"w","port":9060}}}') as string;
  assert.is(json, '{"trace":{"hep":{"password":"***","port":9060}}}');
});

redact('a body over 8 KB is cut and marked, with its size', () => {
  const small = auditBody({ ext: '1', password: 'x' });
  assert.is(small, '{"ext":"1","password":"***"}');
  const big = auditBody({ document: 'é'.repeat(MAX_AUDIT_BODY) });
  const [head, tail] = big.split(TRUNCATED);
  assert.ok(Buffer.byteLength(head!) <= MAX_AUDIT_BODY, `${Buffer.byteLength(head!)} bytes kept`);
  assert.not.match(head!, /\uFFFD/);
  assert.is(tail, `, ${JSON.stringify({ document: 'é'.repeat(MAX_AUDIT_BODY) }).length + MAX_AUDIT_BODY} bytes)`);
});

const repo = suite('AdminAuditRepository');

repo('append keeps the redacted body and the problems; list is newest first', () => {
  const store = open();
  try {
    store.adminAudit.append(entry({ body: { ext: '1001', password: 's3cret-1' } }));
    store.adminAudit.append(entry({ at: 2000, op: 'batch', tx: 't-2', outcome: 'refused', problems: ['items[1] user.add: password: at least 6 characters'], body: { items: [] } }));
    const rows = store.adminAudit.list({ limit: 10 });
    assert.equal(rows.map((r) => [r.op, r.tx, r.outcome, r.problems]), [
      ['batch', 't-2', 'refused', ['items[1] user.add: password: at least 6 characters']],
      ['user.add', 't-1', 'ok', []],
    ]);
    assert.is(rows[1]!.body, '{"ext":"1001","password":"***"}');
    assert.ok(rows[0]!.id > rows[1]!.id);
  } finally {
    store.close();
  }
});

repo('filters: admin, op, since, limit', () => {
  const store = open();
  try {
    store.adminAudit.append(entry({ admin: 'ann', op: 'user.add', at: 1000 }));
    store.adminAudit.append(entry({ admin: 'bob', op: 'user.add', at: 2000 }));
    store.adminAudit.append(entry({ admin: 'ann', op: 'route.add', at: 3000 }));
    store.adminAudit.append(entry({ admin: 'ann', op: 'user.add', at: 4000 }));
    const ats = (q: Parameters<typeof store.adminAudit.list>[0]) => store.adminAudit.list(q).map((r) => r.at);
    assert.equal(ats({ limit: 10 }), [4000, 3000, 2000, 1000]);
    assert.equal(ats({ admin: 'ann', limit: 10 }), [4000, 3000, 1000]);
    assert.equal(ats({ op: 'user.add', limit: 10 }), [4000, 2000, 1000]);
    assert.equal(ats({ admin: 'ann', op: 'user.add', since: 1001, limit: 10 }), [4000]);
    assert.equal(ats({ since: 2000, limit: 2 }), [4000, 3000]);
    assert.equal(ats({ admin: 'carol', limit: 10 }), []);
  } finally {
    store.close();
  }
});

repo('append prunes to the newest rows; prune alone too', () => {
  const store = open();
  try {
    for (let i = 1; i <= 5; i++) store.adminAudit.append(entry({ at: i }), 3);
    assert.equal(store.adminAudit.list({ limit: 10 }).map((r) => r.at), [5, 4, 3]);
    assert.is(store.adminAudit.prune(1), 2);
    assert.equal(store.adminAudit.list({ limit: 10 }).map((r) => r.at), [5]);
    assert.is(store.adminAudit.prune(1), 0);
    store.adminAudit.append(entry({ at: 6 }));
    assert.is(store.adminAudit.count(), 2, 'the default bound keeps both');
  } finally {
    store.close();
  }
});

repo('the trail is hub-local: not a replicated table, and appending does not move the db_version', () => {
  assert.not.ok(REPLICATED_TABLES.some((t) => t.name === 'admin_audit'));
  const store = open();
  try {
    const before = store.dbVersion();
    store.adminAudit.append(entry());
    assert.is(store.dbVersion(), before);
    const clocks = store['db'].prepare("SELECT name FROM sqlite_master WHERE name LIKE 'admin_audit%crsql%'").all();
    assert.equal(clocks, [], 'no cr-sqlite clock table');
  } finally {
    store.close();
  }
});

redact.run();
repo.run();
