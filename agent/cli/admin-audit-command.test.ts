import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntry } from '../store/admin-audit.ts';
import { auditQuery, formatAudit } from './admin-audit-command.ts';
import { CliError } from './cli-error.ts';

const entry = (over: Partial<AuditEntry>): AuditEntry => ({ id: 1, at: Date.UTC(2026, 11, 7, 10, 0, 5), admin: 'ann', op: 'user.add', tx: 't', outcome: 'ok', problems: [], body: '{}', ...over });

const format = suite('formatAudit');

format('one line per entry, the problems of a refusal below it, a long body cut', () => {
  const lines = formatAudit([
    entry({ id: 2, op: 'batch', outcome: 'refused', problems: ['items[0] user.add: no user 9', 'items[1] x'], body: `{"items":${'x'.repeat(200)}}` }),
    entry({ body: '{"ext":"1001","password":"***"}' }),
  ]);
  assert.equal(lines, [
    `2026-12-07 10:00:05  ann          batch            refused  {"items":${'x'.repeat(111)}…`,
    '    items[0] user.add: no user 9',
    '    items[1] x',
    '2026-12-07 10:00:05  ann          user.add         ok       {"ext":"1001","password":"***"}',
  ]);
  assert.equal(formatAudit([]), ['no audit records']);
});

format.run();

const query = suite('auditQuery');
const NOW = Date.UTC(2026, 11, 7, 12);

query('--since as an age or an ISO time, --limit 1..1000; filters only when given', () => {
  assert.equal(auditQuery({ limit: '50' }, NOW), { limit: 50 });
  assert.equal(auditQuery({ admin: 'ann', op: 'batch', since: '2h', limit: '1000' }, NOW), { admin: 'ann', op: 'batch', since: NOW - 7_200_000, limit: 1000 });
  assert.equal(auditQuery({ since: '2026-12-07T10:00', limit: '1' }, NOW).since, Date.UTC(2026, 11, 7, 10));
  for (const limit of ['0', '1001', 'x']) assert.throws(() => auditQuery({ limit }, NOW), (e: unknown) => e instanceof CliError && /--limit/.test((e as Error).message));
});

query.run();
