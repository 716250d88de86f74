/**
 * The composition root of a node: builds every part from the validated config, wires them,
 * starts them in order and stops them in reverse. Nothing here parses arguments (agent/cli/)
 * and nothing else in the agent constructs parts.
 */
import type { Config } from './config/schema.ts';
import { formatListenAddress } from './config/listen-address.ts';
import { createSystemClock, type Clock, type TimerHandle } from './lib/clock.ts';
import { LoopLag } from './lib/loop-lag.ts';
import type { Logger } from './lib/logger.ts';
import { DigestAuthenticator } from './sip/auth/digest-authenticator.ts';
import { UdpMediaRelay } from './media/udp-media-relay.ts';
import { availableCodecs } from './media/codec/codec.ts';
import { SipEndpoint } from './sip/sip-endpoint.ts';
import { Store } from './store/store.ts';
import { boxObserver } from './control/box-observer.ts';
import { SipCounters } from './control/sip-counters.ts';
import { ConfigPush } from './control/config-push.ts';
import { liveReconfigurer } from './control/live-reconfigurer.ts';
import { CertificateRenewer } from './trust/certificate-renewer.ts';
import { LiveCredentials } from './trust/live-credentials.ts';
import { REVOKED_MESSAGE } from './trust/revocation.ts';
import type { HttpServer } from './control/http-server.ts';
import { SyncStatusFile } from './control/sync-status-file.ts';
import { embeddedBrokerAt, type EmbeddedBroker } from './sync/embedded-broker.ts';
import { loadNodeTls } from './trust/node-tls.ts';
import { sipTlsOptions } from './sip/transport/tls-credentials.ts';
import { routablePeerState } from './sip/transport/tls-peers.ts';
import { NodeKey, verifySignature } from './sync/node-key.ts';
import { CdrTakeoverService } from './sync/cdr-takeover-service.ts';
import { Replicator, type ReplicatorOptions } from './sync/replicator.ts';
import { syncStatus } from './sync/sync-status.ts';
import { CallController } from './switch/calls/call-controller.ts';
import { NodeAssertion } from './switch/calls/node-assertion.ts';
import { SitePeers } from './switch/calls/site-peers.ts';
import { FloodGuard } from './switch/flood-guard.ts';
import { peerVouches } from './switch/calls/peer-vouch.ts';
import { Registrar } from './switch/registrar.ts';
import { announcedSipAddress, PeerKeepAlive, type PeerLivenessView } from './switch/peers/peer-keep-alive.ts';
import { RequestDispatcher } from './switch/request-dispatcher.ts';
import { buildSipTrace } from './trace/sip-trace.ts';
import { SiteSip } from './switch/site-sip.ts';
import { BoxUpdates } from './update/box-updates.ts';

export interface Node {
  readonly config: Config;
  readonly store: Store;
  readonly endpoint: SipEndpoint;
  readonly registrar: Registrar;
  readonly flood: FloodGuard;
  readonly calls: CallController;
  readonly relay: UdpMediaRelay;
  /** The broker for site peers (`mqtt.listen`). */
  readonly broker: EmbeddedBroker | undefined;
  /** The box's HTTP server (`http.listen`): status page, /healthz, /metrics; undefined when not serving. */
  readonly metrics: HttpServer | undefined;
  /** Liveness of the site's peers (a box that replicates). */
  readonly peers: PeerLivenessView | undefined;
  /** Config push and SIGHUP (docs/config-push.md). */
  readonly configPush: ConfigPush;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Bound listen addresses as `proto:host:port` (OS-chosen ports filled in). */
  listenAddresses(): string[];
}

export function buildNode(config: Config, logger: Logger, clock: Clock = createSystemClock(), options: { configFile?: string } = {}): Node {
  const store = Store.open({ dataDir: config.dataDir });
  // Config push (docs/config-push.md): the file overlaid by the desired documents in the store.
  const push = new ConfigPush({ config, ...(options.configFile ? { file: options.configFile } : {}), store, clock, logger });
  config = push.boot;
  const flood = new FloodGuard(config.sip.flood, { clock, store, nodeId: config.node.id, logger: logger.child({ mod: 'flood' }) });
  const authenticator = new DigestAuthenticator({
    realm: config.sip.realm ?? config.sip.domain,
    clock,
    nonceLifetimeMs: config.sip.auth.nonceLifetime * 1000,
    algorithms: config.sip.auth.algorithms,
  });
  // The site's own domain and realm when the admin set them (replicated `sites` row), live.
  const sip = new SiteSip({ site: config.node.site, sites: store.sites, configDomain: config.sip.domain, configRealm: config.sip.realm, authenticator, logger: logger.child({ mod: 'sip' }) });
  sip.refresh();
  const loopLag = new LoopLag(clock);
  const registrar = new Registrar({
    store,
    nodeId: config.node.id,
    site: config.node.site,
    get domain() {
      return sip.domain;
    },
    config: config.sip.registrar,
    authenticator,
    flood,
    clock,
    logger: logger.child({ mod: 'registrar' }),
    lagMs: () => loopLag.lagMs,
  });
  const relay = new UdpMediaRelay({
    address: config.rtp.address!,
    portRange: config.rtp.portRange,
    timeoutMs: config.rtp.timeout * 1000,
    clock,
    logger: logger.child({ mod: 'media' }),
  });
  const replicates = config.hub !== undefined || config.peers.length > 0 || config.mqtt !== undefined;
  const nodeKey = replicates ? NodeKey.loadOrCreate(config.dataDir) : undefined;
  // The certificate from enrolment (docs/security.md): mTLS for the brokers and links, and the identity peers believe.
  const tls = nodeKey ? loadNodeTls(config.dataDir, { nodeId: config.node.id, site: config.node.site, role: 'node', nodeKey: nodeKey.publicKey }) : undefined;
  // A renewed certificate replaces these while the node runs (SIP TLS, broker, links, state).
  const live = tls ? new LiveCredentials(tls.credentials, logger.child({ mod: 'renewal' })) : undefined;
  // Routing skips a peer that liveness does not know to be up (no new request waits on a dead box).
  const sitePeers: SitePeers = new SitePeers((id): boolean => keepAlive?.isUp(id) ?? true);
  // The endpoint and the call controller need each other: the controller sends through the
  // endpoint, the endpoint hands requests up. The user object closes over `calls`.
  let calls: CallController | undefined;
  let dispatcher: RequestDispatcher | undefined;
  const sipCounters = new SipCounters();
  const endpoint = new SipEndpoint({
    listen: config.sip.listen,
    clock,
    timers: config.sip.timers,
    logger: logger.child({ mod: 'sip' }),
    counters: sipCounters,
    // A site peer's signed requests are never throttled or banned (docs/inter-box.md).
    admit: (ip, data): boolean => flood.admit(ip, (): boolean => peerVouches({ peers: sitePeers, assertion }, ip, data)),
    user: {
      onRequest: (incoming) => void dispatcher!.dispatch(incoming),
      onAck: (ack) => calls!.handleAck(ack),
      onCancel: (_cancel, invite) => calls!.handleCancel(invite),
    },
    // Any message from a site peer's SIP address shows it alive (docs/peer-liveness.md).
    onReceived: (source) => keepAlive?.heardFrom(source),
    // SIP over TLS (docs/sip-tls.md): the operator's certificate or the node's; mutual with site peers.
    ...sipTlsOptions(config.sip.tls, live, (dest): string | undefined => sitePeers.nodeAt(dest)),
  });
  // Calls across the boxes of the site (docs/inter-box.md): peers' addresses from their states,
  // INVITEs between boxes signed with the node key and checked against the pinned keys.
  const broker = config.mqtt ? embeddedBrokerAt(config.mqtt.listen, logger.child({ mod: 'broker' }), tls && (() => ({ credentials: tls.credentials, live, owner: tls.identity, revoked: (serial: string) => store.revocations.get(serial) }))) : undefined;
  // A node key bound by a revoked certificate signs no inter-box SIP (docs/security.md, Revocation).
  const keyOf = (id: string) => {
    const key = store.changes.knownKey(id) ?? store.nodes.get(id);
    if (!key || !store.revocations.keyRevoked(id, key.publicKey)) return key;
    logger.warn({ mod: 'calls', node: id }, REVOKED_MESSAGE);
    return undefined;
  };
  const assertion = new NodeAssertion({ nodeId: config.node.id, site: config.node.site, ...(nodeKey ? { signer: nodeKey } : {}), keyOf, verify: verifySignature, clock });
  calls = new CallController({
    endpoint,
    store,
    relay,
    authenticator,
    flood,
    nodeId: config.node.id,
    site: config.node.site,
    get domain() {
      return sip.domain;
    },
    config: config.calls,
    codecs: { available: transcodableCodecs(logger), boxDefault: config.rtp.codecs },
    timers: { t1: config.sip.timers.t1, t2: config.sip.timers.t2 },
    clock,
    logger: logger.child({ mod: 'calls' }),
    assertion,
    peers: sitePeers,
    peersOnlyTls: config.sip.tls.peersOnly,
  });
  // SIP trace (docs/sip-trace.md): HEP export to Homer (`trace.hep`) and the socket of `outpost trace`.
  const trace = buildSipTrace({ config: config.trace, dataDir: config.dataDir, nodeId: config.node.id, boxAddress: config.rtp.address, observeSip: (o) => endpoint.observe(o), observeRtcp: (o) => relay.observeRtcp(o), clock, logger: logger.child({ mod: 'trace' }) });
  dispatcher = new RequestDispatcher({ registrar, calls, userAgent: config.sip.userAgent, logger: logger.child({ mod: 'switch' }) });

  // Replication: the box's broker for its site peers, and the replicator when the box joins a
  // hub, lists peers or runs that broker. Status page, /healthz, /metrics and telemetry on every box.
  // Users and bans changed under the caches: merged by the replicator, or committed by the CLI.
  const reloadCaches = () => {
    sip.refresh();
    store.users.invalidate();
    flood.reloadBans();
    push.refresh();
  };
  const replicatorOptions = nodeKey ? { ...nodeReplicatorOptions(config, store, nodeKey, logger), onApplied: reloadCaches, ...(tls ? { tls: tls.credentials } : {}) } : undefined;
  // Built in start(): it announces the broker's bound address (port 0: known once it listens).
  let replicator: Replicator | undefined;
  push.attach(liveReconfigurer({ logger, registrar, flood, authenticator, calls, replicator: () => replicator }));
  const keepAlive = replicates
    ? new PeerKeepAlive({ nodeId: config.node.id, domain: config.sip.domain, userAgent: config.sip.userAgent, listed: config.peers.map((p) => p.id), signalling: endpoint, clock, logger: logger.child({ mod: 'peers' }) })
    : undefined;
  const status = () =>
    replicator ? { ...syncStatus(replicator, clock.now()), ...(keepAlive ? { liveness: keepAlive.status() } : {}), ...(broker?.guard ? { broker: { ...broker.guard.stats } } : {}) } : undefined;
  // Closes the calls of a dead box of the site (docs/calls.md, 9), fed by peer liveness.
  const takeover = replicates ? new CdrTakeoverService({ store, self: config.node.id, site: config.node.site, graceSeconds: config.sync.takeoverGrace, clock, logger: logger.child({ mod: 'takeover' }) }) : undefined;
  // Renewal before expiry (docs/enrolment.md): the new node.crt is used at once (`live`).
  const renewHub = config.renewal.hub ?? config.enrol?.hub;
  const renewer = tls && nodeKey && renewHub
    ? new CertificateRenewer({ dataDir: config.dataDir, hubUrl: renewHub, nodeKey, live, clock, logger: logger.child({ mod: 'renewal' }),
        policy: { window: config.renewal.window, retryMinMs: config.renewal.retryMin * 1000, retryMaxMs: config.renewal.retryMax * 1000 } })
    : undefined;
  // A/B updates from the hub (docs/updates.md): the offer for this box, once the hub permits it.
  const updates = config.hub
    ? new BoxUpdates({ nodeId: config.node.id, site: config.node.site, dataDir: config.dataDir, store, hubUrl: renewHub, tls: () => live?.current ?? tls?.credentials, activeCalls: () => calls!.activeCalls, clock, logger: logger.child({ mod: 'update' }) })
    : undefined;
  const statusFile = replicates ? new SyncStatusFile({ dataDir: config.dataDir, status, clock, logger }) : undefined;
  const switchCounts = () => ({ registrations: store.registrations.countLive(clock.now()), activeCalls: calls!.activeCalls, registrar: registrar.stats });
  // Status page, /healthz, /metrics and telemetry (docs/status-page.md).
  const observer = boxObserver({ config, store, clock, logger, endpoint, relay, flood, loopLag, sip: sipCounters, switchCounts, sync: status, replicates, hep: trace.hep,
    revoked: () => (nodeKey ? store.revocations.keyRevoked(config.node.id, nodeKey.publicKey) : false), publish: (topic, payload) => replicator?.publishToHub(topic, payload) ?? false });

  let housekeeping: TimerHandle | undefined;
  let unsubscribePeers: (() => void) | undefined;
  let lastDataVersion = 0;
  const tick = () => {
    // Another connection (the CLI) committed: users and bans may have changed.
    const dv = store.dataVersion();
    if (dv !== lastDataVersion) {
      lastDataVersion = dv;
      reloadCaches();
    }
    registrar.sweep().catch((err: Error) => logger.error({ err: err.message }, 'sweep failed'));
    housekeeping = clock.setTimeout(tick, 1000);
  };

  return {
    config,
    store,
    endpoint,
    registrar,
    flood,
    calls,
    relay,
    broker,
    get metrics() {
      return observer.http;
    },
    peers: keepAlive,
    configPush: push,
    async start() {
      flood.start();
      loopLag.start();
      await relay.start();
      await calls!.start();
      await trace.start();
      await endpoint.start();
      await broker?.start();
      if (replicatorOptions) {
        keepAlive!.start();
        // A peer declared down: calls ringing through it ring its phones directly (docs/failover.md).
        unsubscribePeers = keepAlive!.onChange((t) => {
          if (t.state === 'down') calls!.peerDown(t.peer);
        });
        const sipAddress = announcedSipAddress(endpoint.bound, config.rtp.address, tls !== undefined);
        replicator = new Replicator({
          ...replicatorOptions,
          ...(broker ? { ownBrokerUrl: config.mqtt?.announce ?? broker.url } : {}),
          ...(sipAddress ? { sipAddress } : {}),
          onPeerState: (p) => {
            // sip.tls.peersOnly: calls go to a peer only at its tls: address (docs/sip-tls.md).
            sitePeers.learn(routablePeerState(config.sip.tls.peersOnly, p));
            keepAlive!.peerState(p);
          },
          onPeerLinkLost: (id) => keepAlive!.peerLinkLost(id),
        });
        replicator.start();
        live?.onChange((c) => void replicator?.useCredentials(c));
        takeover?.start(keepAlive ?? replicator.directory);
      }
      statusFile?.start();
      renewer?.start();
      await updates?.start();
      await observer.start();
      lastDataVersion = store.dataVersion();
      housekeeping = clock.setTimeout(tick, 1000);
      // `node started` is logged by the caller once it has recorded the node (agent/cli/node-command.ts).
    },
    async stop() {
      clock.clearTimeout(housekeeping);
      renewer?.stop();
      updates?.stop();
      await observer.stop();
      statusFile?.stop();
      takeover?.stop();
      unsubscribePeers?.();
      // Calls end (CDRs committed) and replicate before the offline state: peers take nothing over.
      await calls!.stop();
      await replicator?.drain(1000);
      await replicator?.stop();
      keepAlive?.stop();
      await broker?.stop();
      await endpoint.stop();
      await trace.stop();
      await relay.stop();
      flood.stop();
      loopLag.stop();
      store.close();
      logger.info({ node: config.node.id }, 'node stopped');
    },
    listenAddresses() {
      return endpoint.bound.map((e) => formatListenAddress({ protocol: e.protocol, host: e.address, port: e.port }));
    },
  };
}

/** What the node's replicator needs besides its broker's address and merge callback. */
function nodeReplicatorOptions(config: Config, store: Store, key: NodeKey, logger: Logger): ReplicatorOptions {
  const siteAdminKey = config.sync.siteAdminKey;
  return {
    role: 'node',
    nodeId: config.node.id,
    site: config.node.site,
    store,
    key,
    ...(siteAdminKey ? { siteAdminKey: NodeKey.load(siteAdminKey, 'site admin key') } : {}),
    ...(config.hub ? { hub: config.hub } : {}),
    peers: config.peers,
    sync: config.sync,
    logger: logger.child({ mod: 'sync' }),
  };
}

/** The codecs the native library was built with; none (calls are relayed only) when it does not load. */
function transcodableCodecs(logger: Logger): string[] {
  try {
    return availableCodecs();
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'codec library not loaded: calls without a common codec will fail');
    return [];
  }
}
