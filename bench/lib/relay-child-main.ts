/**
 * The child side of bench/lib/relay-child.ts, shared by bench/lib/outpost-relay-child.ts and
 * bench/lib/transcode-relay-child.ts: Outpost's UdpMediaRelay on 127.0.0.1 with the switch's
 * settings, ports from argv (<portLo> <portHi>), each message from the parent answered with one
 * reply (`{ type: 'error', message }` when handling it throws), stopped on SIGTERM or when the
 * channel closes, and `{ type: 'ready', pid }` once it listens.
 */
import { createSystemClock } from '../../agent/lib/clock.ts';
import { createSilentLogger } from '../../agent/lib/logger.ts';
import type { RelaySession, RemoteMedia } from '../../agent/media/relay-types.ts';
import { UdpMediaRelay } from '../../agent/media/udp-media-relay.ts';
import { HarnessError } from './harness-error.ts';

export interface BenchRelay {
  relay: UdpMediaRelay;
  /** Every session allocated so far, in order. */
  sessions: RelaySession[];
  /**
   * One session per entry of `phones` (ids bench-0, bench-1, ...), its legs set up by `setup`;
   * returns the relay's local RTP port per leg, i.e. where phone A and phone B must send.
   */
  allocate<P>(phones: P[], setup: (session: RelaySession, phone: P) => void): Promise<Array<{ a: number; b: number }>>;
}

/** A phone's media as the relay sees it: 127.0.0.1:port (RTCP on port + 1, no rtcp-mux), sending. */
export function phoneMedia(port: number, payloadTypes: ReadonlyMap<number, string>): RemoteMedia {
  return { address: '127.0.0.1', rtpPort: port, rtcpPort: port + 1, rtcpMux: false, payloadTypes, sending: true };
}

/** Adds `from`'s numeric fields into `into`. */
export function addCounters(into: Record<string, number>, from: object): void {
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
}

/**
 * Runs the child: `handle` turns each message into the reply to send (none when it returns
 * undefined). `script` names the child in the usage error.
 */
export function relayChildMain<Msg>(script: string, handle: (msg: Msg, bench: BenchRelay) => Promise<object | undefined>): void {
  const lo = Number(process.argv[2]);
  const hi = Number(process.argv[3]);
  if (!(lo > 1024 && hi > lo)) throw new HarnessError(`usage: ${script} <portLo> <portHi>, got ${process.argv.slice(2).join(' ')}`);

  // As agent/main.ts builds it, except the logger (silent: the switch logs at info, and the relay's
  // per-packet path logs nothing at info either) and a timeout no step comes near.
  const relay = new UdpMediaRelay({
    address: '127.0.0.1',
    portRange: [lo, hi],
    timeoutMs: 3_600_000,
    clock: createSystemClock(),
    logger: createSilentLogger(),
  });
  relay.start();
  const sessions: RelaySession[] = [];
  const bench: BenchRelay = {
    relay,
    sessions,
    async allocate(phones, setup) {
      const ports: Array<{ a: number; b: number }> = [];
      for (const phone of phones) {
        const session = await relay.allocate(`bench-${sessions.length}`, { onMediaTimeout: () => {} });
        setup(session, phone);
        sessions.push(session);
        ports.push({ a: session.local('a').rtpPort, b: session.local('b').rtpPort });
      }
      return ports;
    },
  };

  process.on('message', (raw: unknown) => {
    void (async () => {
      try {
        const reply = await handle(raw as Msg, bench);
        if (reply) process.send!(reply);
      } catch (err) {
        process.send!({ type: 'error', message: (err as Error).stack ?? String(err) });
      }
    })();
  });

  const stop = () => {
    void relay.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  process.send!({ type: 'ready', pid: process.pid });
}
