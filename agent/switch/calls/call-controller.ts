/**
 * Entry point of calls: admits a new INVITE (Max-Forwards, loop, digest authentication with
 * 407, call limits, dial plan, callee's registrations, SDP offer, media ports) and starts a
 * Call; routes ACKs, CANCELs and in-dialog requests to the call they belong to (by Call-ID and
 * our own tag, RFC 3261 §12.2.2). At start-up it closes the CDRs of calls a previous run left.
 */
import { isIP } from 'node:net';
import type { CodecName } from '../../config/codec-names.ts';
import type { Config } from '../../config/schema.ts';
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { LegName, MediaRelay } from '../../media/relay-types.ts';
import type { DigestAuthenticator } from '../../sip/auth/digest-authenticator.ts';
import { dialogKeyOf } from '../../sip/dialog/dialog-key.ts';
import { createResponse } from '../../sip/message/create-response.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import type { IncomingRequest, SipEndpoint } from '../../sip/sip-endpoint.ts';
import type { InviteServerTransaction } from '../../sip/transaction/invite-server-transaction.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import type { Store } from '../../store/store.ts';
import { effectiveCodecs } from '../../store/users.ts';
import type { FloodGuard } from '../flood-guard.ts';
import { answerSessionTimer, type SessionTimerAnswer } from '../../sip/dialog/session-timer.ts';
import { authenticateRequest } from '../request-auth.ts';
import { parseSdp } from '../sdp/session-description.ts';
import { Call } from './call.ts';
import { CdrRecorder } from './cdr-recorder.ts';
import { decideRoute } from './dial-plan.ts';
import { InboundLeg } from './inbound-leg.ts';
import { handleInDialog } from './in-dialog.ts';

const CHECKPOINT_MS = 30_000;

export interface CallControllerDeps {
  endpoint: SipEndpoint;
  store: Store;
  relay: MediaRelay;
  authenticator: DigestAuthenticator;
  flood: FloodGuard;
  nodeId: string;
  /** The box's site (users of other sites may not call from here). */
  site?: string;
  domain: string;
  config: Config['calls'];
  /** Transcoding: the codecs the native library has, and the box's default order (`rtp.codecs`). */
  codecs: { available: readonly string[]; boxDefault: readonly CodecName[] };
  timers: { t1: number; t2: number };
  clock: Clock;
  logger: Logger;
}

export class CallController {
  private readonly calls = new Set<Call>();
  private readonly byDialog = new Map<string, { call: Call; leg: LegName }>();
  private readonly byInvite = new Map<InviteServerTransaction, Call>();
  private readonly bCallIds = new Set<string>();
  /** INVITEs between authentication and the start of their call (ports being bound). */
  private readonly admitting = new Set<InviteServerTransaction>();
  private checkpointTimer: TimerHandle | undefined;
  /** Timers that drop ended calls' dialog keys (cleared on stop so the process can exit). */
  private readonly lingering = new Set<TimerHandle>();
  readonly cdr: CdrRecorder;

  constructor(private readonly deps: CallControllerDeps) {
    this.cdr = new CdrRecorder({ store: deps.store, nodeId: deps.nodeId, clock: deps.clock, logger: deps.logger });
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * Closes the CDRs of calls a previous run left up, then checkpoints answered calls every
   * CHECKPOINT_MS so a crash loses at most that much of a call's talk time.
   */
  async start(): Promise<number> {
    const interrupted = await this.cdr.recoverInterrupted();
    const tick = () => {
      for (const c of this.calls) if (c.state === 'answered') void this.cdr.checkpoint(c.record);
      this.checkpointTimer = this.deps.clock.setTimeout(tick, CHECKPOINT_MS);
    };
    this.checkpointTimer = this.deps.clock.setTimeout(tick, CHECKPOINT_MS);
    return interrupted;
  }

  /** A request that opened a server transaction and belongs to calls (INVITE, BYE, ...). */
  handle(incoming: IncomingRequest): void {
    const key = dialogKeyOf(incoming.request, 'uas');
    const toTagged = /;\s*tag=/i.test(incoming.request.headers.get('to') ?? '');
    if (toTagged) {
      const found = key === undefined ? undefined : this.byDialog.get(key);
      if (!found) return incoming.respond(createResponse(incoming.request, 481, 'Call/Transaction Does Not Exist'));
      return handleInDialog(found.call, found.leg, incoming);
    }
    if (incoming.request.method !== 'INVITE') {
      return incoming.respond(createResponse(incoming.request, 481, 'Call/Transaction Does Not Exist'));
    }
    this.invite(incoming).catch((err: Error) => {
      this.deps.logger.error({ err: err.message }, 'cannot start call');
      incoming.respond(createResponse(incoming.request, 500, 'Server Internal Error'));
    });
  }

  handleAck(ack: SipRequest): void {
    const key = dialogKeyOf(ack, 'uas');
    const found = key === undefined ? undefined : this.byDialog.get(key);
    if (found?.leg === 'a') found.call.a.acknowledged();
  }

  handleCancel(invite: InviteServerTransaction): void {
    if (this.admitting.delete(invite)) return; // invite() sees it after the ports are bound
    this.byInvite.get(invite)?.cancelledByCaller();
  }

  /** Ends every call (shutdown): BYE to both parties, CDRs committed. */
  async stop(): Promise<void> {
    this.deps.clock.clearTimeout(this.checkpointTimer);
    await Promise.all([...this.calls].map((c) => c.hangUp('system', 'node shutting down')));
    for (const t of this.lingering) this.deps.clock.clearTimeout(t);
    this.lingering.clear();
  }

  private async invite(incoming: IncomingRequest): Promise<void> {
    const { request: req, source } = incoming;
    const d = this.deps;
    const refuse = (status: number, reason: string, headers: Array<[string, string]> = []) => {
      const res = createResponse(req, status, reason);
      for (const [n, v] of headers) res.headers.append(n, v);
      incoming.respond(res);
    };
    const maxForwards = Number(req.headers.get('max-forwards') ?? '70');
    if (!Number.isInteger(maxForwards) || maxForwards < 0) return refuse(400, 'Bad Max-Forwards');
    if (maxForwards === 0) return refuse(483, 'Too Many Hops');
    if (this.bCallIds.has(req.headers.get('call-id') ?? '')) return refuse(482, 'Loop Detected');
    const auth = authenticateRequest(req, source, 'proxy', d);
    if (!auth.ok) return incoming.respond(auth.response);
    const caller = auth.username;
    if (this.calls.size >= d.config.maxTotal) return refuse(503, 'Call limit of this box reached', [['Retry-After', '30']]);
    if (this.countCallsOf(caller) >= d.config.maxPerUser) return refuse(486, 'Call limit reached for caller');

    const dialled = dialledNumber(req.uri);
    if (dialled === undefined) return refuse(400, 'Bad Request-URI user part');
    const route = decideRoute(dialled, { isExtension: (e) => d.store.users.get(e) !== undefined, routes: d.store.routes.list() });
    if (route.kind === 'reject') return refuse(route.status, route.reason);
    const destination = route.kind === 'trunk' ? this.trunkDestination(route.trunk, route.number) : this.extensionDestination(route.ext);
    if ('status' in destination) return refuse(destination.status, destination.reason);
    const callee = destination.callee;

    let sessionTimer: SessionTimerAnswer;
    try {
      // RFC 4028 towards the caller: the caller refreshes (refresher=uac); the box never does.
      sessionTimer = answerSessionTimer(req, { minSe: d.config.minSE, interval: d.config.sessionExpires, refresher: 'uac', insert: true });
    } catch {
      return refuse(400, 'Bad Session-Expires or Min-SE');
    }
    if (sessionTimer.action === 'reject') return refuse(422, 'Session Interval Too Small', sessionTimer.headers);
    if (req.body.length === 0) return refuse(488, 'An SDP offer is required');
    const offer = parseSdp(req.body);
    if (offer instanceof Error) return refuse(offer.status, offer.reason);

    let leg: InboundLeg;
    try {
      leg = new InboundLeg(incoming, {
        endpoint: d.endpoint,
        clock: d.clock,
        t1: d.timers.t1,
        t2: d.timers.t2,
        onAckTimeout: () => void call.hangUp('system', 'no ACK'),
        onPrackTimeout: () => void call.hangUp('system', 'no PRACK'),
      });
    } catch (err) {
      return refuse(400, (err as Error).message.slice(0, 100));
    }
    // A CANCEL may arrive while the ports are being bound (an await): remember it.
    this.admitting.add(leg.transaction);
    const relay = await d.relay.allocate(leg.dialog.id.callId, { onMediaTimeout: () => void call.hangUp('system', 'media timeout') }).catch(() => undefined);
    const cancelled = !this.admitting.delete(leg.transaction);
    if (!relay) return refuse(503, 'No media ports available');
    if (cancelled) {
      relay.release();
      return leg.respond(487, 'Request Terminated');
    }
    const call: Call = new Call(leg, relay, offer, caller, callee, {
      endpoint: d.endpoint,
      cdr: this.cdr,
      clock: d.clock,
      logger: d.logger,
      ringTimeoutMs: d.config.ringTimeout * 1000,
      codecs: { a: this.codecsOf(caller), b: destination.codecs },
      bindDialog: (key, c, l) => this.byDialog.set(key, { call: c, leg: l }),
      onEnded: (c) => this.forget(c),
    });
    if (sessionTimer.timer?.refresher === 'uac') call.useSessionTimer(sessionTimer.timer.interval, sessionTimer.headers);
    this.calls.add(call);
    this.byInvite.set(leg.transaction, call);
    const callerUser = d.store.users.get(caller);
    call.ring(
      destination.targets.map(({ target, dest }) => ({
        target,
        dest,
        from: { displayName: callerUser?.displayName ?? '', user: caller },
        to: { user: sipUser(callee) },
        domain: d.domain,
        maxForwards: Math.min(maxForwards - 1, 70),
      })),
    );
    for (const f of call.forks) this.bCallIds.add(f.callId);
  }

  /** Where a call to a local extension goes: every live binding of the user on this box. */
  private extensionDestination(ext: string): Destination | { status: number; reason: string } {
    if (this.countCallsOf(ext) >= this.deps.config.maxPerUser) return { status: 486, reason: 'Busy Here' };
    const bindings = this.deps.store.registrations.live(ext, this.deps.clock.now()).filter((b) => b.nodeId === this.deps.nodeId);
    if (bindings.length === 0) return { status: 480, reason: `${ext} is not registered` };
    return { callee: ext, targets: bindings.map((b) => ({ target: b.contact, dest: endpointOf(b.received) })), codecs: this.codecsOf(ext) };
  }

  /** Where a call out through a trunk goes: the trunk's address, the number as the user part. */
  private trunkDestination(id: string, number: string): Destination | { status: number; reason: string } {
    const trunk = this.deps.store.trunks.get(id);
    // A trunk of another site (a copy left after it moved) is not this box's to use.
    const foreign = trunk !== undefined && trunk.site !== '' && this.deps.site !== undefined && trunk.site !== this.deps.site;
    if (!trunk || !trunk.enabled || foreign) return { status: 503, reason: `Trunk ${id} is not available` };
    const host = isIP(trunk.host) === 6 ? `[${trunk.host}]` : trunk.host;
    const transport = trunk.transport === 'tcp' ? ';transport=tcp' : '';
    return {
      callee: number,
      targets: [{ target: `sip:${sipUser(number)}@${host}:${trunk.port}${transport}`, dest: { protocol: trunk.transport, address: trunk.host, port: trunk.port } }],
      codecs: this.available(effectiveCodecs(trunk, this.deps.codecs.boxDefault)),
    };
  }

  /** A user's codec preference order (its own list, else the box's), limited to what the box has. */
  private codecsOf(user: string): readonly string[] {
    return this.available(effectiveCodecs(this.deps.store.users.get(user), this.deps.codecs.boxDefault));
  }

  private available(codecs: readonly string[]): readonly string[] {
    return codecs.filter((c) => this.deps.codecs.available.includes(c));
  }

  private countCallsOf(ext: string): number {
    let n = 0;
    for (const c of this.calls) if (c.record.caller === ext || c.record.callee === ext) n++;
    return n;
  }

  private forget(call: Call): void {
    this.calls.delete(call);
    this.byInvite.delete(call.a.transaction);
    for (const f of call.forks) this.bCallIds.delete(f.callId);
    // Keep the dialog keys a little longer so late BYE/ACK retransmissions still find the call.
    const timer = this.deps.clock.setTimeout(() => {
      this.lingering.delete(timer);
      for (const [k, v] of this.byDialog) if (v.call === call) this.byDialog.delete(k);
    }, 32_000);
    this.lingering.add(timer);
  }
}

/** The dialled user part of a sip:/sips: Request-URI or the number of a tel: URI, unescaped. */
function dialledNumber(uri: string): string | undefined {
  const sip = /^sips?:([^@;>?]+)@/i.exec(uri);
  const tel = sip ? null : /^tel:([^;?]+)/i.exec(uri);
  const raw = sip?.[1] ?? tel?.[1];
  if (raw === undefined) return '';
  try {
    const n = decodeURIComponent(raw);
    return tel ? n.replace(/[-.()]/g, '') : n; // tel: visual separators (RFC 3966 §5.1.1)
  } catch {
    return undefined;
  }
}

/** `udp:1.2.3.4:5060` (a binding's received source) → Endpoint. */
/** Where a call rings: the Request-URIs and addresses of its forks, and the callee side's codecs. */
interface Destination {
  /** The callee as the CDR names it: the extension, or the number sent to the trunk. */
  callee: string;
  targets: Array<{ target: string; dest: Endpoint }>;
  codecs: readonly string[];
}

/** A number as the user part of a SIP URI: characters RFC 3261 §25.1 does not allow there are %-escaped (e.g. '#'). */
function sipUser(number: string): string {
  return number.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function endpointOf(received: string): Endpoint {
  const m = /^(udp|tcp):(.*):(\d+)$/.exec(received);
  if (!m) return { protocol: 'udp', address: received, port: 5060 };
  return { protocol: m[1] as 'udp' | 'tcp', address: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
}
