/** `outpost cdr list`: call detail records of this box's store, oldest first. */
import type { Command } from 'commander';
import { loadCliTarget } from './cli-target.ts';
import type { CdrRecord } from '../store/cdrs.ts';
import { CliError } from './cli-error.ts';
import { parseWholeNumber } from './cli-numbers.ts';
import { withStore } from './user-command.ts';

/** Parses --since: an ISO date/time (UTC unless it names a zone), or an age like 15m, 2h, 7d. */
export function parseSince(text: string, now: number): number {
  const rel = /^(\d+)([smhd])$/.exec(text.trim());
  if (rel) return now - Number(rel[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  // A time without a zone is UTC, like the times `cdr list` prints.
  const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text.trim());
  const t = Date.parse(zoneless ? `${text.trim().replace(' ', 'T')}Z` : text);
  if (Number.isNaN(t)) throw new CliError(`invalid --since "${text}": use an ISO time (2026-11-21T10:00) or an age (15m, 2h, 7d)`);
  return t;
}

export function registerCdrCommands(program: Command, out: (line: string) => void): void {
  const cdr = program.command('cdr').description('call detail records');
  cdr
    .command('list')
    .description('list CDRs, oldest first')
    .option('--since <when>', 'only calls started since an ISO time or an age (15m, 2h, 7d)', '24h')
    .option('--limit <n>', 'at most this many records', '1000')
    .option('--json', 'print one JSON object per line')
    .requiredOption('-c, --config <file>', 'config file')
    .action((opts: { since: string; limit: string; json?: boolean; config: string }) => {
      const since = parseSince(opts.since, Date.now());
      const limit = parseWholeNumber('--limit', opts.limit, 1);
      const target = loadCliTarget(opts.config);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const rows = store.cdrs.since(since, limit);
        if (opts.json) {
          for (const r of rows) out(JSON.stringify({ ...r, media: JSON.parse(r.media) as unknown }));
          return;
        }
        if (rows.length === 0) return out('no calls');
        for (const r of rows) out(formatCdr(r));
      });
    });
}

/** One line of `cdr list`'s text output. */
export function formatCdr(r: CdrRecord): string {
  const when = new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  const talk = `${Math.round(r.durationMs / 1000)}s`.padStart(6);
  return `${when}  ${r.caller.padEnd(8)} -> ${r.callee.padEnd(8)} ${r.disposition.padEnd(11)} ${String(r.sipStatus).padEnd(3)} ${talk}  ${codecsOf(r)}  ended by ${r.endedBy || '-'}  ${r.uuid}${r.link ? `  link ${r.link}` : ''}`;
}

/** The call's codec; `caller's→callee's` when the legs differ (the box transcoded). */
function codecsOf(r: Pick<CdrRecord, 'codecA' | 'codecB'>): string {
  if (r.codecA && r.codecB && r.codecA !== r.codecB) return `${r.codecA}→${r.codecB}`;
  return r.codecA || r.codecB || '-';
}
