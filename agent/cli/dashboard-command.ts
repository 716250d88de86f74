/**
 * `outpost dashboard passwd|users|remove` (at the hub, with its config): the admins of the fleet
 * dashboard (docs/cli/dashboard.md), kept in `<dataDir>/dashboard-users` with scrypt hashes.
 * The running hub reads the file at each login: no restart needed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadAnyConfig } from '../config/load-config.ts';
import { listUsers, removeUser, setPassword, usersFile } from '../hub/dashboard/passwd.ts';
import { ensureDataDir } from '../store/data-dir.ts';
import { CliError } from './cli-error.ts';
import { readRuntimeInfo } from './runtime-file.ts';

function hubDataDir(file: string): string {
  const any = loadAnyConfig(file);
  if (any.kind !== 'hub') throw new CliError(`the dashboard runs at the hub: run this command with the hub's config, not ${file}`);
  return any.config.dataDir;
}

/** A new password people can type: 16 characters of base64url (96 bits). */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

/** The first line of stdin (a pipe), or asked for without echo on a terminal. */
async function readPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY === true });
  if (process.stdin.isTTY) {
    process.stderr.write('password: ');
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  }
  try {
    for await (const line of rl) return line;
    throw new CliError('no password on stdin (or use --generate)');
  } finally {
    rl.close();
    if (process.stdin.isTTY) process.stderr.write('\n');
  }
}

export function registerDashboardCommands(program: Command, out: (line: string) => void): void {
  const dashboard = program.command('dashboard').description("the admins of the hub's fleet dashboard (run with the hub's config)");

  dashboard
    .command('passwd <user>')
    .description('set (or add) an admin and their password: read from stdin, or made with --generate and printed once')
    .option('--generate', 'make a random password and print it')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action(async (user: string, opts: { generate?: boolean; config: string }) => {
      const dataDir = hubDataDir(opts.config);
      ensureDataDir(dataDir, false);
      const password = opts.generate ? generatePassword() : await readPassword();
      const existed = setPassword(dataDir, user, password);
      out(`${existed ? 'changed the password of' : 'added'} dashboard user ${user} (${usersFile(dataDir)})`);
      if (opts.generate) out(`password: ${password}`);
      const url = readRuntimeInfo(dataDir)?.dashboard;
      out(url ? `log in at ${url}` : 'the dashboard runs when the hub has dashboard.listen (docs/dashboard.md)');
    });

  dashboard
    .command('users')
    .description('list the dashboard admins')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((opts: { config: string }) => {
      const users = listUsers(hubDataDir(opts.config));
      if (users.length === 0) out('no dashboard users (add one: outpost dashboard passwd USER --config HUB.yaml)');
      for (const u of users) out(u);
    });

  dashboard
    .command('remove <user>')
    .description('remove a dashboard admin (their sessions end at expiry or a hub restart)')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((user: string, opts: { config: string }) => {
      if (!removeUser(hubDataDir(opts.config), user)) throw new CliError(`no dashboard user ${user}`);
      out(`removed dashboard user ${user}`);
    });
}

/**
 * The demo's dashboard login (outpost demo): user `admin` with a password made at the first
 * run, kept in `<demo dir>/dashboard-login.txt` (mode 0600) so each start prints it again.
 * Returns the line to print, or undefined when the demo hub has no dashboard.
 */
export function demoDashboardLogin(url: string | undefined, hubDataDir: string, demoDir: string): string | undefined {
  if (!url) return undefined;
  const file = join(demoDir, 'dashboard-login.txt');
  let password = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!password || !listUsers(hubDataDir).includes('admin')) {
    password = generatePassword();
    setPassword(hubDataDir, 'admin', password);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
  }
  return `Fleet dashboard: ${url}  (user admin, password ${password}; kept in ${file})`;
}
