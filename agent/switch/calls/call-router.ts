/**
 * Where a new call rings (DESIGN.md §7): the dialled number from the Request-URI (the user
 * part of a sip:/sips: URI, the number of a tel: URI), the dial plan's decision, and then the
 * destination: every live binding of a local user on this node (sent to the address its
 * REGISTER came from, for phones behind NAT) plus one fork per other box of the site that owns
 * live bindings of the user (sent to that box's SIP address, which delivers to its phones:
 * docs/inter-box.md), or a trunk of this site with the rewritten number. A call a peer box
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
import { effectiveCodecs } from '../../store/users.ts';
import { decideRoute } from './dial-plan.ts';

/** Where a call rings: the Request-URIs and addresses of its forks, and the callee side's codecs. */
export interface Destination {
  /** The callee as the CDR names it: the extension, or the number sent to the trunk. */
  callee: string;
  targets: Target[];
  codecs: readonly string[];
}

/** One fork: its Request-URI and address; `peer` names the box of the site it goes through. */
export interface Target {
  target: string;
  dest: Endpoint;
  peer?: string;
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
   * Where a call to an extension goes: every live binding of the user on this box, and one fork
   * per other box of the site that owns live bindings, is up and announced its SIP address.
   */
  private extensionDestination(ext: string, fromPeer: boolean): RouteOutcome {
    if (this.deps.busy(ext)) return { status: 486, reason: 'Busy Here' };
    const { nodeId, peers } = this.deps;
    const bindings = this.deps.store.registrations.live(ext, this.deps.clock.now());
    const targets: Target[] = bindings.filter((b) => b.nodeId === nodeId).map((b) => ({ target: b.contact, dest: endpointOf(b.received) }));
    const owners = fromPeer || !peers ? [] : [...new Set(bindings.map((b) => b.nodeId).filter((n) => n !== nodeId))].sort();
    for (const owner of owners) {
      const dest = peers!.sipOf(owner);
      if (dest && (peers!.isUp?.(owner) ?? true)) targets.push({ target: uriAt(ext, dest), dest, peer: owner });
    }
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

/** `sip:user@host:port` for a destination, `;transport=tcp` over TCP, the user part escaped. */
function uriAt(user: string, dest: Endpoint): string {
  const host = isIP(dest.address) === 6 ? `[${dest.address}]` : dest.address;
  return formatUri({ scheme: 'sip', user, host, port: dest.port, params: new Map(dest.protocol === 'tcp' ? [['transport', 'tcp']] : []), headers: [] });
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
