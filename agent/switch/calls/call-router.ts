/**
 * Where a new call rings (DESIGN.md §7): the dialled number from the Request-URI (the user
 * part of a sip:/sips: URI, the number of a tel: URI), the dial plan's decision, and then the
 * destination: every live binding of a local user on this node (sent to the address its
 * REGISTER came from, for phones behind NAT) plus one fork per other box of the site that owns
 * live bindings of the user and is up (sent to that box's SIP address, which delivers to its
 * phones: docs/inter-box.md), or a trunk of this site with the rewritten number. A binding
 * whose owner cannot be reached (down for liveness) is rung straight at its phone from here
 * (docs/failover.md); one phone bound at several boxes rings once (forksOf). A call a peer box
 * forwarded rings only this box's bindings. Each destination carries the callee side's codec
 * preference order for transcoding.
 */
import { isIP } from 'node:net';
import type { CodecName } from '../../config/codec-names.ts';
import { parseListenAddress } from '../../config/listen-address.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatUri, parseUri, type SipUri } from '../../sip/message/sip-uri.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import type { Store } from '../../store/store.ts';
import type { Binding } from '../../store/registrations.ts';
import { effectiveCodecs } from '../../store/users.ts';
import { decideRoute } from './dial-plan.ts';

/** Where a call rings: the Request-URIs and addresses of its forks, and the callee side's codecs. */
export interface Destination {
  /** The callee as the CDR names it: the extension, or the number sent to the trunk. */
  callee: string;
  targets: Target[];
  codecs: readonly string[];
}

/**
 * One fork: its Request-URI and address; `peer` names the box of the site it goes through,
 * `ownerDown` the box that owns the binding when it is rung straight at the phone instead.
 */
export interface Target {
  target: string;
  dest: Endpoint;
  peer?: string;
  ownerDown?: string;
}

/** The other boxes of the site as routing sees them (fed by their announced states). */
export interface SitePeerView {
  /** The SIP address a peer announced, if any. */
  sipOf(nodeId: string): Endpoint | undefined;
  /** False while a peer is known to be down (liveness); every peer is up when absent. */
  isUp?(nodeId: string): boolean;
}

export type RouteOutcome = Destination | { status: number; reason: string };

export interface CallRouterDeps {
  store: Store;
  nodeId: string;
  /** The box's site: trunks of another site are not this box's to use. */
  site?: string;
  clock: Clock;
  /** Transcoding: the codecs the native library has, and the box's default order (`rtp.codecs`). */
  codecs: { available: readonly string[]; boxDefault: readonly CodecName[] };
  /** True when a user is in as many calls as it may be (the callee then gets 486). */
  busy(user: string): boolean;
  /** The other boxes of the site; without it, only this box's bindings ring. */
  peers?: SitePeerView;
}

export class CallRouter {
  constructor(private readonly deps: CallRouterDeps) {}

  /**
   * Checks 6-8 of docs/calls.md §1: the dial plan, then the callee's limit and bindings or the
   * trunk. `fromPeer`: the INVITE came from a box of the site, which already forked to the others.
   */
  route(requestUri: string, fromPeer = false): RouteOutcome {
    const dialled = dialledNumber(requestUri);
    if (dialled === undefined) return { status: 400, reason: 'Bad Request-URI user part' };
    const { store } = this.deps;
    const route = decideRoute(dialled, { isExtension: (e) => store.users.get(e) !== undefined, routes: store.routes.list() });
    if (route.kind === 'reject') return { status: route.status, reason: route.reason };
    return route.kind === 'trunk' ? this.trunkDestination(route.trunk, route.number) : this.extensionDestination(route.ext, fromPeer);
  }

  /** A user's codec preference order (its own list, else the box's), limited to what the box has. */
  codecsOf(user: string): readonly string[] {
    return this.available(effectiveCodecs(this.deps.store.users.get(user), this.deps.codecs.boxDefault));
  }

  /**
   * The phones of `ext` whose bindings `owner` holds, to ring straight from here now that
   * `owner` is down (a call whose fork to it was pending; docs/failover.md).
   */
  directTargets(ext: string, owner: string): Target[] {
    const { nodeId, peers, clock } = this.deps;
    if (!peers) return [];
    const bindings = this.deps.store.registrations.live(ext, clock.now());
    return forksOf(bindings, { self: nodeId, fromPeer: false, now: clock.now(), peers }).flatMap((f): Target[] =>
      f.kind === 'direct' && f.binding.nodeId === owner ? [{ target: f.binding.contact, dest: endpointOf(f.binding.received), ownerDown: owner }] : [],
    );
  }

  /** Where a call to an extension goes: the forks of forksOf() for its live bindings, else 480. */
  private extensionDestination(ext: string, fromPeer: boolean): RouteOutcome {
    if (this.deps.busy(ext)) return { status: 486, reason: 'Busy Here' };
    const { nodeId, peers, clock } = this.deps;
    const bindings = this.deps.store.registrations.live(ext, clock.now());
    const targets = forksOf(bindings, { self: nodeId, fromPeer, now: clock.now(), ...(peers ? { peers } : {}) }).map((f): Target => {
      if (f.kind === 'peer') return { target: uriAt(ext, f.dest), dest: f.dest, peer: f.owner };
      const phone = { target: f.binding.contact, dest: endpointOf(f.binding.received) };
      return f.kind === 'direct' ? { ...phone, ownerDown: f.binding.nodeId } : phone;
    });
    if (targets.length === 0) return { status: 480, reason: `${ext} is not registered` };
    return { callee: ext, targets, codecs: this.codecsOf(ext) };
  }

  /** Where a call out through a trunk goes: the trunk's address, the number as the user part. */
  private trunkDestination(id: string, number: string): RouteOutcome {
    const trunk = this.deps.store.trunks.get(id);
    // A trunk of another site (a copy left after it moved) is not this box's to use.
    const foreign = trunk !== undefined && trunk.site !== '' && this.deps.site !== undefined && trunk.site !== this.deps.site;
    if (!trunk || !trunk.enabled || foreign) return { status: 503, reason: `Trunk ${id} is not available` };
    const dest: Endpoint = { protocol: trunk.transport, address: trunk.host, port: trunk.port };
    return {
      callee: number,
      targets: [{ target: uriAt(number, dest), dest }],
      codecs: this.available(effectiveCodecs(trunk, this.deps.codecs.boxDefault)),
    };
  }

  private available(codecs: readonly string[]): readonly string[] {
    return codecs.filter((c) => this.deps.codecs.available.includes(c));
  }
}

/** A fork as forksOf() decides it: a phone rung from here, or a peer box that rings its own. */
export type Fork =
  /** A binding this box owns: its phone. */
  | { kind: 'local'; binding: Binding }
  /** A binding whose owner cannot be reached: its phone, from here (the owner is down). */
  | { kind: 'direct'; binding: Binding }
  /** The owner of one or more bindings, up, at its SIP address. */
  | { kind: 'peer'; owner: string; dest: Endpoint };

/** The identity of a phone across boxes: its `+sip.instance` (RFC 5626), else its Contact URI. */
const phoneOf = (b: Binding) => (b.instanceId !== '' ? `instance ${b.instanceId}` : `contact ${b.contact}`);

/**
 * The forks of a call to a user, from the user's bindings on every box (docs/failover.md):
 * 1. expired bindings are ignored;
 * 2. one phone (one instance id, else one contact) bound at several boxes keeps only its
 *    binding refreshed last (a phone that re-registered at a survivor rings once, there);
 * 3. a binding this box owns: its phone, from here;
 * 4. a binding owned by a peer that is up and announced its address: one fork per such peer,
 *    which rings its own phones (none when the call came from a peer: one hop at most);
 * 5. a binding owned by a peer that cannot be reached (down or not yet known up for liveness,
 *    or no address known): its phone, straight from here (not for a call from a peer: the box
 *    that forwarded it rang that phone itself). Without `peers` (a box that does not
 *    replicate), only this box's bindings ring.
 * Phones come first in the bindings' order, then the peers by id.
 */
export function forksOf(bindings: readonly Binding[], o: { self: string; fromPeer: boolean; now: number; peers?: SitePeerView }): Fork[] {
  const latest = new Map<string, Binding>();
  for (const b of bindings) {
    if (b.expiresAt <= o.now) continue;
    const seen = latest.get(phoneOf(b));
    if (!seen || b.updatedAt > seen.updatedAt || (b.updatedAt === seen.updatedAt && b.nodeId === o.self)) latest.set(phoneOf(b), b);
  }
  const kept = bindings.filter((b) => latest.get(phoneOf(b)) === b);
  const phones: Fork[] = [];
  const owners = new Map<string, Endpoint>();
  for (const b of kept) {
    if (b.nodeId === o.self) phones.push({ kind: 'local', binding: b });
    else if (o.fromPeer || !o.peers) continue;
    else {
      const dest = o.peers.sipOf(b.nodeId);
      if (dest && (o.peers.isUp?.(b.nodeId) ?? true)) owners.set(b.nodeId, dest);
      else phones.push({ kind: 'direct', binding: b });
    }
  }
  const peers = [...owners.keys()].sort().map((owner): Fork => ({ kind: 'peer', owner, dest: owners.get(owner)! }));
  return [...phones, ...peers];
}

/** `sip:user@host:port` for a destination, `;transport=tcp|tls` over TCP or TLS, the user part escaped. */
function uriAt(user: string, dest: Endpoint): string {
  const host = isIP(dest.address) === 6 ? `[${dest.address}]` : dest.address;
  return formatUri({ scheme: 'sip', user, host, port: dest.port, params: new Map(dest.protocol === 'udp' ? [] : [['transport', dest.protocol]]), headers: [] });
}

/**
 * The dialled user part of a sip:/sips: Request-URI, unescaped, or the number of a tel: URI
 * without its visual separators (RFC 3966 §5.1.1); '' for a URI without one; undefined when
 * the URI cannot be read.
 */
export function dialledNumber(uri: string): string | undefined {
  let parsed: SipUri;
  try {
    parsed = parseUri(uri);
  } catch {
    return undefined;
  }
  if (parsed.scheme === 'tel') return (parsed.user ?? '').replace(/[-.()]/g, '');
  if (parsed.scheme === 'sip' || parsed.scheme === 'sips') return parsed.user ?? '';
  return '';
}

/**
 * A binding's `received` source (`udp:192.0.2.1:5060`, `udp:[2001:db8::1]:5060`, written by
 * the registrar as a listen address) as the Endpoint to send to. Rows written before IPv6
 * sources were bracketed (`udp:2001:db8::1:5060`) are read too; anything else goes to UDP 5060.
 */
export function endpointOf(received: string): Endpoint {
  const first = received.indexOf(':');
  const last = received.lastIndexOf(':');
  const legacy = last > first && received.indexOf(':', first + 1) < last && !received.includes('[');
  const parsed = parseListenAddress(legacy ? `${received.slice(0, first)}:[${received.slice(first + 1, last)}]${received.slice(last)}` : received);
  if (typeof parsed === 'string') return { protocol: 'udp', address: received, port: 5060 };
  return { protocol: parsed.protocol, address: parsed.host, port: parsed.port };
}
