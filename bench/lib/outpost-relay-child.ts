/**
 * Outpost's RTP relay (agent/media/UdpMediaRelay) alone in its own process, for
 * bench/media-relay.ts: the same relay code the switch uses, with the switch's settings, but no
 * SIP, so that the bench measures the relay the way it measures rtpengine.
 *
 *   node --import tsx bench/lib/outpost-relay-child.ts <portLo> <portHi>     (forked, with IPC)
 *
 * Messages from the parent (JSON over the IPC channel):
 *   { type: 'allocate', phones: [{ a, b }, ...] }  one session per entry; leg a's remote media is
 *        127.0.0.1:a, leg b's 127.0.0.1:b (PCMU, no rtcp-mux, sending). Replies
 *        { type: 'allocated', ports: [{ a, b }, ...] }: the relay's local RTP port per leg, i.e.
 *        where phone A and phone B must send.
 *   { type: 'stats' }  -> { type: 'stats', totals }: the legs' counters summed over all sessions.
 * On SIGTERM or when the channel closes, the relay stops (releases every session) and exits.
 */
import { createSystemClock } from '../../agent/lib/clock.ts';
import { createSilentLogger } from '../../agent/lib/logger.ts';
import type { RelaySession, RemoteMedia } from '../../agent/media/relay-types.ts';
import { UdpMediaRelay } from '../../agent/media/udp-media-relay.ts';

const lo = Number(process.argv[2]);
const hi = Number(process.argv[3]);
if (!(lo > 1024 && hi > lo)) throw new Error(`usage: outpost-relay-child.ts <portLo> <portHi>, got ${process.argv.slice(2).join(' ')}`);

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

const pcmu: ReadonlyMap<number, string> = new Map([[0, 'PCMU/8000']]);
const remote = (port: number): RemoteMedia => ({ address: '127.0.0.1', rtpPort: port, rtcpPort: port + 1, rtcpMux: false, payloadTypes: pcmu, sending: true });

type Msg = { type: 'allocate'; phones: Array<{ a: number; b: number }> } | { type: 'stats' };

process.on('message', (raw: unknown) => {
  const msg = raw as Msg;
  void (async () => {
    try {
      if (msg.type === 'allocate') {
        const ports: Array<{ a: number; b: number }> = [];
        for (const phone of msg.phones) {
          const session = await relay.allocate(`bench-${sessions.length}`, { onMediaTimeout: () => {} });
          session.update('a', remote(phone.a));
          session.update('b', remote(phone.b));
          sessions.push(session);
          ports.push({ a: session.local('a').rtpPort, b: session.local('b').rtpPort });
        }
        process.send!({ type: 'allocated', ports });
      } else if (msg.type === 'stats') {
        const totals: Record<string, number> = {};
        for (const s of sessions) {
          for (const leg of Object.values(s.stats())) {
            for (const [k, v] of Object.entries(leg)) if (typeof v === 'number') totals[k] = (totals[k] ?? 0) + v;
          }
        }
        process.send!({ type: 'stats', totals });
      }
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
