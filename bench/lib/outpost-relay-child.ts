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
 * The relay, the IPC loop and the shutdown: bench/lib/relay-child-main.ts.
 */
import { addCounters, phoneMedia, relayChildMain } from './relay-child-main.ts';

const pcmu: ReadonlyMap<number, string> = new Map([[0, 'PCMU/8000']]);

type Msg = { type: 'allocate'; phones: Array<{ a: number; b: number }> } | { type: 'stats' };

relayChildMain<Msg>('outpost-relay-child.ts', async (msg, { allocate, sessions }) => {
  if (msg.type === 'allocate') {
    const ports = await allocate(msg.phones, (session, phone) => {
      session.update('a', phoneMedia(phone.a, pcmu));
      session.update('b', phoneMedia(phone.b, pcmu));
    });
    return { type: 'allocated', ports };
  }
  if (msg.type === 'stats') {
    const totals: Record<string, number> = {};
    for (const s of sessions) for (const leg of Object.values(s.stats())) addCounters(totals, leg);
    return { type: 'stats', totals };
  }
  return undefined;
});
