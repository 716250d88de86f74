/**
 * The `outpost` command line: parses arguments with commander and runs one command. The only
 * place that writes to the terminal directly; errors become one line and a non-zero exit.
 */
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.ts';
import { AgentError } from '../lib/errors.ts';
import { DataDirError } from '../store/errors.ts';
import { ConfigUseError, NotRunningError } from './cli-error.ts';
import { registerBrokerCommands } from './broker-command.ts';
import { AdminError } from '../admin/errors.ts';
import { adminExitCode, registerAdminCommands } from './admin-command.ts';
import { registerAuditCommand } from './admin-audit-command.ts';
import { registerCdrCommands } from './cdr-command.ts';
import { registerDashboardCommands } from './dashboard-command.ts';
import { registerConfigCommands } from './config-command.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerEnrolCommands } from './enrol-command.ts';
import { registerHubCommand } from './hub-command.ts';
import { registerNodeCommand } from './node-command.ts';
import { registerNodeReplaceCommand } from './node-replace-command.ts';
import { registerNodeRevokeCommand } from './node-revoke-command.ts';
import { registerRouteCommands } from './route-command.ts';
import { registerSiteCommands } from './site-command.ts';
import { registerStatusCommand } from './status-command.ts';
import { registerTraceCommand } from './trace-command.ts';
import { registerTrunkCommands } from './trunk-command.ts';
import { registerUserCommands } from './user-command.ts';
import { registerUpdateCommands } from './update-command.ts';

/** `out` prints a result line (stdout), `warn` a warning line that does not fail the command (stderr). */
export function buildProgram(out: (line: string) => void, warn: (line: string) => void): Command {
  const program = new Command('outpost')
    .description('Outpost: a branch-office SIP switch that keeps working without the WAN')
    .version('0.1.0')
    .showHelpAfterError('(run "outpost help" for usage)')
    .enablePositionalOptions() // lets `node replace` have a --config of its own (node-command.ts)
    .exitOverride();
  const node = registerNodeCommand(program);
  registerNodeReplaceCommand(node, out);
  registerNodeRevokeCommand(node, out);
  registerHubCommand(program);
  registerDemoCommand(program, out);
  registerUserCommands(program, out);
  registerStatusCommand(program, out);
  registerRouteCommands(program, out, warn);
  registerTrunkCommands(program, out);
  registerSiteCommands(program, out);
  registerCdrCommands(program, out);
  registerEnrolCommands(program, out);
  registerBrokerCommands(program, out);
  registerTraceCommand(program, out, warn);
  registerDashboardCommands(program, out);
  registerConfigCommands(program, out);
  registerAdminCommands(program, out);
  registerAuditCommand(program, out);
  registerUpdateCommands(program, out);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const warn = (line: string) => process.stderr.write(`outpost: ${line}\n`);
  // `outpost status | head`: the reader went away; stop quietly as other tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  // The config file of the command being run: errors of the host that a config key caused
  // (see restate) are told in terms of that key and file.
  let configFile: string | undefined;
  const program = buildProgram(out, warn).hook('preAction', (_program, action) => {
    const config: unknown = action.opts()['config'];
    if (typeof config === 'string') configFile = resolve(config);
  });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (thrown) {
    const err = restate(thrown, configFile);
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError) {
      process.stderr.write(`outpost: ${err.message}\n`);
      if (err.problems.length > 1) process.stderr.write(`${err.describe()}\n`);
      return 2;
    }
    if (err instanceof AgentError) {
      process.stderr.write(`outpost: ${err.message}\n`);
      if (err instanceof AdminError) return adminExitCode(err);
      return err instanceof NotRunningError ? NotRunningError.EXIT_CODE : 1;
    }
    process.stderr.write(`outpost: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 70;
  }
}

/** A data directory that cannot be made becomes a config error naming `dataDir` and the file. */
function restate(err: unknown, configFile: string | undefined): unknown {
  if (err instanceof DataDirError) return new ConfigUseError('dataDir', err.dir, configFile, err.reason, { cause: err });
  return err;
}
