/**
 * The registrar (RFC 3261 §10.3): authenticates REGISTER with digest (RFC 8760), then adds,
 * refreshes or removes bindings of the AoR in the `registrations` table with this node as the
 * owner. Writes go through the store's group commit; the 200 is built only after they
 * committed, so an acknowledged registration is on disk. When the box is overloaded it sheds
 * new registrations with 503 and a random Retry-After (registration-shedding.ts).
 */
import { formatListenAddress } from '../config/listen-address.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Config } from '../config/schema.ts';
import type { SipRequest, SipResponse } from '../sip/message/sip-message.ts';
import { createResponse } from '../sip/message/create-response.ts';
import type { DigestAuthenticator } from '../sip/auth/digest-authenticator.ts';
import type { Endpoint } from '../sip/transport/transport.ts';
import type { Binding } from '../store/registrations.ts';
import type { Store } from '../store/store.ts';
import type { FloodGuard } from './flood-guard.ts';
import { parseRegisterContacts, type ContactSpec } from './register-contacts.ts';
import { authenticateRequest } from './request-auth.ts';
import { aorOf } from './aor.ts';
import { RegistrationShedding } from './registration-shedding.ts';

type RegistrarConfig = Config['sip']['registrar'];

export interface RegistrarDeps {
  store: Store;
  nodeId: string;
  /** The box's site (users of other sites may not register here). */
  site?: string;
  domain: string;
  config: RegistrarConfig;
  authenticator: DigestAuthenticator;
  flood: FloodGuard;
  clock: Clock;
  logger: Logger;
  /** Mean event-loop lag (ms), for load shedding (agent/lib/loop-lag.ts); none: 0. */
  lagMs?: () => number;
  /** The random source of the Retry-After spread (Math.random by default). */
  random?: () => number;
}

export interface RegistrarStats {
  registered: number;
  removed: number;
  challenged: number;
  rejected: number;
  /** REGISTERs answered 503 because the box was overloaded. */
  shed: number;
}

export class Registrar {
  readonly stats: RegistrarStats = { registered: 0, removed: 0, challenged: 0, rejected: 0, shed: 0 };
  private readonly shedding: RegistrationShedding;
  /** REGISTERs past authentication, waiting for their write to commit. */
  private pending = 0;

  constructor(private readonly deps: RegistrarDeps) {
    this.shedding = new RegistrationShedding(deps.config, deps.random);
  }

  /**
   * Live config (docs/config-push.md): the expiry bounds, contact limit and shedding apply from
   * the next REGISTER (the section object is shared with the shedding, so it is updated in place).
   */
  reconfigure(section: RegistrarConfig): void {
    Object.assign(this.deps.config, section);
  }

  async handle(req: SipRequest, source: Endpoint): Promise<SipResponse> {
    const d = this.deps;
    // Before any work (digest, SQL): an overloaded box turns new registrations away for a while.
    const shed = this.shedding.decide({ lagMs: d.lagMs?.() ?? 0, pending: this.pending }, req.headers.has('authorization'));
    if (shed.shed) {
      this.stats.shed++;
      d.logger.debug({ why: shed.why, retryAfter: shed.retryAfter, pending: this.pending }, 'register shed');
      return this.reject(req, 503, 'Overloaded, retry later', [['Retry-After', String(shed.retryAfter)]]);
    }
    const aor = aorOf(req, d.domain);
    if (typeof aor !== 'string') return this.reject(req, aor.status, aor.reason);

    const auth = this.authenticate(req, aor, source);
    if (auth) return auth;

    const parsed = parseRegisterContacts(req, d.config);
    if (parsed.kind === 'error') {
      return this.reject(req, parsed.status, parsed.reason, parsed.headers);
    }

    const now = d.clock.now();
    const callId = req.headers.get('call-id') ?? '';
    const cseq = Number.parseInt(req.headers.get('cseq') ?? '0', 10);
    if (parsed.kind === 'query') return this.ok(req, aor, now);

    this.pending++;
    try {
      const outcome = await d.store.writes.submit(() => this.apply(aor, parsed, { now, callId, cseq, req, source }));
      if (outcome === 'out-of-order') return this.reject(req, 400, 'CSeq out of order for this Call-ID');
    } catch (err) {
      d.logger.error({ aor, err: (err as Error).message }, 'cannot store registration');
      return this.reject(req, 500, 'Registration not stored', [['Retry-After', '5']]);
    } finally {
      this.pending--;
    }
    return this.ok(req, aor, d.clock.now());
  }

  /** Returns a challenge or refusal, or undefined when the request is authenticated for `aor`. */
  private authenticate(req: SipRequest, aor: string, source: Endpoint): SipResponse | undefined {
    const outcome = authenticateRequest(req, source, 'www', this.deps);
    if (!outcome.ok) {
      if (outcome.response.status === 401) this.stats.challenged++;
      else this.stats.rejected++;
      return outcome.response;
    }
    if (outcome.username !== aor) {
      this.deps.flood.recordAuthFailure(source.address);
      return this.reject(req, 403, 'Authenticated user does not match the To AoR');
    }
    return undefined;
  }

  private apply(
    aor: string,
    spec: Extract<ReturnType<typeof parseRegisterContacts>, { kind: 'update' | 'remove-all' }>,
    ctx: { now: number; callId: string; cseq: number; req: SipRequest; source: Endpoint },
  ): 'ok' | 'out-of-order' {
    const { store, nodeId, config } = this.deps;
    if (spec.kind === 'remove-all') {
      this.stats.removed += store.registrations.removeAll(aor, nodeId);
      return 'ok';
    }
    const existing = new Map(store.registrations.owned(aor, nodeId).map((b) => [b.contact, b]));
    for (const c of spec.contacts) {
      const old = existing.get(c.uri);
      if (old && old.callId === ctx.callId && old.cseq >= ctx.cseq && old.expiresAt > ctx.now) return 'out-of-order';
    }
    const received = formatListenAddress({ protocol: ctx.source.protocol, host: ctx.source.address, port: ctx.source.port });
    const path = ctx.req.headers.getAll('path').join(',');
    const userAgent = (ctx.req.headers.get('user-agent') ?? '').slice(0, 200);
    for (const c of spec.contacts) {
      if (c.expires === 0) {
        if (existing.delete(c.uri)) this.stats.removed++;
        store.registrations.remove(aor, c.uri, nodeId);
        continue;
      }
      const binding = toBinding(aor, nodeId, c, { ...ctx, received, path, userAgent });
      existing.set(c.uri, binding);
      store.registrations.upsert(binding);
      this.stats.registered++;
    }
    // Keep at most maxContactsPerAor live bindings: the least recently refreshed go first.
    const live = [...existing.values()].filter((b) => b.expiresAt > ctx.now).sort((a, b) => b.updatedAt - a.updatedAt);
    for (const b of live.slice(config.maxContactsPerAor)) store.registrations.remove(aor, b.contact, nodeId);
    return 'ok';
  }

  private ok(req: SipRequest, aor: string, now: number): SipResponse {
    const res = createResponse(req, 200, 'OK');
    for (const b of this.deps.store.registrations.live(aor, now)) {
      const expires = Math.max(0, Math.round((b.expiresAt - now) / 1000));
      res.headers.append('Contact', `<${b.contact}>;expires=${expires}${b.q !== null ? `;q=${b.q}` : ''}`);
    }
    for (const p of req.headers.getAll('path')) res.headers.append('Path', p);
    res.headers.append('Date', new Date(now).toUTCString());
    return res;
  }

  private reject(req: SipRequest, status: number, reason: string, headers: Array<[string, string]> = []): SipResponse {
    this.stats.rejected++;
    const res = createResponse(req, status, reason);
    for (const [n, v] of headers) res.headers.append(n, v);
    return res;
  }

  /** Deletes this node's expired bindings (and, when users changed, bindings of removed users). */
  sweep(): Promise<number> {
    const { store, nodeId, clock } = this.deps;
    return store.writes.submit(() => store.registrations.sweep(nodeId, clock.now()) + store.bans.sweep(nodeId, clock.now()));
  }
}

function toBinding(
  aor: string,
  nodeId: string,
  c: ContactSpec,
  ctx: { now: number; callId: string; cseq: number; received: string; path: string; userAgent: string },
): Binding {
  return {
    aor,
    contact: c.uri,
    nodeId,
    expiresAt: ctx.now + c.expires * 1000,
    q: c.q,
    callId: ctx.callId,
    cseq: ctx.cseq,
    path: ctx.path,
    userAgent: ctx.userAgent,
    received: ctx.received,
    instanceId: c.instanceId,
    regId: c.regId,
    updatedAt: ctx.now,
  };
}
