/**
 * The two transcoding relays bench/transcode-relay.ts measures, behind one small interface:
 * Outpost's UdpMediaRelay with setTranscoding() in its own process
 * (bench/lib/transcode-relay-child.ts), and rtpengine (userspace, transcoding set up with the ng
 * protocol's codec options). Each allocates one session per call whose phones are given and says
 * where each phone must send, and which payload type phone B must use.
 */
import { fileURLToPath } from 'node:url';
import type { LegCodec } from '../../agent/media/relay-types.ts';
import { forkRelayChild, outpostUnderTest } from './relay-child.ts';
import { audioSdp, rtpengineUnderTest, startRtpengine, type NgClient, type RtpengineProcess } from './rtpengine.ts';
import { HarnessError } from './harness-error.ts';

const CHILD = fileURLToPath(new URL('./transcode-relay-child.ts', import.meta.url));
const PROFILE_PRELOAD = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));

export interface ChildStats {
  legs: { a: Record<string, number>; b: Record<string, number> };
  /** Per sending leg: a = A's codec in, B's out. */
  transcoders: { a: Record<string, number>; b: Record<string, number> };
  /** process.cpuUsage() of the child, µs. */
  cpu: { user: number; system: number };
  /** performance.eventLoopUtilization() so far, ms. */
  elu: { idle: number; active: number };
}

export interface Allocation {
  /** Per call: the relay port phone A sends to and the one phone B sends to. */
  ports: Array<{ aSendsTo: number; bSendsTo: number }>;
  /** The payload type phone B sends and receives (the relay may pick it, as rtpengine does). */
  payloadTypeB: number;
}

export interface TranscodingRelay {
  name: 'outpost' | 'rtpengine';
  pid: number;
  /** CPU seconds used so far (all threads), from /proc/<pid>/stat. */
  cpuSeconds(): number;
  rssMb(): number;
  dead(): string | undefined;
  allocate(phones: Array<{ a: number; b: number }>, codecs: { a: LegCodec; b: LegCodec }): Promise<Allocation>;
  /** Outpost only: the child's counters, CPU and event-loop utilisation. */
  stats(): Promise<ChildStats | undefined>;
  stop(): Promise<number | null>;
}

/** Outpost's relay in a child process; with `profileDir`, V8's sampling profiler runs in it and writes there at exit. */
export async function startOutpostTranscoder(portRange: [number, number], profileDir?: string): Promise<TranscodingRelay> {
  const child = await forkRelayChild(CHILD, [String(portRange[0]), String(portRange[1])], {
    ...(profileDir ? { preload: [PROFILE_PRELOAD], env: { ...process.env, OUTPOST_BENCH_CPU_PROF_DIR: profileDir } } : {}),
  });
  const { proc, next, stop } = child;
  return {
    ...outpostUnderTest(child),
    async allocate(phones, codecs) {
      const reply = next(120_000, 'allocate');
      proc.send({ type: 'allocate', phones, codecs });
      const ports = (await reply)['ports'] as Array<{ a: number; b: number }>;
      return { ports: ports.map((p) => ({ aSendsTo: p.a, bSendsTo: p.b })), payloadTypeB: codecs.b.payloadType };
    },
    async stats() {
      const reply = next(30_000, 'stats');
      proc.send({ type: 'stats' });
      const { legs, transcoders, cpu, elu } = (await reply) as unknown as ChildStats;
      return { legs, transcoders, cpu, elu };
    },
    stop,
  };
}

const rtpmapName = (codec: string) => (codec === 'opus' ? 'opus/48000/2' : `${codec}/8000`);

/**
 * What rtpengine is told to transcode to: for opus, mono at 32 kbit/s like
 * native/codec/codec_opus.c (its default is stereo). Measured here (rtpengine 10.5, Debian 12):
 * the mono setting takes, the bitrate and ffmpeg options such as `application=voip` do not: what
 * comes out is CELT-only super-wideband at ~48 kbit/s (TOC bytes in the JSON), where
 * codec_opus.c makes SILK wideband with in-band FEC. So for opus the two relays do different
 * encoder work; see docs/bench-transcode.md.
 */
export const rtpengineTranscodeSpec = (codec: string) => (codec === 'opus' ? 'opus/48000/1/32000' : codec);

function mediaOf(body: string): { address: string; port: number; rtpmap: Map<string, { pt: number; encoding: string }> } {
  const c = /^c=IN IP[46] (\S+)/m.exec(body);
  const m = /^m=audio (\d+) /m.exec(body);
  if (!c || !m) throw new HarnessError(`no c= or m=audio line in SDP:\n${body}`);
  const rtpmap = new Map<string, { pt: number; encoding: string }>();
  for (const x of body.matchAll(/^a=rtpmap:(\d+) (([^/\s]+)\S*)/gm)) rtpmap.set(x[3]!, { pt: Number(x[1]), encoding: x[2]! });
  return { address: c[1]!, port: Number(m[1]), rtpmap };
}

/**
 * One transcoded call through rtpengine: A offers only codec a; rtpengine is told to offer B
 * only codec b (`codec: { mask: [a], transcode: [b] }`, i.e. it transcodes a <-> b itself); B
 * answers codec b with the payload type and rtpmap rtpengine offered; A's answer comes back with
 * codec a. The rewritten offer goes to B, so its port is where B sends; the answer's port is
 * where A sends.
 */
export async function rtpengineTranscodedCall(
  ng: NgClient,
  callId: string,
  aPort: number,
  bPort: number,
  codecs: { a: LegCodec; b: LegCodec },
): Promise<{ aSendsTo: number; bSendsTo: number; payloadTypeB: number }> {
  const common = { 'call-id': callId, replace: ['origin', 'session-connection'], ICE: 'remove' };
  const fromTag = `a-${callId}`;
  const offer = await ng.ok(
    {
      command: 'offer',
      ...common,
      'from-tag': fromTag,
      sdp: audioSdp(aPort, 1, [[codecs.a.payloadType, rtpmapName(codecs.a.codec)]]),
      codec: { mask: [codecs.a.codec], transcode: [rtpengineTranscodeSpec(codecs.b.codec)] },
    },
    2000,
  );
  const toB = mediaOf(String(offer['sdp']));
  const b = toB.rtpmap.get(codecs.b.codec);
  if (b === undefined) throw new HarnessError(`rtpengine offered no ${codecs.b.codec}:\n${String(offer['sdp'])}`);
  const answer = await ng.ok({ command: 'answer', ...common, 'from-tag': fromTag, 'to-tag': `b-${callId}`, sdp: audioSdp(bPort, 2, [[b.pt, b.encoding]]) }, 2000);
  const toA = mediaOf(String(answer['sdp']));
  if (toA.address !== '127.0.0.1' || toB.address !== '127.0.0.1') throw new HarnessError(`rtpengine answered with ${toA.address}/${toB.address}, not 127.0.0.1`);
  if (toA.rtpmap.get(codecs.a.codec)?.pt !== codecs.a.payloadType) throw new HarnessError(`rtpengine's answer to A is not ${codecs.a.codec}/${codecs.a.payloadType}:\n${String(answer['sdp'])}`);
  return { aSendsTo: toA.port, bSendsTo: toB.port, payloadTypeB: b.pt };
}

export async function startRtpengineTranscoder(options: { dir: string; portRange: [number, number]; threads: number }): Promise<TranscodingRelay & { rtpengine: RtpengineProcess }> {
  const rtpe = await startRtpengine({ dir: options.dir, portMin: options.portRange[0], portMax: options.portRange[1], threads: options.threads });
  let calls = 0;
  return {
    ...rtpengineUnderTest(rtpe),
    async allocate(phones, codecs) {
      const out: Array<{ aSendsTo: number; bSendsTo: number; payloadTypeB: number }> = new Array(phones.length);
      const BATCH = 16;
      for (let i = 0; i < phones.length; i += BATCH) {
        await Promise.all(
          phones.slice(i, i + BATCH).map(async (p, j) => {
            out[i + j] = await rtpengineTranscodedCall(rtpe.ng, `tx-${calls + i + j}`, p.a, p.b, codecs);
          }),
        );
      }
      calls += phones.length;
      const pts = new Set(out.map((o) => o.payloadTypeB));
      if (pts.size > 1) throw new HarnessError(`rtpengine chose different payload types for ${codecs.b.codec}: ${[...pts].join(', ')}`);
      return { ports: out.map(({ aSendsTo, bSendsTo }) => ({ aSendsTo, bSendsTo })), payloadTypeB: out[0]?.payloadTypeB ?? codecs.b.payloadType };
    },
    async stats() {
      return undefined;
    },
    stop: () => rtpe.stop(),
  };
}
