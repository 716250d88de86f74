/** `outpost route add|list|remove`: the dial plan in the store (admin-owned rows). */
import type { Command } from 'commander';
import { uuidv7 } from '../lib/uuid.ts';
import type { RouteAction } from '../store/routes.ts';
import { compilePattern } from '../switch/calls/dial-plan.ts';
import { CliError } from './cli-error.ts';
import { parseWholeNumber } from './cli-numbers.ts';
import { adminSite, loadCliTarget, requireAdmin, requireOwnSiteRow } from './cli-target.ts';
import { patternProblem } from '../switch/calls/route-pattern.ts';
import { withStore } from './user-command.ts';

const ACTIONS: RouteAction[] = ['extension', 'trunk', 'reject'];
/** --priority runs from -PRIORITY_LIMIT to PRIORITY_LIMIT. */
const PRIORITY_LIMIT = 1_000_000;

/**
 * `out` prints a result line (stdout); `warn` a warning that does not fail the command (stderr):
 * `route add --action trunk` with a target that names no trunk in this store.
 */
export function registerRouteCommands(program: Command, out: (line: string) => void, warn: (line: string) => void): void {
  const route = program.command('route').description('the dial plan: number patterns with priorities');
  route
    .command('add <pattern>')
    .description('add a route (patterns: digits, X=0-9, Z=1-9, N=2-9, [1-5], trailing . = one or more)')
    .option('--action <action>', `one of ${ACTIONS.join(', ')}`, 'extension')
    .option('--target <target>', 'trunk id (trunk) or status code (reject)', '')
    .option('--priority <n>', 'lower is tried first', '100')
    .option('--strip <n>', 'digits removed from the front', '0')
    .option('--prefix <digits>', 'digits put in front after stripping', '')
    .option('--id <id>', 'route id (default: a new UUID); an existing id is replaced')
    .option('--site <site>', "hub only: the site whose boxes get the route (default: every site)")
    .requiredOption('-c, --config <file>', 'config file (a box or the hub)')
    .action((pattern: string, opts: { action: string; target: string; priority: string; strip: string; prefix: string; id?: string; site?: string; config: string }) => {
      if (!compilePattern(pattern)) throw new CliError(`invalid pattern "${pattern}": ${patternProblem(pattern) ?? 'not a dial pattern'}`);
      if (!ACTIONS.includes(opts.action as RouteAction)) throw new CliError(`invalid --action "${opts.action}": use ${ACTIONS.join(', ')}`);
      const priority = parseWholeNumber('--priority', opts.priority, -PRIORITY_LIMIT, PRIORITY_LIMIT);
      const strip = parseWholeNumber('--strip', opts.strip, 0);
      if (opts.action === 'trunk' && !opts.target) throw new CliError('--action trunk needs --target TRUNK');
      const target = loadCliTarget(opts.config);
      requireAdmin(target);
      const site = adminSite(target, opts.site);
      const id = opts.id ?? uuidv7();
      withStore(target.dataDir, {}, (store) => {
        const existing = store.routes.list().find((r) => r.id === id);
        requireOwnSiteRow(target, `route ${id}`, existing?.site);
        if (existing && existing.site !== site && opts.site === undefined) {
          throw new CliError(`route ${id} belongs to ${existing.site ? `site ${existing.site}` : 'every site'}; to move it, name the new site with --site`);
        }
        store.routes.upsert({ id, pattern, priority, action: opts.action as RouteAction, target: opts.target, strip, prefix: opts.prefix, site, enabled: true }, Date.now());
        out(`route ${id}: ${pattern} -> ${opts.action}${opts.target ? ` ${opts.target}` : ''} (priority ${priority})`);
        // The trunk may be added later, or replicate in: the route is kept either way.
        if (opts.action === 'trunk' && store.trunks.get(opts.target) === undefined) {
          warn(`warning: no trunk ${opts.target} in this store yet; calls on route ${id} get 503 until it exists (outpost trunk add)`);
        }
      });
    });
  route
    .command('list')
    .description('list routes in the order they are tried')
    .option('--json', 'print JSON')
    .requiredOption('-c, --config <file>', 'config file')
    .action((opts: { json?: boolean; config: string }) => {
      const target = loadCliTarget(opts.config);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const routes = store.routes.list();
        if (opts.json) return out(JSON.stringify(routes));
        if (routes.length === 0) return out('no routes (extensions of this site are always reachable)');
        for (const r of routes) {
          out(`${String(r.priority).padStart(5)}  ${r.pattern.padEnd(14)} ${r.action}${r.target ? ` ${r.target}` : ''}${r.strip || r.prefix ? ` (strip ${r.strip}, prefix "${r.prefix}")` : ''}${r.enabled ? '' : ' [disabled]'}  ${r.id}`);
        }
      });
    });
  route
    .command('remove <id>')
    .description('remove a route')
    .requiredOption('-c, --config <file>', 'config file')
    .action((id: string, opts: { config: string }) => {
      const target = loadCliTarget(opts.config);
      requireAdmin(target);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        requireOwnSiteRow(target, `route ${id}`, store.routes.list().find((r) => r.id === id)?.site);
        if (!store.routes.remove(id)) throw new CliError(`no route ${id}`);
      });
      out(`removed route ${id}`);
    });
}
