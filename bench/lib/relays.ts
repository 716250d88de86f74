/**
 * The two relays bench/media-relay.ts compares, behind one small interface: Outpost's
 * UdpMediaRelay in its own process (bench/lib/outpost-relay-child.ts) and rtpengine
 * (bench/lib/rtpengine.ts). Each allocates one session per call whose phones are given, and
 * says where each phone must send.
 */
import { fileURLToPath } from 'node:url';
import { pinProcess } from './rtp-load.ts';
import { forkRelayChild, outpostUnderTest } from './relay-child.ts';
import { rtpengineCall, rtpengineUnderTest, startRtpengine, type RtpengineProcess } from './rtpengine.ts';

const RELAY_CHILD = fileURLToPath(new URL('./outpost-relay-child.ts', import.meta.url));

export interface RelayUnderTest {
  name: 'outpost' | 'rtpengine';
  pid: number;
  /** CPU seconds used so far (all threads). */
  cpuSeconds(): number;
  rssMb(): number;
  /** A reason when the relay has died. */
  dead(): string | undefined;
  /**
   * One session per entry; `phones[i]` are the ports of call i's phones A and B on 127.0.0.1.
   * Returns, per call, the relay port phone A sends to and the one phone B sends to.
   */
  allocate(phones: Array<{ a: number; b: number }>): Promise<Array<{ aSendsTo: number; bSendsTo: number }>>;
  /** Relay-side counters, where the relay offers them cheaply (Outpost: summed LegStats). */
  counters(): Promise<Record<string, number> | undefined>;
  stop(): Promise<number | null>;
}

export async function startOutpostRelay(portRange: [number, number], cpuList?: string): Promise<RelayUnderTest> {
  const child = await forkRelayChild(RELAY_CHILD, [String(portRange[0]), String(portRange[1])]);
  const { proc, next, stop } = child;
  if (cpuList !== undefined) pinProcess(proc.pid!, cpuList);
  return {
    ...outpostUnderTest(child),
    async allocate(phones) {
      const reply = next(120_000, 'allocate');
      proc.send({ type: 'allocate', phones });
      const ports = (await reply)['ports'] as Array<{ a: number; b: number }>;
      return ports.map((p) => ({ aSendsTo: p.a, bSendsTo: p.b }));
    },
    async counters() {
      const reply = next(30_000, 'stats');
      proc.send({ type: 'stats' });
      return (await reply)['totals'] as Record<string, number>;
    },
    stop,
  };
}

export async function startRtpengineRelay(options: { dir: string; portRange: [number, number]; threads: number; cpuList?: string }): Promise<RelayUnderTest & { rtpengine: RtpengineProcess }> {
  const rtpe = await startRtpengine({ dir: options.dir, portMin: options.portRange[0], portMax: options.portRange[1], threads: options.threads });
  if (options.cpuList !== undefined) pinProcess(rtpe.proc.pid!, options.cpuList);
  let calls = 0;
  return {
    ...rtpengineUnderTest(rtpe),
    async allocate(phones) {
      const out: Array<{ aSendsTo: number; bSendsTo: number }> = new Array(phones.length);
      // A few commands in flight at once; rtpengine handles ng requests on its own thread(s).
      const BATCH = 16;
      for (let i = 0; i < phones.length; i += BATCH) {
        await Promise.all(
          phones.slice(i, i + BATCH).map(async (p, j) => {
            out[i + j] = await rtpengineCall(rtpe.ng, `bench-${calls + i + j}`, p.a, p.b);
          }),
        );
      }
      calls += phones.length;
      return out;
    },
    async counters() {
      return undefined;
    },
    stop: () => rtpe.stop(),
  };
}
