/**
 * `outpost update status --config FILE` (docs/cli/update.md): on a box, the version it runs,
 * the last health check's verdict after a boot and the state of the last update
 * (agent/update/update-report.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadAnyConfig } from '../config/load-config.ts';
import { updateReport } from '../update/update-report.ts';
import { CliError } from './cli-error.ts';

const RELEASE_FILE = '/etc/outpost-release';

export function registerUpdateCommands(program: Command, out: (line: string) => void): void {
  const update = program.command('update').description("a box's A/B updates (docs/updates.md)");
  update
    .command('status')
    .description('the version this box runs, its last health check and its last update')
    .requiredOption('-c, --config <file>', "the box's config file")
    .action((opts: { config: string }) => {
      const any = loadAnyConfig(opts.config);
      if (any.kind !== 'node') throw new CliError(`update status runs on a box; ${opts.config} is a hub config`);
      const release = existsSync(RELEASE_FILE) ? readFileSync(RELEASE_FILE, 'utf8') : undefined;
      for (const line of updateReport(any.config.dataDir, release)) out(line);
    });
}
