/**
 * The SIP addresses of the other boxes of the site, as their node states announce them
 * (`sip` of NodeState, docs/mqtt/sync.md): the replicator hands each state of a site peer here,
 * and call routing asks where a peer's calls go. An address stays known while the peer is
 * offline (whether it is up is liveness' call: `isUp`, every peer up until one is given).
 * What this box announces is announcedSipAddress in agent/switch/peers/peer-keep-alive.ts.
 */
import { parseListenAddress } from '../../config/listen-address.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import type { SitePeerView } from './call-router.ts';

export class SitePeers implements SitePeerView {
  private readonly addresses = new Map<string, Endpoint>();

  constructor(private readonly up: (nodeId: string) => boolean = () => true) {}

  /** A peer's state: its announced address replaces the one known (none: forgotten). */
  learn(state: { nodeId: string; sip: string | undefined }): void {
    const parsed = state.sip === undefined ? undefined : parseListenAddress(state.sip);
    if (parsed === undefined || typeof parsed === 'string') {
      this.addresses.delete(state.nodeId);
      return;
    }
    this.addresses.set(state.nodeId, { protocol: parsed.protocol, address: parsed.host, port: parsed.port });
  }

  sipOf(nodeId: string): Endpoint | undefined {
    return this.addresses.get(nodeId);
  }

  /** The peer whose announced SIP address `dest` is (the node its TLS certificate must name). */
  nodeAt(dest: Endpoint): string | undefined {
    for (const [id, a] of this.addresses) if (a.protocol === dest.protocol && a.address === dest.address && a.port === dest.port) return id;
    return undefined;
  }

  /** True when `ip` is the SIP address a peer of the site announced. */
  isPeerAddress(ip: string): boolean {
    for (const a of this.addresses.values()) if (a.address === ip) return true;
    return false;
  }

  isUp(nodeId: string): boolean {
    return this.up(nodeId);
  }
}
