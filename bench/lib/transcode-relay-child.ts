/**
 * Outpost's RTP relay (agent/media/UdpMediaRelay) alone in its own process with transcoding
 * sessions, for bench/transcode-relay.ts. Like bench/lib/outpost-relay-child.ts (same relay
 * settings, silent logger, no SIP), but every session gets setTranscoding() after its remotes.
 *
 *   node --import tsx bench/lib/transcode-relay-child.ts <portLo> <portHi>     (forked, with IPC)
 *
 * Messages from the parent (JSON over the IPC channel):
 *   { type: 'allocate', phones: [{ a, b }, ...], codecs: { a: LegCodec, b: LegCodec } }
 *        one session per entry: leg a's remote media 127.0.0.1:a with codec a's payload type,
 *        leg b's 127.0.0.1:b with codec b's, then setTranscoding(codecs). Replies
 *        { type: 'allocated', ports: [{ a, b }, ...] } (where phone A and phone B must send).
 *   { type: 'stats' } -> { type: 'stats', legs, transcoders, cpu, elu }: LegStats and their
 *        `transcoded` counters summed over all sessions (transcoders per sending leg), this process's
 *        process.cpuUsage() (µs) and event-loop utilisation so far (performance.eventLoopUtilization()).
 * On SIGTERM or when the channel closes, the relay stops and the process exits. The relay, the
 * IPC loop and the shutdown: bench/lib/relay-child-main.ts.
 */
import { performance } from 'node:perf_hooks';
import type { LegCodec } from '../../agent/media/relay-types.ts';
import { addCounters, phoneMedia, relayChildMain } from './relay-child-main.ts';

/** The rtpmap name of a native codec, as an SDP would carry it. */
const rtpmap = (c: LegCodec): string => (c.codec === 'opus' ? 'opus/48000/2' : `${c.codec}/8000`);
const remote = (port: number, c: LegCodec) => phoneMedia(port, new Map([[c.payloadType, rtpmap(c)]]));

type Msg = { type: 'allocate'; phones: Array<{ a: number; b: number }>; codecs: { a: LegCodec; b: LegCodec } } | { type: 'stats' };

relayChildMain<Msg>('transcode-relay-child.ts', async (msg, { allocate, sessions }) => {
  if (msg.type === 'allocate') {
    const ports = await allocate(msg.phones, (session, phone) => {
      session.update('a', remote(phone.a, msg.codecs.a));
      session.update('b', remote(phone.b, msg.codecs.b));
      session.setTranscoding(msg.codecs);
    });
    return { type: 'allocated', ports };
  }
  if (msg.type === 'stats') {
    const legs = { a: {} as Record<string, number>, b: {} as Record<string, number> };
    const transcoders = { a: {} as Record<string, number>, b: {} as Record<string, number> };
    for (const s of sessions) {
      const st = s.stats();
      addCounters(legs.a, st.a);
      addCounters(legs.b, st.b);
      // LegStats.transcoded: the direction this leg's party sends, while transcoding.
      if (st.a.transcoded) addCounters(transcoders.a, st.a.transcoded);
      if (st.b.transcoded) addCounters(transcoders.b, st.b.transcoded);
    }
    const elu = performance.eventLoopUtilization();
    return { type: 'stats', legs, transcoders, cpu: process.cpuUsage(), elu: { idle: elu.idle, active: elu.active } };
  }
  return undefined;
});
