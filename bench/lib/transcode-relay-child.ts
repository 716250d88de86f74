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
 * On SIGTERM or when the channel closes, the relay stops and the process exits.
 */
import { performance } from 'node:perf_hooks';
import { createSystemClock } from '../../agent/lib/clock.ts';
import { createSilentLogger } from '../../agent/lib/logger.ts';
import type { LegCodec, RelaySession, RemoteMedia } from '../../agent/media/relay-types.ts';
import { UdpMediaRelay } from '../../agent/media/udp-media-relay.ts';

const lo = Number(process.argv[2]);
const hi = Number(process.argv[3]);
if (!(lo > 1024 && hi > lo)) throw new Error(`usage: transcode-relay-child.ts <portLo> <portHi>, got ${process.argv.slice(2).join(' ')}`);

const relay = new UdpMediaRelay({
  address: '127.0.0.1',
  portRange: [lo, hi],
  timeoutMs: 3_600_000,
  clock: createSystemClock(),
  logger: createSilentLogger(),
});
relay.start();
const sessions: RelaySession[] = [];

/** The rtpmap name of a native codec, as an SDP would carry it. */
const rtpmap = (c: LegCodec): string => (c.codec === 'opus' ? 'opus/48000/2' : `${c.codec}/8000`);
const remote = (port: number, c: LegCodec): RemoteMedia => ({
  address: '127.0.0.1',
  rtpPort: port,
  rtcpPort: port + 1,
  rtcpMux: false,
  payloadTypes: new Map([[c.payloadType, rtpmap(c)]]),
  sending: true,
});

type Msg = { type: 'allocate'; phones: Array<{ a: number; b: number }>; codecs: { a: LegCodec; b: LegCodec } } | { type: 'stats' };

const add = (into: Record<string, number>, from: object) => {
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
};

process.on('message', (raw: unknown) => {
  const msg = raw as Msg;
  void (async () => {
    try {
      if (msg.type === 'allocate') {
        const ports: Array<{ a: number; b: number }> = [];
        for (const phone of msg.phones) {
          const session = await relay.allocate(`bench-${sessions.length}`, { onMediaTimeout: () => {} });
          session.update('a', remote(phone.a, msg.codecs.a));
          session.update('b', remote(phone.b, msg.codecs.b));
          session.setTranscoding(msg.codecs);
          sessions.push(session);
          ports.push({ a: session.local('a').rtpPort, b: session.local('b').rtpPort });
        }
        process.send!({ type: 'allocated', ports });
      } else if (msg.type === 'stats') {
        const legs = { a: {} as Record<string, number>, b: {} as Record<string, number> };
        const transcoders = { a: {} as Record<string, number>, b: {} as Record<string, number> };
        for (const s of sessions) {
          const st = s.stats();
          add(legs.a, st.a);
          add(legs.b, st.b);
          // LegStats.transcoded: the direction this leg's party sends, while transcoding.
          if (st.a.transcoded) add(transcoders.a, st.a.transcoded);
          if (st.b.transcoded) add(transcoders.b, st.b.transcoded);
        }
        const elu = performance.eventLoopUtilization();
        process.send!({ type: 'stats', legs, transcoders, cpu: process.cpuUsage(), elu: { idle: elu.idle, active: elu.active } });
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
