/**
 * `outpost admin audit` (the op `audit.list` over the admin API) and `outpost audit --config HUB`
 * (the same, read from the hub's store at the hub's shell): the hub's audit trail of admin
 * changes and refusals, newest first (docs/cli/admin.md "Audit trail", docs/security.md). Both
 * print through formatAudit, or the entries as one JSON array with --json.
 */
import type { Command } from 'commander';
import type { AuditEntry } from '../store/admin-audit.ts';
import type { RunOp } from './admin-update-command.ts';
import { parseSince } from './cdr-command.ts';
import { CliError } from './cli-error.ts';
import { parseWholeNumber } from './cli-numbers.ts';
import { loadCliTarget } from './cli-target.ts';
import { withStore } from './user-command.ts';

/** How much of a body a table line shows (--json has it all). */
const BODY_SHOWN = 120;

interface FilterOpts {
  admin?: string;
  op?: string;
  since?: string;
  limit: string;
}

/** The query both commands send or run: --since as ms (an ISO time or an age), --limit 1..1000. */
export function auditQuery(o: FilterOpts, now: number): { admin?: string; op?: string; since?: number; limit: number } {
  return {
    ...(o.admin !== undefined ? { admin: o.admin } : {}),
    ...(o.op !== undefined ? { op: o.op } : {}),
    ...(o.since !== undefined ? { since: parseSince(o.since, now) } : {}),
    limit: parseWholeNumber('--limit', o.limit, 1, 1000),
  };
}

/** One line per entry (time UTC, admin, op, outcome, body), then a refusal's problems indented. */
export function formatAudit(entries: readonly AuditEntry[]): string[] {
  if (entries.length === 0) return ['no audit records'];
  return entries.flatMap((e) => {
    const when = new Date(e.at).toISOString().replace('T', ' ').slice(0, 19);
    const body = e.body.length > BODY_SHOWN ? `${e.body.slice(0, BODY_SHOWN)}…` : e.body;
    return [`${when}  ${e.admin.padEnd(12)} ${e.op.padEnd(16)} ${e.outcome.padEnd(7)}  ${body}`, ...e.problems.map((p) => `    ${p}`)];
  });
}

const withFilters = (c: Command): Command =>
  c
    .option('--admin <name>', "only this admin's requests")
    .option('--op <op>', 'only this op (user.add, batch, …)')
    .option('--since <when>', 'only since an ISO time (UTC unless it names a zone) or an age (15m, 2h, 7d)')
    .option('--limit <n>', 'at most this many entries, 1-1000', '50');

/** `outpost admin audit`, registered under `admin`. */
export function registerAdminAuditCommand(admin: Command, run: RunOp, out: (line: string) => void): void {
  withFilters(admin.command('audit'))
    .description("the hub's audit trail: who changed what, and what was refused, newest first")
    .action((o: FilterOpts) =>
      run('audit.list', auditQuery(o, Date.now()), (r) => {
        for (const line of formatAudit(r as AuditEntry[])) out(line);
      }));
}

/** `outpost audit --config HUB`: the same at the hub, from its store. */
export function registerAuditCommand(program: Command, out: (line: string) => void): void {
  withFilters(program.command('audit'))
    .description("the hub's audit trail of the admin API, read from the hub's store")
    .option('--json', 'print the entries as one JSON array')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((o: FilterOpts & { json?: boolean; config: string }) => {
      const query = auditQuery(o, Date.now());
      const target = loadCliTarget(o.config);
      if (target.kind !== 'hub') throw new CliError(`the audit trail is kept at the hub: ${o.config} is a box's config; run this with the hub's config, or outpost admin audit from anywhere`);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const entries = store.adminAudit.list(query);
        if (o.json) out(JSON.stringify(entries));
        else for (const line of formatAudit(entries)) out(line);
      });
    });
}
