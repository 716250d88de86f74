/**
 * The operator's view of a box, built from the parts main.ts holds and wired with one call:
 * the metrics registry, the health decision (and health.json), alarms, the telemetry sampler
 * and its shell, and the one HTTP server (`http.listen`) with `/` (status page), `/healthz` and
 * `/metrics`. Docs: docs/status-page.md, docs/metrics.md, docs/mqtt/telemetry.md.
 */
import type { Config } from '../config/schema.ts';
import { defaultHttpListen } from '../config/observe-schema.ts';
import { formatListenAddress } from '../config/listen-address.ts';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import { hasCode } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { LoopLag } from '../lib/loop-lag.ts';
import type { UdpMediaRelay } from '../media/udp-media-relay.ts';
import type { SipEndpoint } from '../sip/sip-endpoint.ts';
import type { Store } from '../store/store.ts';
import type { FloodGuard } from '../switch/flood-guard.ts';
import type { SyncStatus } from '../sync/sync-status.ts';
import type { Telemetry } from '../wire/telemetry.ts';
import { AlarmTracker, alarmConditions } from './alarms.ts';
import { boxMetrics, type SwitchCounts } from './box-metrics.ts';
import { decideHealth, type Health } from './health.ts';
import { writeHealth } from './health-file.ts';
import { HttpServer } from './http-server.ts';
import { metricsRoute, parseListen } from './metrics-server.ts';
import type { SipCounters } from './sip-counters.ts';
import { renderStatusPage, type StatusView } from './status-page.ts';
import { TelemetrySampler } from './telemetry-core.ts';
import { procReaders, readTemperatures } from './telemetry-readers.ts';
import { TelemetryService } from './telemetry-service.ts';
import { SOFTWARE_VERSION } from './version.ts';

export interface BoxObserverParts {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  endpoint: SipEndpoint;
  relay: UdpMediaRelay;
  flood: FloodGuard;
  loopLag: LoopLag;
  sip: SipCounters;
  switchCounts: () => SwitchCounts;
  /** Replication's snapshot; undefined on a standalone box or before replication starts. */
  sync: () => SyncStatus | undefined;
  replicates: boolean;
  /** This box's node key is bound by a revoked certificate. */
  revoked: () => boolean;
  /** The SIP trace's HEP export counters; undefined without `trace.hep`. */
  hep: { sent: number; dropped: number } | undefined;
  /** QoS 0 publish on the hub link; false when there is none up. */
  publish: (topic: string, payload: string) => boolean;
}

export interface BoxObserver {
  /** The HTTP server once it listens; undefined when disabled or its default port was busy. */
  readonly http: HttpServer | undefined;
  readonly telemetry: TelemetryService;
  health(): Health;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function boxObserver(p: BoxObserverParts): BoxObserver {
  const { config, store, clock } = p;
  const log = p.logger.child({ mod: 'observer' });
  const startedAt = clock.now();
  const uptimeS = () => (clock.now() - startedAt) / 1000;
  const registry = boxMetrics({
    store, clock, version: SOFTWARE_VERSION, switch: p.switchCounts, sip: p.sip, relay: () => p.relay.traffic(),
    bans: () => ({ active: store.bans.active(clock.now()).length, issued: p.flood.stats.bansIssued, rateLimited: p.flood.stats.rateLimited, bannedDrops: p.flood.stats.bannedDrops }),
    hep: () => p.hep,
    ...(p.replicates ? { sync: p.sync } : {}),
  });
  const health = (): Health => {
    let storeOk: true | string = true;
    try {
      store.dataVersion();
    } catch (err) {
      storeOk = (err as Error).message;
    }
    return decideHealth({ sipListening: p.endpoint.bound.every((b) => b.port > 0), store: storeOk, loopLagMs: p.loopLag.lagMs, revoked: p.revoked() });
  };
  const tracker = new AlarmTracker();
  let alarms = tracker.update([], clock.now());
  const refreshAlarms = () =>
    (alarms = tracker.update(alarmConditions({ sync: p.sync(), hubConfigured: config.hub !== undefined, revoked: p.revoked(), ...(httpProblem ? { httpUnavailable: httpProblem } : {}) }), clock.now()));
  const hubLagS = (s: SyncStatus | undefined): number | null => {
    const hub = s?.peers.find((x) => x.role === 'hub');
    return hub ? Math.max(0, ...hub.streams.map((st) => st.lagSeconds)) : null;
  };
  const syncSummary = (): Telemetry['sync'] => {
    const s = p.sync();
    const lag = config.hub ? hubLagS(s) : null;
    return {
      hubLagMs: lag === null ? null : Math.round(lag * 1000),
      hubLinked: s?.links.some((l) => l.name === 'hub' && l.connected) ?? false,
      peers: (s?.liveness ?? []).slice(0, 64).map((x) => ({ id: x.nodeId, up: x.state === 'up' })),
    };
  };
  let telemetry: TelemetryService;
  const sampler = new TelemetrySampler(procReaders(config.dataDir), {
    node: config.node.id, site: config.node.site, version: SOFTWARE_VERSION, uptimeS,
    loopDelayMs: () => p.loopLag.lagMs,
    tempsC: () => telemetry.temps,
    sip: () => { const c = p.switchCounts(); return { registrations: c.registrations, activeCalls: c.activeCalls }; },
    sync: syncSummary,
    alarms: () => refreshAlarms(),
  }, clock);
  telemetry = new TelemetryService({ nodeId: config.node.id, sampler, intervalMs: config.telemetry.interval * 1000, clock, logger: log, publish: p.publish, readTemps: readTemperatures });

  const view = (): StatusView => {
    const now = clock.now();
    const s = p.sync();
    refreshAlarms();
    const hubLink = s?.links.find((l) => l.name === 'hub');
    const lagOf = (id: string) => { const peer = s?.peers.find((x) => x.nodeId === id); return peer && peer.streams.length ? Math.max(...peer.streams.map((st) => st.lagSeconds)) : null; };
    let cdrs = store.cdrs.since(now - 3_600_000, 1000);
    if (cdrs.length < 10) cdrs = store.cdrs.since(now - 7 * 86_400_000, 1000);
    const counts = p.switchCounts();
    return {
      health: health(), version: SOFTWARE_VERSION, node: config.node.id, site: config.node.site, domain: config.sip.domain, uptimeS: uptimeS(), now,
      sipListen: p.endpoint.bound.map((b) => formatListenAddress({ protocol: b.protocol, host: b.address, port: b.port })),
      hub: config.hub ? { url: config.hub.url, connected: hubLink?.connected ?? false, lagS: hubLagS(s) } : null,
      peers: (s?.liveness ?? []).map((x) => ({ id: x.nodeId, state: x.state, since: x.since, lagS: lagOf(x.nodeId) })),
      registrations: store.registrations.allLive(now).map((b) => ({ aor: b.aor, contact: b.contact, expiresIn: Math.round((b.expiresAt - now) / 1000), userAgent: b.userAgent })),
      activeCalls: counts.activeCalls,
      cdrs: cdrs.slice(-10).reverse(),
      alarms,
      telemetry: telemetry.last,
    };
  };
  const healthz = () => {
    const h = health();
    return { status: h.healthy ? 200 : 503, contentType: 'application/json', body: `${JSON.stringify(h.healthy ? { status: 'ok' } : { status: 'unhealthy', reasons: h.reasons })}\n` };
  };
  const listen = config.http.listen ?? defaultHttpListen(config.sip.listen);
  const server = config.http.enabled
    ? new HttpServer({
        ...parseListen(listen),
        name: 'http',
        quiet: true,
        logger: log,
        routes: {
          '/': () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: renderStatusPage(view()) }),
          '/healthz': healthz,
          '/metrics': metricsRoute(registry),
        },
      })
    : undefined;
  let http: HttpServer | undefined;
  let httpProblem: string | undefined;
  let timer: TimerHandle | undefined;
  const writeHealthFile = () => {
    try {
      writeHealth(config.dataDir, { at: clock.now(), ...health() });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot write health.json');
    }
  };
  const tick = () => {
    writeHealthFile();
    timer = clock.setTimeout(tick, 1000);
  };

  return {
    get http() {
      return http;
    },
    telemetry,
    health,
    async start() {
      if (server) {
        try {
          await server.start();
          http = server;
        } catch (err) {
          // The default address is a convenience: a busy default port does not stop the box.
          if (config.http.listen !== undefined || !hasCode(err, 'control.listen')) throw err;
          // An alarm, not a log line at info: every box of a test or a docs example shares the default.
          httpProblem = (err as Error).message;
          log.debug({ listen, err: httpProblem }, 'status page not served: set http.listen to a free address');
        }
      }
      telemetry.start();
      tick();
    },
    async stop() {
      clock.clearTimeout(timer);
      telemetry.stop();
      await http?.stop();
      http = undefined;
    },
  };
}
