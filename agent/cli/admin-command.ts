/**
 * `outpost admin login` and `outpost admin <family> <verb> ...` (docs/cli/admin.md): the admin
 * API over MQTT from anywhere, with an admin credential directory and the hub's broker address;
 * neither the hub's config nor its database is read. Each verb builds the body of one op
 * (agent/admin/ops/), AdminClient signs and sends it, and the answer is printed: a result, or
 * every problem on its own line. `admin request OP [JSON]` sends any op as it is, `admin batch
 * FILE` several in one all-or-nothing request.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AdminClient } from '../admin/admin-client.ts';
import { defaultCredentialDir, readAdminCredential, writeAdminCredential } from '../admin/admin-credential.ts';
import { AdminError } from '../admin/errors.ts';
import { loginAdmin } from '../trust/admin-enrolment.ts';
import { parseClaimCode } from '../trust/claim-code.ts';
import { CliError } from './cli-error.ts';
import { parseWholeNumber } from './cli-numbers.ts';
import { registerAdminUpdateCommands } from './admin-update-command.ts';
import { registerAdminAuditCommand } from './admin-audit-command.ts';
import { formatConfigStatus } from './config-command.ts';
import type { BoxConfigStatus } from '../control/desired-config.ts';
import type { DesiredConfigRecord } from '../store/desired-configs.ts';

/** Exit codes of `outpost admin` besides 0 and 1 (docs/cli/admin.md). */
export const ADMIN_EXIT = { unreachable: 4, credential: 5 } as const;

export function adminExitCode(err: AdminError): number {
  if (err.code === 'admin.unreachable') return ADMIN_EXIT.unreachable;
  if (err.code === 'admin.credential') return ADMIN_EXIT.credential;
  return 1;
}

interface Globals {
  credential?: string;
  broker?: string;
  timeout: string;
  json?: boolean;
}

type Out = (line: string) => void;
type Body = Record<string, unknown>;

/** Drops undefined members (an option not given). */
const defined = (o: Body): Body => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const list = (text: string | undefined) => (text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter((s) => s !== ''));
const num = (text: string | undefined) => (text === undefined ? undefined : Number(text));

export function registerAdminCommands(program: Command, out: Out): void {
  const admin = program
    .command('admin')
    .description("the hub's admin API over MQTT: runs anywhere with an admin credential (outpost admin login)")
    .option('--credential <dir>', `the admin credential directory (default ${defaultCredentialDir()})`)
    .option('--broker <url>', "the hub's broker, mqtts://host:port (default: the one stored at login)")
    .option('--timeout <seconds>', 'how long to wait for the hub', '10')
    .option('--json', 'print the result as JSON');
  // The options of `admin` may also follow the verb (`admin user list --json`): each verb takes
  // them too, and the one being run reads them merged with its parents'.
  let globals: Globals = { timeout: '10' };
  admin.hook('preAction', (_admin, action) => {
    globals = action.optsWithGlobals<Globals>();
  });

  admin
    .command('login')
    .description('get an admin certificate from the hub with a claim code (outpost enrol create --admin NAME) and store the credential')
    .option('--hub <url>', "the hub's enrolment endpoint, https://host:port")
    .option('--claim <code>', 'the claim code')
    .option('--claim-file <file>', 'read the code (and the hub address) from a file of `enrol create --write`')
    .option('--dir <dir>', `where to store the credential (default ${defaultCredentialDir()})`)
    .action(async (opts: { hub?: string; claim?: string; claimFile?: string; dir?: string }) => {
      const file = opts.claimFile === undefined ? undefined : (readJson(opts.claimFile) as { hub?: string; claim?: string } | null);
      const hub = opts.hub ?? (typeof file?.hub === 'string' ? file.hub : undefined);
      const claim = opts.claim ?? (typeof file?.claim === 'string' ? file.claim : undefined);
      if (hub === undefined || claim === undefined) throw new CliError('give the hub\'s enrolment address and the claim code: --hub https://host:port --claim CODE (or --claim-file FILE)');
      const dir = resolve(opts.dir ?? globals.credential ?? defaultCredentialDir());
      const credential = await loginAdmin(hub, parseClaimCode(claim));
      const broker = globals.broker ?? credential.broker;
      writeAdminCredential(dir, { ...credential, broker });
      out(`logged in as admin ${credential.name}; credential in ${dir} (files mode 0600)`);
      out(`hub broker ${broker}`);
    });

  const run = async (op: string, body: unknown, print: (result: unknown) => void = () => out(`${op}: ok`)) => {
    const g = globals;
    const credential = readAdminCredential(resolve(g.credential ?? defaultCredentialDir()));
    const timeoutMs = parseWholeNumber('--timeout', g.timeout, 1, 3600) * 1000;
    const client = new AdminClient({ credential, ...(g.broker ? { brokerUrl: g.broker } : {}), timeoutMs });
    await client.connect();
    try {
      const r = await client.request(op, body);
      if (!r.ok) {
        const refused = r.problems.length === 1 && r.problems[0]!.startsWith('refused: ');
        const head = refused ? `the hub refused ${op}: ${r.problems[0]!.slice('refused: '.length)}` : `${op} failed, nothing changed (${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}):`;
        throw new AdminError(refused ? 'admin.refused' : 'admin.invalid', refused ? head : [head, ...r.problems.map((p) => `  ${p}`)].join('\n'));
      }
      if (g.json) out(JSON.stringify(r.result));
      else print(r.result);
    } finally {
      await client.close();
    }
  };
  const rows = (format: (r: Body) => string, empty: string) => (result: unknown) => {
    const items = result as Body[];
    if (items.length === 0) out(empty);
    for (const r of items) out(format(r));
  };
  const site = (s: unknown) => (s ? `site ${String(s)}` : 'all sites');

  const user = admin.command('user').description('users (extensions)');
  user.command('add <ext>').requiredOption('--password <pw>').option('--name <name>').option('--site <site>').option('--codecs <list>')
    .description('add a user, or replace its password and name')
    .action((ext: string, o: { password: string; name?: string; site?: string; codecs?: string }) =>
      run('user.add', defined({ ext, password: o.password, name: o.name, site: o.site, codecs: list(o.codecs) }), (r) => {
        const x = r as { added: boolean; realm: string; site: string };
        out(`${x.added ? 'added' : 'updated'} user ${ext} in realm ${x.realm} (${site(x.site)})`);
      }));
  user.command('set-password <ext>').requiredOption('--password <pw>').description("replace a user's password")
    .action((ext: string, o: { password: string }) => run('user.set-password', { ext, password: o.password }, () => out(`set the password of user ${ext}`)));
  user.command('remove <ext>').description('remove a user').action((ext: string) => run('user.remove', { ext }, () => out(`removed user ${ext}`)));
  user.command('list').description('list users')
    .action(() => run('user.list', {}, rows((u) => `${String(u['ext']).padEnd(12)} ${String(u['name'] || '-').padEnd(24)} ${String(u['realm']).padEnd(24)} ${site(u['site'])}`, 'no users')));

  const route = admin.command('route').description('the dial plan');
  route.command('add <pattern>').option('--action <action>').option('--target <target>').option('--priority <n>').option('--strip <n>').option('--prefix <digits>').option('--id <id>').option('--site <site>')
    .description('add a route, or replace one by id')
    .action((pattern: string, o: { action?: string; target?: string; priority?: string; strip?: string; prefix?: string; id?: string; site?: string }) =>
      run('route.add', defined({ pattern, action: o.action, target: o.target, priority: num(o.priority), strip: num(o.strip), prefix: o.prefix, id: o.id, site: o.site }), (r) => out(`route ${(r as { id: string }).id}: ${pattern}`)));
  route.command('remove <id>').description('remove a route').action((id: string) => run('route.remove', { id }, () => out(`removed route ${id}`)));
  route.command('list').description('list routes')
    .action(() => run('route.list', {}, rows((r) => `${String(r['priority']).padStart(5)}  ${String(r['pattern']).padEnd(14)} ${String(r['action'])}${r['target'] ? ` ${String(r['target'])}` : ''}  ${String(r['id'])}`, 'no routes')));

  const trunk = admin.command('trunk').description('SIP trunks');
  trunk.command('add <id>').requiredOption('--host <host>').option('--port <port>').option('--transport <t>').option('--codecs <list>').option('--site <site>').option('--disabled')
    .description('add a trunk, or replace one')
    .action((id: string, o: { host: string; port?: string; transport?: string; codecs?: string; site?: string; disabled?: boolean }) =>
      run('trunk.add', defined({ id, host: o.host, port: num(o.port), transport: o.transport, codecs: list(o.codecs), site: o.site, enabled: o.disabled ? false : undefined }), () => out(`trunk ${id}: ${o.host}`)));
  trunk.command('remove <id>').description('remove a trunk').action((id: string) => run('trunk.remove', { id }, () => out(`removed trunk ${id}`)));
  trunk.command('list').description('list trunks')
    .action(() => run('trunk.list', {}, rows((t) => `${String(t['id']).padEnd(16)} ${String(t['transport'])}:${String(t['host'])}:${String(t['port'])}  ${site(t['site'])}`, 'no trunks')));

  const sites = admin.command('site').description('sites, each with its own SIP domain and realm');
  for (const verb of ['create', 'update'] as const) {
    sites.command(`${verb} <id>`).option('--name <name>').option('--domain <domain>').option('--realm <realm>')
      .description(verb === 'create' ? 'create a site' : "change a site's name, domain or realm ('' clears)")
      .action((id: string, o: { name?: string; domain?: string; realm?: string }) => run(`site.${verb}`, defined({ id, name: o.name, domain: o.domain, realm: o.realm }), () => out(`${verb === 'create' ? 'created' : 'updated'} site ${id}`)));
  }
  sites.command('list').description('list sites')
    .action(() => run('site.list', {}, rows((s) => `${String(s['id']).padEnd(16)} ${String(s['name'] || '-').padEnd(20)} domain ${String(s['domain'] || '-')}  realm ${String(s['realm'] || '-')}`, 'no sites')));

  const node = admin.command('node').description('the fleet\'s nodes');
  node.command('list').description('list nodes with their state')
    .action(() => run('node.list', {}, rows((n) => `${String(n['id']).padEnd(16)} ${String(n['role']).padEnd(5)} ${String(n['site'] || '-').padEnd(16)} ${String(n['state'])}`, 'no nodes')));
  node.command('revoke <id>').description("revoke every certificate of a box").action((id: string) => run('node.revoke', { id }, () => out(`revoked box ${id}`)));

  const config = admin.command('config').description('config push: desired config of the fleet, a site or a box (docs/config-push.md)');
  config.command('set <file>').option('--fleet', 'every box').option('--site <site>', 'the boxes of a site').option('--node <id>', 'one box')
    .description('set the desired config document (YAML or JSON sections of the box config; - for stdin); {} clears the scope')
    .action((file: string, o: { fleet?: boolean; site?: string; node?: string }) => {
      const scopes = [o.fleet ? { kind: 'fleet' } : undefined, o.site ? { kind: 'site', id: o.site } : undefined, o.node ? { kind: 'node', id: o.node } : undefined].filter((x) => x !== undefined);
      if (scopes.length !== 1) throw new CliError('config set needs exactly one of --fleet, --site SITE, --node ID');
      return run('config.set', { scope: scopes[0], document: readText(file) }, (r) => out(`desired config of ${o.fleet ? 'the fleet' : o.site ? `site ${o.site}` : `box ${o.node}`} is now version ${(r as { version: number }).version}`));
    });
  config.command('status').description('desired versus reported config of every box')
    .action(() => run('config.status', {}, (r) => {
      const x = r as { documents: DesiredConfigRecord[]; boxes: BoxConfigStatus[] };
      for (const line of formatConfigStatus(x.documents, x.boxes)) out(line);
    }));

  registerAdminUpdateCommands(admin, run, out);
  registerAdminAuditCommand(admin, run, out);

  admin.command('revoke-admin <name>').description("revoke an admin's certificates: the hub refuses its requests").action((name: string) => run('admin.revoke', { name }, () => out(`revoked admin ${name}`)));

  admin.command('batch <file>').description('several changes in one all-or-nothing request: a JSON file {"items":[{"op":…,"body":{…}}]} (- for stdin)')
    .action((file: string) => run('batch', readJson(file), (r) => out(`batch: ${(r as unknown[]).length} changes applied`)));
  admin.command('request <op> [json]').description('send any op with a JSON body (default {}) and print the result as JSON')
    .action((op: string, json: string | undefined) => run(op, json === undefined ? {} : parseJson(json, 'the body'), (r) => out(JSON.stringify(r))));

  const leaves = (c: Command): Command[] => (c.commands.length === 0 ? [c] : c.commands.flatMap(leaves));
  for (const verb of admin.commands.flatMap(leaves)) {
    if (verb.name() !== 'login') verb.option('--credential <dir>', 'as for admin').option('--broker <url>', 'as for admin').option('--timeout <seconds>', 'as for admin').option('--json', 'as for admin');
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : resolve(file), 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function readJson(file: string): unknown {
  return parseJson(readText(file), file);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} is not JSON: ${(err as Error).message}`);
  }
}
