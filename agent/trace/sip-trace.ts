/**
 * SIP trace on a box (docs/sip-trace.md): the HEP export of `trace.hep` (every SIP message the
 * endpoint receives or sends, and the RTCP reports the relay sees, to a Homer collector) and the
 * trace socket that `outpost trace` reads. Built by main.ts with one call; start()/stop().
 */
import type { TraceConfig } from '../config/trace-schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { RtcpObserver } from '../media/udp-media-relay.ts';
import type { SipTrafficObserver } from '../sip/sip-traffic.ts';
import { HepSender, type HepSenderStats } from './hep-sender.ts';
import { nowMicros, rtcpHepPacket, sipHepPacket, type HepIdentity } from './hep-packets.ts';
import { TraceSocket } from './trace-socket.ts';

export interface SipTraceParts {
  config: TraceConfig;
  dataDir: string;
  nodeId: string;
  /** The box's address (`rtp.address`), shown instead of a wildcard listen address (`0.0.0.0`, `::`). */
  boxAddress?: string;
  /** The SIP endpoint's traffic (SipEndpoint.observe). */
  observeSip: (observer: SipTrafficObserver) => () => void;
  /** The relay's RTCP (UdpMediaRelay.observeRtcp). */
  observeRtcp: (observer: RtcpObserver) => () => void;
  clock: Clock;
  logger: Logger;
}

export interface SipTrace {
  /** HEP packets sent and dropped; undefined without `trace.hep`. */
  readonly hep: HepSenderStats | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function buildSipTrace(parts: SipTraceParts): SipTrace {
  const hep = parts.config.hep;
  const box = parts.boxAddress;
  // A wildcard listener cannot tell which of the box's addresses a datagram used: show the box's.
  const observeSip = (observer: SipTrafficObserver) =>
    parts.observeSip(box === undefined ? observer : (t) => observer(isWildcard(t.local.address) ? { ...t, local: { ...t.local, address: box } } : t));
  const sender = hep ? new HepSender({ host: hep.address.host, port: hep.address.port, clock: parts.clock, logger: parts.logger }) : undefined;
  const id: HepIdentity = hep ? { captureId: hep.captureId, ...(hep.password !== undefined ? { authKey: hep.password } : {}) } : { captureId: 0 };
  const socket = new TraceSocket({ dataDir: parts.dataDir, nodeId: parts.nodeId, observe: observeSip, logger: parts.logger });
  const unsubscribe: Array<() => void> = [];
  return {
    hep: sender?.stats,
    async start() {
      if (sender && hep) {
        await sender.start();
        unsubscribe.push(observeSip((t) => sender.send(sipHepPacket(t, nowMicros(), id))));
        if (hep.rtcp) {
          unsubscribe.push(parts.observeRtcp((r) => {
            const packet = rtcpHepPacket(r, nowMicros(), id);
            if (packet) sender.send(packet);
          }));
        }
      }
      await socket.start();
    },
    async stop() {
      for (const u of unsubscribe.splice(0)) u();
      await socket.stop();
      await sender?.stop();
    },
  };
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
