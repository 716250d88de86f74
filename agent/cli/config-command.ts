/**
 * `outpost config status --config HUBFILE`: desired versus reported config of every box, read
 * from the hub's store (docs/cli/config.md, docs/config-push.md). Read-only; the admin API's
 * `config.status` answers the same from agent/control/desired-config.ts.
 */
import type { Command } from 'commander';
import { configStatus, type BoxConfigStatus } from '../control/desired-config.ts';
import type { ScopeVersions } from '../config/config-plan.ts';
import type { DesiredConfigRecord } from '../store/desired-configs.ts';
import { CliError } from './cli-error.ts';
import { loadCliTarget } from './cli-target.ts';
import { withStore } from './user-command.ts';

export type BoxState = 'in sync' | 'behind' | 'refused' | 'not reported';

export function stateOf(box: BoxConfigStatus): BoxState {
  if (!box.reported) return 'not reported';
  if (box.reported.problems.length > 0) return 'refused';
  return box.inSync ? 'in sync' : 'behind';
}

const versions = (v: ScopeVersions) => (['fleet', 'site', 'node'] as const).filter((k) => v[k] !== undefined).map((k) => `${k} v${v[k]}`).join(', ') || 'none';

/** The lines `config status` prints. */
export function formatConfigStatus(documents: readonly DesiredConfigRecord[], boxes: readonly BoxConfigStatus[]): string[] {
  const lines: string[] = [];
  for (const d of documents) lines.push(`document  ${d.scope} v${d.version}, set by ${d.setBy} at ${new Date(d.setAt).toISOString()}`);
  if (documents.length === 0) lines.push('document  none');
  if (boxes.length === 0) lines.push('box       none known to this hub yet');
  for (const b of boxes) {
    lines.push(`box       ${b.node} (site ${b.site || '?'}): ${stateOf(b)}`);
    lines.push(`  desired ${versions(b.desired)}`);
    if (!b.reported) continue;
    lines.push(`  applied ${versions(b.reported.applied)} (reported ${new Date(b.reported.at).toISOString()})`);
    if (b.reported.pendingRestart.length > 0) lines.push(`  restart ${b.reported.pendingRestart.join(', ')}`);
    for (const p of b.reported.problems) lines.push(`  problem ${p}`);
  }
  return lines;
}

export function registerConfigCommands(program: Command, out: (line: string) => void): void {
  const config = program.command('config').description('desired config pushed to boxes (docs/config-push.md)');
  config
    .command('status')
    .description("desired versus reported config of every box, from the hub's store (run with the hub's config)")
    .requiredOption('-c, --config <file>', "the hub's config file")
    .option('--json', 'print JSON')
    .action((opts: { config: string; json?: boolean }) => {
      const target = loadCliTarget(opts.config);
      if (target.kind !== 'hub') throw new CliError(`config status reads the hub's store: run it with the hub's config, not ${target.file}`);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const boxes = configStatus(store);
        const documents = store.desiredConfigs.list();
        if (opts.json) out(JSON.stringify({ documents, boxes: boxes.map((b) => ({ ...b, state: stateOf(b) })) }));
        else for (const line of formatConfigStatus(documents, boxes)) out(line);
      });
    });
}
