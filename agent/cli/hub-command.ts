/**
 * `outpost hub --config FILE`: runs the hub (a replica of every store and the fleet's broker)
 * until SIGINT/SIGTERM. Writes `<dataDir>/node.json` with the broker address nodes join.
 * SIGHUP (`systemctl reload`) reads the file again and checks it: the hub keeps running either
 * way, logs the problems of an invalid file, or the keys that changed, which take effect at the
 * next start (the hub reconfigures nothing live).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { changedKeys } from '../config/key-apply.ts';
import { loadHubConfig } from '../config/load-config.ts';
import type { HubConfig } from '../config/hub-schema.ts';
import { buildHub, type Hub } from '../hub/hub.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { hubBindFailureInConfigTerms } from './bind-failure.ts';
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-file.ts';
import { untilStopSignal } from './stop-signal.ts';

export function registerHubCommand(program: Command): void {
  program
    .command('hub')
    .description('run the hub: a replica of every box and the MQTT broker they sync through')
    .requiredOption('-c, --config <file>', 'hub config file (docs/config/hub.md)')
    .action(async (opts: { config: string }) => {
      const config = loadHubConfig(opts.config);
      const logger = createLogger({ level: config.log.level });
      let hub: Hub;
      try {
        hub = await startHub(config, logger);
      } catch (err) {
        throw hubBindFailureInConfigTerms(err, config, resolve(opts.config)) ?? err;
      }
      const onHangUp = () => checkHubConfigAgain(opts.config, config, logger);
      process.on('SIGHUP', onHangUp);
      await untilStopSignal(logger);
      process.off('SIGHUP', onHangUp);
      await stopHub(hub, logger);
    });
}

/** Builds and starts a hub and records it in its runtime file. */
export async function startHub(config: HubConfig, logger: Logger): Promise<Hub> {
  const hub = buildHub(config, logger);
  try {
    await hub.start();
  } catch (err) {
    await hub.stop().catch(() => undefined);
    throw err;
  }
  writeRuntimeInfo(config.dataDir, {
    pid: process.pid,
    nodeId: config.id,
    site: '',
    startedAt: new Date().toISOString(),
    listen: [],
    mqtt: hub.brokerUrl(),
    ...(hub.metrics ? { metricsPort: hub.metrics.port } : {}),
    ...(hub.enrolUrl() ? { enrol: hub.enrolUrl()! } : {}),
    ...(hub.dashboardUrl() ? { dashboard: hub.dashboardUrl()! } : {}),
  });
  // Logged after node.json exists, so a `status` run on this line finds the hub running.
  logger.info({ hub: config.id, broker: hub.brokerUrl(), metrics: hub.metrics?.port, enrol: hub.enrolUrl(), dashboard: hub.dashboardUrl() }, 'hub started');
  return hub;
}

export async function stopHub(hub: Hub, logger: Logger): Promise<void> {
  await hub.stop().catch((err: Error) => logger.error({ err: err.message }, 'error while stopping the hub'));
  removeRuntimeInfo(hub.config.dataDir);
}

/** SIGHUP: the file read and checked again against the config the hub runs with. */
export function checkHubConfigAgain(file: string, running: HubConfig, logger: Logger): string[] {
  let next: HubConfig;
  try {
    next = loadHubConfig(file);
  } catch (err) {
    logger.error({ signal: 'SIGHUP', err: (err as Error).message }, 'config file not valid; the hub runs on with the config it started with');
    return [];
  }
  const changed = changedKeys(running, next);
  if (changed.length === 0) logger.info({ signal: 'SIGHUP' }, 'config file read again: nothing changed');
  else logger.warn({ signal: 'SIGHUP', changed }, 'config file read again: these keys take effect at the next start of the hub');
  return changed;
}
