/**
 * The hub's admin API (docs/mqtt/admin.md): a client of the hub's own broker, with the hub's
 * certificate, subscribed to `admin/request/+`. Each request goes through RequestVerifier (who
 * signed it, when, not replayed, not revoked) and then OpExecutor against the hub's store; the
 * answer goes to the admin's own response topic with the transaction id. A refused request is
 * answered too (when it names an admin) and logged at warn; nothing of it runs.
 */
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import { BrokerLink } from '../sync/broker-link.ts';
import { linkTlsOptions } from '../sync/link-tls.ts';
import type { Credentials } from '../trust/credentials.ts';
import type { RevocationLookup } from '../trust/revocation.ts';
import { ADMIN_NAME, adminTopics, parseAdminTopic, type AdminResponse } from '../wire/admin.ts';
import { OpExecutor, type Outcome } from './op-executor.ts';
import { ADMIN_OPS } from './ops/index.ts';
import { RequestVerifier } from './request-verifier.ts';

/** How far a request's timestamp may be from the hub's clock (docs/mqtt/admin.md). */
export const DEFAULT_WINDOW_MS = 60_000;

export interface AdminServiceOptions {
  hubId: string;
  brokerUrl: string;
  /** The hub's credentials (mqtts: the client certificate; its CA checks admins' certificates). */
  credentials: Credentials;
  store: Store;
  hubDataDir: string;
  defaultRealm: string | undefined;
  revoked: RevocationLookup;
  nodeOnline: (nodeId: string) => boolean | undefined;
  clock: Clock;
  logger: Logger;
  windowMs?: number;
}

export interface AdminStats {
  requests: number;
  refused: number;
  failed: number;
}

export class AdminService {
  readonly stats: AdminStats = { requests: 0, refused: 0, failed: 0 };
  private readonly verifier: RequestVerifier;
  private readonly executor: OpExecutor;
  private readonly link: BrokerLink;

  constructor(private readonly o: AdminServiceOptions) {
    this.verifier = new RequestVerifier({ caPem: o.credentials.ca, revoked: o.revoked, clock: o.clock, windowMs: o.windowMs ?? DEFAULT_WINDOW_MS });
    this.executor = new OpExecutor(ADMIN_OPS, (actor) => ({ store: o.store, now: o.clock.now(), hubDataDir: o.hubDataDir, defaultRealm: o.defaultRealm, nodeOnline: o.nodeOnline, actor }));
    this.link = new BrokerLink({
      name: 'admin',
      url: o.brokerUrl,
      clientId: `${o.hubId}-admin`,
      subscriptions: [adminTopics.allRequests],
      onMessage: (topic, payload) => void this.handle(topic, payload),
      ...(o.brokerUrl.startsWith('mqtts:') ? { tls: linkTlsOptions(o.credentials, { nodeId: o.hubId, role: 'hub' }) } : {}),
      logger: o.logger,
    });
  }

  start(): void {
    this.link.start();
  }

  async stop(): Promise<void> {
    await this.link.stop();
  }

  get connected(): boolean {
    return this.link.connected;
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const t = parseAdminTopic(topic);
    if (t?.kind !== 'adminRequest') return;
    this.stats.requests++;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      body = undefined;
    }
    const verdict = this.verifier.verify(t.op, body);
    if (!verdict.ok) {
      this.stats.refused++;
      this.o.logger.warn({ op: t.op, admin: verdict.admin, transaction: verdict.transaction, reason: verdict.reason }, 'admin request refused');
      if (verdict.admin !== undefined && ADMIN_NAME.test(verdict.admin)) await this.answer(verdict.admin, t.op, verdict.transaction ?? '', { ok: false, problems: [`refused: ${verdict.reason}`] });
      return;
    }
    const r = verdict.request;
    const outcome = await this.executor.execute(t.op, r.body, r.admin, r.transaction);
    if (!outcome.ok) this.stats.failed++;
    this.o.logger.info({ op: t.op, admin: r.admin, transaction: r.transaction, ok: outcome.ok, ...(outcome.ok ? {} : { problems: outcome.problems.length }) }, 'admin request');
    await this.answer(r.admin, t.op, r.transaction, outcome);
  }

  private async answer(admin: string, op: string, transaction: string, outcome: Outcome): Promise<void> {
    const response: AdminResponse = outcome.ok ? { v: 1, transaction, ok: true, result: outcome.result ?? null } : { v: 1, transaction, ok: false, problems: outcome.problems };
    await this.link.publish(adminTopics.response(admin, op), JSON.stringify(response)).catch((err: Error) => this.o.logger.warn({ op, admin, err: err.message }, 'admin response not sent'));
  }
}
