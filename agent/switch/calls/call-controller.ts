/**
 * Entry point of calls, a thin coordinator: a new INVITE goes through admission
 * (CallAdmission), routing (CallRouter) and the media ports, then starts a Call; ACKs, CANCELs
 * and in-dialog requests go to the call they belong to (CallRegistry, RFC 3261 §12.2.2).
 * At start-up it closes the CDRs of calls a previous run left, then checkpoints answered calls.
 */
import type { CodecName } from '../../config/codec-names.ts';
import type { Config } from '../../config/schema.ts';
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MediaRelay } from '../../media/relay-types.ts';
import type { DigestAuthenticator } from '../../sip/auth/digest-authenticator.ts';
import { createResponse } from '../../sip/message/create-response.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import type { IncomingRequest } from '../../sip/sip-endpoint.ts';
import { tagOf } from '../../sip/transaction/header-fields.ts';
import type { InviteServerTransaction } from '../../sip/transaction/invite-server-transaction.ts';
import type { Store } from '../../store/store.ts';
import type { FloodGuard } from '../flood-guard.ts';
import { CallAdmission, refusal } from './call-admission.ts';
import { CallRegistry } from './call-registry.ts';
import { CallRouter, type SitePeerView } from './call-router.ts';
import { Call } from './call.ts';
import { CdrRecorder } from './cdr-recorder.ts';
import { handleInDialog } from './handle-in-dialog.ts';
import { InboundLeg, type CallSignalling } from './inbound-leg.ts';
import { NODE_HEADER, type NodeAssertion } from './node-assertion.ts';

const CHECKPOINT_MS = 30_000;

export interface CallControllerDeps {
  /** The SIP endpoint (or, in unit tests, a transaction layer over a recording transport). */
  endpoint: CallSignalling;
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
  /** Inter-box calls (docs/inter-box.md): signs INVITEs to peer boxes, verifies theirs. */
  assertion?: NodeAssertion;
  /** The other boxes of the site, where calls to users registered there go. */
  peers?: SitePeerView;
  /** `sip.tls.peersOnly`: inter-box requests only over mutual TLS (docs/sip-tls.md). */
  peersOnlyTls?: boolean;
}

export class CallController {
  private readonly registry: CallRegistry;
  private readonly admission: CallAdmission;
  private readonly router: CallRouter;
  private checkpointTimer: TimerHandle | undefined;
  readonly cdr: CdrRecorder;

  constructor(private readonly deps: CallControllerDeps) {
    this.cdr = new CdrRecorder({ store: deps.store, nodeId: deps.nodeId, clock: deps.clock, logger: deps.logger });
    const registry = new CallRegistry(deps.clock);
    this.registry = registry;
    this.admission = new CallAdmission({
      ...deps,
      activeCalls: () => registry.size,
      callsOf: (user) => registry.countOf(user),
      isOwnCallId: (id) => registry.isOutgoingCallId(id),
    });
    // Peer boxes take only signed INVITEs: a box without a node key rings its own phones only.
    const { peers, ...routed } = deps;
    this.router = new CallRouter({ ...routed, ...(peers && deps.assertion?.canSign ? { peers } : {}), busy: (user) => this.admission.calleeBusy(user) });
  }

  /**
   * Live config (docs/config-push.md): limits and timers for the calls that start from now on.
   * The section object is shared with admission, so it is updated in place.
   */
  reconfigure(section: Config['calls']): void {
    Object.assign(this.deps.config, section);
  }

  /** Live config: the box's codec order (`rtp.codecs`) for calls that start from now on. */
  reconfigureCodecs(codecs: readonly CodecName[]): void {
    this.deps.codecs.boxDefault = [...codecs];
  }

  get activeCalls(): number {
    return this.registry.size;
  }

  /**
   * Closes the CDRs of calls a previous run left up, then checkpoints answered calls every
   * CHECKPOINT_MS so a crash loses at most that much of a call's talk time.
   */
  async start(): Promise<number> {
    const interrupted = await this.cdr.recoverInterrupted();
    const tick = () => {
      for (const c of this.registry.calls()) if (c.state === 'answered') void c.checkpoint();
      this.checkpointTimer = this.deps.clock.setTimeout(tick, CHECKPOINT_MS);
    };
    this.checkpointTimer = this.deps.clock.setTimeout(tick, CHECKPOINT_MS);
    return interrupted;
  }

  /** A request that opened a server transaction and belongs to calls (INVITE, BYE, ...). */
  handle(incoming: IncomingRequest): void {
    const { request } = incoming;
    if (tagOf(request.headers.get('to')) !== '') {
      // Inside a dialog (RFC 3261 §12.2.2): one of our calls' dialogs, or 481.
      const found = this.registry.find(request);
      if (!found) return incoming.respond(createResponse(request, 481, 'Call/Transaction Does Not Exist'));
      return handleInDialog(found.call, found.leg, incoming);
    }
    if (request.method !== 'INVITE') return incoming.respond(createResponse(request, 481, 'Call/Transaction Does Not Exist'));
    this.invite(incoming).catch((err: Error) => {
      this.deps.logger.error({ err: err.message }, 'cannot start call');
      incoming.respond(createResponse(request, 500, 'Server Internal Error'));
    });
  }

  /** An ACK for a 2xx (no transaction of its own): the caller's ACK stops our 2xx retransmissions. */
  handleAck(ack: SipRequest): void {
    const found = this.registry.find(ack);
    if (found?.leg === 'a') found.call.acknowledged();
  }

  /** A CANCEL matched a pending INVITE (RFC 3261 §9.2). */
  handleCancel(invite: InviteServerTransaction): void {
    if (this.registry.settleAdmission(invite)) return; // invite() sees it after the ports are bound
    this.registry.byInviteTransaction(invite)?.cancelledByCaller();
  }

  /**
   * Peer box `peer` was declared down (liveness): no call waits on it. Each call still ringing
   * through it drops that fork at once and rings the phones of the callee's bindings it owns
   * straight from here, as a new call would (docs/failover.md), or fails when none is left.
   */
  peerDown(peer: string): void {
    for (const call of this.registry.calls()) {
      if (!call.ringsPeer(peer)) continue;
      const direct = this.router.directTargets(call.callee, peer);
      for (const t of direct) call.log.info({ owner: peer, target: t.target }, 'owner down while ringing: ringing its phone directly');
      this.registry.forked(call, call.peerDown(peer, direct));
    }
  }

  /** Ends every call (shutdown): BYE to both parties, CDRs committed. */
  async stop(): Promise<void> {
    this.deps.clock.clearTimeout(this.checkpointTimer);
    await Promise.all(this.registry.calls().map((c) => c.hangUp('system', 'node shutting down')));
    this.registry.stop();
  }

  private async invite(incoming: IncomingRequest): Promise<void> {
    const { request: req, source } = incoming;
    const d = this.deps;
    const caller = this.admission.admitCaller(req, source);
    if (!caller.ok) return incoming.respond(caller.response);
    const destination = this.router.route(req.uri, caller.peer !== undefined);
    if ('status' in destination) return incoming.respond(refusal(req, destination.status, destination.reason));
    const session = this.admission.admitSession(req);
    if (!session.ok) return incoming.respond(session.response);

    let call: Call | undefined;
    let leg: InboundLeg;
    try {
      leg = new InboundLeg(incoming, {
        endpoint: d.endpoint,
        clock: d.clock,
        t1: d.timers.t1,
        t2: d.timers.t2,
        onAckTimeout: () => void call?.hangUp('system', 'no ACK'),
        onPrackTimeout: () => void call?.hangUp('system', 'no PRACK'),
      });
    } catch (err) {
      return incoming.respond(refusal(req, 400, (err as Error).message.slice(0, 100)));
    }
    // A CANCEL may arrive while the ports are being bound (an await): the registry remembers it.
    this.registry.admit(leg.transaction);
    const relay = await d.relay.allocate(leg.dialog.id.callId, { onMediaTimeout: () => void call?.hangUp('system', 'media timeout') }).catch(() => undefined);
    const cancelled = !this.registry.settleAdmission(leg.transaction);
    if (!relay) return incoming.respond(refusal(req, 503, 'No media ports available'));
    if (cancelled) {
      relay.release();
      return leg.respond(487, 'Request Terminated');
    }
    call = new Call(leg, relay, session.offer, { caller: caller.caller, callee: destination.callee, ...(caller.link ? { link: caller.link } : {}) }, {
      signalling: d.endpoint,
      cdr: this.cdr,
      clock: d.clock,
      logger: d.logger,
      ringTimeoutMs: d.config.ringTimeout * 1000,
      codecs: { a: this.router.codecsOf(caller.caller), b: destination.codecs },
      ...(session.sessionTimer ? { sessionTimer: session.sessionTimer } : {}),
      onEnded: (c) => this.registry.ended(c),
    });
    const callerUser = d.store.users.get(caller.caller);
    for (const t of destination.targets) if (t.ownerDown) d.logger.info({ callId: leg.dialog.id.callId, owner: t.ownerDown, target: t.target }, 'owner down: ringing its phone directly');
    call.ring(
      destination.targets.map(({ target, dest, peer }) => ({
        target,
        dest,
        ...(peer ? { peer } : {}),
        // The call's CDR link rides in the signature: the peer stores it on its CDR (docs/inter-box.md).
        ...(peer && d.assertion ? { signedHeaders: (inv: SipRequest): Array<[string, string]> => [[NODE_HEADER, d.assertion!.stamp(inv, call!.link)]] } : {}),
        from: { displayName: callerUser?.displayName ?? '', user: caller.caller },
        to: { user: destination.callee },
        domain: d.domain,
        maxForwards: Math.min(caller.maxForwards - 1, 70),
      })),
    );
    this.registry.add(call);
  }
}
