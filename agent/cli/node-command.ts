/**
 * `outpost node --config FILE`: runs the box until SIGINT/SIGTERM, then stops every part in
 * reverse order with all pending writes committed. SIGHUP reads the config file again and applies
 * it as config push does (docs/config-push.md). Logs JSON lines on stdout.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { SystemdNotifier } from '../lib/sd-notify.ts';
import { buildNode, type Node } from '../main.ts';
import { hasCredentials } from '../trust/credentials.ts';
import { bindFailureInConfigTerms } from './bind-failure.ts';
import { enrolBox } from './enrol-command.ts';
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-file.ts';
import { untilStopSignal } from './stop-signal.ts';

/** Returns the `node` command, under which `node replace` sits (node-replace-command.ts). */
export function registerNodeCommand(program: Command): Command {
  const node: Command = program
    .command('node')
    .description('run the box: SIP registrar on the configured listen addresses')
    // `node replace ID --config HUBFILE`: that --config is the subcommand's, so this one is
    // optional to commander (it checks an ancestor's required options too) and checked here.
    .enablePositionalOptions()
    .option('-c, --config <file>', 'config file (required)');
  return node.action(async (opts: { config?: string }) => {
      if (opts.config === undefined) node.error("error: required option '-c, --config <file>' not specified", { code: 'commander.missingMandatoryOptionValue' });
      const config = loadConfig(opts.config);
      const logger = createLogger({ level: config.log.level });
      // Under systemd (Type=notify): READY=1 once serving, then the watchdog pings.
      const systemd = new SystemdNotifier({ env: process.env, pid: process.pid, onError: (message) => logger.warn({ mod: 'sd-notify' }, message) });
      try {
        await runNode(config, logger, () => systemd.ready(`serving as ${config.node.id}`), { configFile: resolve(opts.config) });
      } catch (err) {
        throw bindFailureInConfigTerms(err, config, resolve(opts.config)) ?? err;
      } finally {
        systemd.stop();
      }
    });
}

/** Starts a node and keeps it running until a stop signal; resolves after a clean stop. */
export async function runNode(config: Config, logger: Logger, onStarted?: (node: Node) => unknown, options: { configFile?: string } = {}): Promise<void> {
  // First start of a box given a claim code: enrol before anything else (docs/enrolment.md).
  if (config.enrol && !hasCredentials(config.dataDir)) await enrolBox(config, config.enrol.hub, config.enrol.claim, logger);
  const node = buildNode(config, logger, undefined, options);
  // SIGHUP: read the file again; live keys apply, the others wait for a restart (docs/cli/node.md).
  const onHangUp = () => {
    logger.info({ signal: 'SIGHUP' }, 'reading the config file again');
    node.configPush.reread();
  };
  process.on('SIGHUP', onHangUp);
  try {
    await node.start();
  } catch (err) {
    process.off('SIGHUP', onHangUp);
    await node.stop().catch(() => undefined);
    throw err;
  }
  writeRuntimeInfo(config.dataDir, {
    pid: process.pid,
    nodeId: config.node.id,
    site: config.node.site,
    startedAt: new Date().toISOString(),
    listen: node.listenAddresses(),
    ...(node.broker ? { mqtt: node.broker.url } : {}),
    ...(node.metrics ? { metricsPort: node.metrics.port } : {}),
  });
  // Logged after node.json exists, so a `status` run on this line finds the node running.
  logger.info({ node: config.node.id, site: config.node.site, listen: node.listenAddresses() }, 'node started');
  onStarted?.(node);
  await untilStopSignal(logger);
  process.off('SIGHUP', onHangUp);
  await node.stop().catch((err: Error) => logger.error({ err: err.message }, 'error while stopping'));
  removeRuntimeInfo(config.dataDir);
}
