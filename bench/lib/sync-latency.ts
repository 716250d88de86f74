/**
 * Phase 3 of bench/sync.ts, propagation latency: single-row transactions on n1 at a fixed rate;
 * n2 and the hub polled every ~1.25 ms; visibility time minus commit time.
 */
import { checkAlive, type Cluster, diagnose, quiet } from './sync-cluster.ts';
import { log, round, sleep } from './sync-config.ts';
import { coresBetween } from './sync-cpu.ts';
import { now } from './outpost-process.ts';
import { uuidOf } from './sync-writer.ts';
import { CpuWindow } from './quiet.ts';

/** p50/p90/p99/max/min/mean of `xs` (null when empty), rounded to 0.1. */
export function stats(xs: number[]) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: round(q(0.5)), p90: round(q(0.9)), p99: round(q(0.99)), max: round(s[s.length - 1]!), min: round(s[0]!), mean: round(s.reduce((a, b) => a + b, 0) / s.length) };
}

export async function phaseLatency(c: Cluster) {
  const { latRate: LAT_RATE, latCount: LAT_COUNT } = c.cfg;
  const prefix = 'l-';
  const otherBefore = await quiet(c);
  const cpu0 = c.cpu.snapshot();
  const win = new CpuWindow(() => c.cpu.total());
  const t0 = now();
  log(`${c.kind} latency: ${LAT_COUNT} single-row transactions on n1 at ${LAT_RATE}/s`);
  const seenHub = new Map<string, number>();
  const seenN2 = new Map<string, number>();
  let lastHub = '';
  let lastN2 = '';
  let polls = 0;
  let writerDone = false;
  const trickleP = c.writer.trickle(prefix, 'n1', LAT_RATE, LAT_COUNT).finally(() => (writerDone = true));
  const deadline = t0 + LAT_COUNT * (1000 / LAT_RATE) + c.cfg.timeoutMs;
  while (seenN2.size < LAT_COUNT || seenHub.size < LAT_COUNT || !writerDone) {
    const t = now();
    for (const u of c.views.hub.rowsAfter(prefix, lastHub)) {
      seenHub.set(u, t);
      lastHub = u;
    }
    for (const u of c.views.n2.rowsAfter(prefix, lastN2)) {
      seenN2.set(u, t);
      lastN2 = u;
    }
    polls++;
    if (t > deadline) break;
    checkAlive(c);
    await sleep(1);
  }
  const { commits, starts } = await trickleP;
  const pollMs = (now() - t0) / polls;
  const wallMs = now() - t0;
  const n2Lat: number[] = [];
  const n2FromStart: number[] = [];
  const hubLat: number[] = [];
  const hubToN2: number[] = [];
  const commitMs: number[] = [];
  commits.forEach((at, i) => {
    const u = uuidOf(prefix, i);
    const h = seenHub.get(u);
    const n = seenN2.get(u);
    commitMs.push(at - starts[i]!);
    if (h !== undefined) hubLat.push(h - at);
    if (n !== undefined) n2Lat.push(n - at);
    if (n !== undefined) n2FromStart.push(n - starts[i]!);
    if (h !== undefined && n !== undefined) hubToN2.push(n - h);
  });
  const { cpu, wait } = coresBetween(cpu0, c.cpu.snapshot(), wallMs);
  const writeGaps = commits.slice(1).map((t, i) => t - commits[i]!);
  const result = {
    transactions: LAT_COUNT,
    rate: LAT_RATE,
    achievedRate: round((commits.length - 1) / ((commits[commits.length - 1]! - commits[0]!) / 1000)),
    maxWriteGapMs: round(Math.max(...writeGaps)),
    pollIntervalMs: round(pollMs, 2),
    /** n1 commit returned -> row visible on n2 (the headline number). */
    n2: stats(n2Lat),
    /** Just before the INSERT -> visible on n2: never below the truth (includes the commit itself). */
    n2FromInsert: stats(n2FromStart),
    /** How long the single-row commit took on n1 (WAL, synchronous=FULL). */
    commit: stats(commitMs),
    /** n1 commit -> visible on the hub (includes n1's up-to-50 ms head check). */
    hub: stats(hubLat),
    /** Visible on the hub -> visible on n2: the relay hop alone (negative: n2 got it from n1 directly). */
    hubToN2: stats(hubToN2),
    missingOnN2: LAT_COUNT - n2Lat.length,
    cores: cpu,
    runqueueWaitCores: wait,
    otherCpu: win.read().other,
    otherCpuBefore: otherBefore,
  };
  log(`${c.kind} latency (ms, commit -> visible): n2 ${JSON.stringify(result.n2)}; hub ${JSON.stringify(result.hub)}; poll every ${result.pollIntervalMs} ms`);
  if (result.missingOnN2) log(`${c.kind} latency: ${result.missingOnN2} rows never reached n2\n${diagnose(c, prefix, LAT_COUNT)}`);
  return result;
}
