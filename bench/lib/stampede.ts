/**
 * The re-registration stampede (issue 11 item 4), shared by bench/stampede.ts and
 * test/integration/stampede.test.ts: many users seeded in a box's store in one group commit, one
 * call in progress whose RTP is counted at the callee, and N phones registering within W seconds
 * with digest auth, from several loopback source addresses at once (the phones of a dead box come
 * from many LAN addresses, each sending a handful of messages; see docs/bench-stampede.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeHa1 } from '../../agent/sip/auth/digest.ts';
import { Store } from '../../agent/store/store.ts';
import { injectBinding } from './bindings.ts';
import { freeUdpPorts } from './procs.ts';
import { spawnSipp, SIPP_SCENARIOS, type SippProcess } from './sipp.ts';
import { SipCallee, pcmaAnswer } from './sip-callee.ts';
import { runCli, type NodeProcess } from './node-process.ts';
import { writePcmaPcap } from './rtp-pcap.ts';
import { runSipp, sippOutcome, type SippOutcome } from './sipp.ts';
import { udpPortBound } from './procs.ts';
import { waitFor } from './wait-for.ts';
import { HarnessError } from './harness-error.ts';

export const stampedeExt = (i: number) => String(200000 + i);
export const stampedePassword = (ext: string) => `pw-${ext}`;

/** Writes `exts` as users (MD5 and SHA-256 HA1) in one group transaction. */
export async function seedUsers(dataDir: string, domain: string, exts: string[], site = 'branch-a'): Promise<void> {
  const store = Store.open({ dataDir });
  try {
    const now = Date.now();
    await Promise.all(
      exts.map((ext) => {
        const pw = stampedePassword(ext);
        const user = { ext, displayName: '', realm: domain, site, ha1Md5: computeHa1(ext, domain, pw, 'MD5'), ha1Sha256: computeHa1(ext, domain, pw, 'SHA-256') };
        return store.writes.submit(() => store.users.upsert(user, now));
      }),
    );
  } finally {
    store.close();
  }
}

export interface CallInProgress {
  caller: SippProcess;
  callee: SipCallee;
  /** RTP packets the callee has received so far (through the box's relay). */
  received(): number;
  /** Packets received after index `from`, and the share of the sequence numbers they span that never arrived. */
  since(from: number): { packets: number; expected: number; lossRatio: number };
  stop(): void;
}

/**
 * A call from `caller` (sipp, digest auth, `seconds` of A-law RTP) to `callee` (a SIP UA in this
 * process whose binding is written into the store), answered and flowing when this resolves.
 */
export async function startCallWithRtp(o: { node: NodeProcess; dir: string; domain: string; caller: string; callee: string; seconds: number }): Promise<CallInProgress> {
  const pcap = join(o.dir, 'long-pcma.pcap');
  writePcmaPcap(pcap, o.seconds);
  // call-uac.xml, playing the long capture and talking for as long as it lasts.
  const scenario = join(o.dir, 'call-uac-long.xml');
  writeFileSync(
    scenario,
    readFileSync(join(SIPP_SCENARIOS, 'call-uac.xml'), 'latin1')
      .replace('/usr/share/sip-tester/g711a.pcap', pcap)
      .replace('<pause milliseconds="2000"/>', `<pause milliseconds="${o.seconds * 1000}"/>`),
  );
  const callee = await SipCallee.start((port) => pcmaAnswer(port, 101));
  injectBinding(o.node.dataDir, o.callee, callee.sipPort);
  const callerPort = await freeUdpPorts(1);
  const caller = spawnSipp({
    scenario, dir: o.dir, name: 'stampede-call', port: callerPort, mediaPort: await freeUdpPorts(4), target: o.node.udp,
    injection: [`${o.caller};[authentication username=${o.caller} password=${stampedePassword(o.caller)}];${o.domain};${o.callee}`],
    calls: 1, rate: 1, timeoutS: o.seconds + 30,
  });
  await waitFor(() => udpPortBound(callerPort), 'the sipp caller to start', 5_000);
  await waitFor(() => callee.rtp.length >= 10 || undefined, `RTP to reach the callee (caller errors: ${caller.errors().slice(-500)})`, 10_000);
  return {
    caller,
    callee,
    received: () => callee.rtp.length,
    since(from) {
      const got = callee.rtp.slice(from);
      if (got.length === 0) return { packets: 0, expected: 0, lossRatio: 1 };
      // Sequence numbers advance by one per packet (no wrap within an hour's capture).
      const seqs = got.map((p) => p.seq);
      const expected = Math.max(...seqs) - Math.min(...seqs) + 1;
      return { packets: got.length, expected, lossRatio: Math.max(0, 1 - got.length / expected) };
    },
    stop() {
      caller.kill();
      callee.close();
    },
  };
}

export interface StampedeOutcome {
  phones: number;
  windowS: number;
  sources: number;
  successful: number;
  failed: number;
  unanswered: number;
  retransmissions: number;
  /** Responses sipp did not expect (anything but 401 then 200, or 503 where allowed). */
  unexpected: number;
  /** From the first REGISTER to the last sipp's exit, s. */
  elapsedS: number;
  perSource: SippOutcome[];
}

/**
 * `exts` register within about `windowS` seconds, split evenly over `sources` (loopback addresses
 * 127.0.0.<10+k>), each source one sipp offering its share at share/windowS per second.
 */
export async function stampede(o: { target: { host: string; port: number }; dir: string; domain: string; exts: string[]; windowS: number; sources: number; scenario?: string; timeoutS?: number }): Promise<StampedeOutcome> {
  const slices = Array.from({ length: o.sources }, (_, k) => o.exts.filter((_, i) => i % o.sources === k));
  const t0 = performance.now();
  const results = await Promise.all(
    slices.map(async (slice, k) => {
      const rate = Math.max(1, slice.length / o.windowS);
      const res = await runSipp({
        scenario: o.scenario ?? join(SIPP_SCENARIOS, 'register-auth.xml'),
        target: o.target,
        transport: 'u1',
        calls: slice.length,
        rate,
        injection: slice.map((ext) => `${ext};[authentication username=${ext} password=${stampedePassword(ext)}];${o.domain}`),
        dir: o.dir,
        localIp: `127.0.0.${10 + k}`,
        maxConcurrent: slice.length,
        timeoutS: o.timeoutS ?? o.windowS + 60,
      });
      return sippOutcome(res, slice.length, (performance.now() - t0) / 1000);
    }),
  );
  const sum = (f: (r: SippOutcome) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    phones: o.exts.length,
    windowS: o.windowS,
    sources: o.sources,
    successful: sum((r) => r.successful),
    failed: sum((r) => r.failed),
    unanswered: sum((r) => r.unanswered),
    retransmissions: sum((r) => r.stats.retransmissions),
    unexpected: sum((r) => r.stats.unexpected),
    elapsedS: (performance.now() - t0) / 1000,
    perSource: results,
  };
}

/** How many of `exts` have a live binding, per `outpost status --json`. */
export async function liveRegistrations(node: NodeProcess, exts: string[]): Promise<number> {
  const res = await runCli(['status', '--json', '--config', node.configFile], node.dir);
  if (res.code !== 0) throw new HarnessError(`outpost status failed (${res.code}): ${res.stderr}`);
  const bound = new Set((JSON.parse(res.stdout) as { registrations: Array<{ aor: string }> }).registrations.map((r) => r.aor));
  return exts.filter((e) => bound.has(e)).length;
}
