/**
 * Where a new call rings (DESIGN.md §7): the dialled number from the Request-URI (the user
 * part of a sip:/sips: URI, the number of a tel: URI), the dial plan's decision, and then the
 * destination: every live binding of a local user on this node (sent to the address its
 * REGISTER came from, for phones behind NAT), or a trunk of this site with the rewritten number.
 * Each destination carries the callee side's codec preference order for transcoding.
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
  targets: Array<{ target: string; dest: Endpoint }>;
  codecs: readonly string[];
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
}

export class CallRouter {
  constructor(private readonly deps: CallRouterDeps) {}

  /** Checks 6-8 of docs/calls.md §1: the dial plan, then the callee's limit and bindings or the trunk. */
  route(requestUri: string): RouteOutcome {
    const dialled = dialledNumber(requestUri);
    if (dialled === undefined) return { status: 400, reason: 'Bad Request-URI user part' };
    const { store } = this.deps;
    const route = decideRoute(dialled, { isExtension: (e) => store.users.get(e) !== undefined, routes: store.routes.list() });
    if (route.kind === 'reject') return { status: route.status, reason: route.reason };
    return route.kind === 'trunk' ? this.trunkDestination(route.trunk, route.number) : this.extensionDestination(route.ext);
  }

  /** A user's codec preference order (its own list, else the box's), limited to what the box has. */
  codecsOf(user: string): readonly string[] {
    return this.available(effectiveCodecs(this.deps.store.users.get(user), this.deps.codecs.boxDefault));
  }

  /** Where a call to a local extension goes: every live binding of the user on this box. */
  private extensionDestination(ext: string): RouteOutcome {
    if (this.deps.busy(ext)) return { status: 486, reason: 'Busy Here' };
    const bindings = this.deps.store.registrations.live(ext, this.deps.clock.now()).filter((b) => b.nodeId === this.deps.nodeId);
    if (bindings.length === 0) return { status: 480, reason: `${ext} is not registered` };
    return { callee: ext, targets: bindings.map((b) => ({ target: b.contact, dest: endpointOf(b.received) })), codecs: this.codecsOf(ext) };
  }

  /** Where a call out through a trunk goes: the trunk's address, the number as the user part. */
  private trunkDestination(id: string, number: string): RouteOutcome {
    const trunk = this.deps.store.trunks.get(id);
    // A trunk of another site (a copy left after it moved) is not this box's to use.
    const foreign = trunk !== undefined && trunk.site !== '' && this.deps.site !== undefined && trunk.site !== this.deps.site;
    if (!trunk || !trunk.enabled || foreign) return { status: 503, reason: `Trunk ${id} is not available` };
    const target = formatUri({
      scheme: 'sip',
      user: number,
      host: isIP(trunk.host) === 6 ? `[${trunk.host}]` : trunk.host,
      port: trunk.port,
      params: new Map(trunk.transport === 'tcp' ? [['transport', 'tcp']] : []),
      headers: [],
    });
    return {
      callee: number,
      targets: [{ target, dest: { protocol: trunk.transport, address: trunk.host, port: trunk.port } }],
      codecs: this.available(effectiveCodecs(trunk, this.deps.codecs.boxDefault)),
    };
  }

  private available(codecs: readonly string[]): readonly string[] {
    return codecs.filter((c) => this.deps.codecs.available.includes(c));
  }
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
