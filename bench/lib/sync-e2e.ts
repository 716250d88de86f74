/**
 * Phase 2 of bench/sync.ts, end-to-end throughput: a burst written into n1's store by the writer
 * process, timed from its first commit until n2's store holds every row.
 */
import { join } from 'node:path';
import { type Cluster, quiet, waitForRows } from './sync-cluster.ts';
import { log, round } from './sync-config.ts';
import { counterDelta, counters, freshCounters } from './sync-counters.ts';
import { coresBetween } from './sync-cpu.ts';
import { now } from './outpost-process.ts';
import { CHANGES_PER_ROW } from './sync-writer.ts';
import { CpuWindow } from './quiet.ts';

export async function phaseE2e(c: Cluster, rawPerS: number | undefined) {
  const { rows: ROWS, rowsPerTx: ROWS_PER_TX } = c.cfg;
  const prefix = 'e-';
  const otherBefore = await quiet(c);
  const n2Clock0 = c.views.n2.cdrChanges();
  const hub0 = counters(join(c.dir, 'hub'));
  const n10 = counters(join(c.dir, 'n1'));
  const n20 = counters(join(c.dir, 'n2'));
  const cpu0 = c.cpu.snapshot();
  const win = new CpuWindow(() => c.cpu.total());
  const t0 = now();
  log(`${c.kind} e2e: writing ${ROWS} rows (${ROWS * CHANGES_PER_ROW} changes) on n1 in transactions of ${ROWS_PER_TX}`);
  const burstP = c.writer.burst(prefix, 'n1', ROWS, ROWS_PER_TX);
  let hubAllAt = 0;
  const timeline: Array<[number, number, number, number]> = [];
  let nextSample = t0;
  const n2AllAt = await waitForRows(c, 'e2e n2', () => c.views.n2.count(prefix), ROWS, 5, (t) => {
    if (!hubAllAt && c.views.hub.count(prefix) >= ROWS) hubAllAt = t;
    if (t >= nextSample) {
      timeline.push([Math.round(t - t0), c.views.n1.count(prefix), c.views.hub.count(prefix), c.views.n2.count(prefix)]);
      nextSample += 250;
    }
  });
  const burst = await burstP;
  const wallMs = now() - t0;
  const { cpu, wait, cpuMs } = coresBetween(cpu0, c.cpu.snapshot(), wallMs);
  const w = win.read();
  const changes = ROWS * CHANGES_PER_ROW;
  const e2eMs = n2AllAt - burst.firstCommitAt;
  const n2Merged = c.views.n2.cdrChanges() - n2Clock0;
  const hubAfter = await freshCounters(join(c.dir, 'hub'), n2AllAt);
  const n1After = counters(join(c.dir, 'n1'));
  const n2After = counters(join(c.dir, 'n2'));
  const result = {
    changes,
    rows: ROWS,
    txs: burst.txs,
    writeMs: Math.round(burst.lastCommitAt - burst.startedAt),
    writeChangesPerS: Math.round(changes / ((burst.lastCommitAt - burst.startedAt) / 1000)),
    hubAllMs: hubAllAt ? Math.round(hubAllAt - burst.firstCommitAt) : null,
    e2eMs: Math.round(e2eMs),
    changesPerS: Math.round(changes / (e2eMs / 1000)),
    ratioToRaw: rawPerS ? round(changes / (e2eMs / 1000) / rawPerS, 3) : null,
    n2ChangesMerged: n2Merged,
    cores: cpu,
    runqueueWaitCores: wait,
    /** CPU time per process over the phase (10 ms ticks): a cost that does not depend on contention. */
    cpuMs,
    cpuUsPerChange: round(Object.entries(cpuMs).reduce((t, [k, v]) => (k === 'writer' ? t : t + v), 0) / changes * 1000, 1),
    otherCpu: w.other,
    otherCpuBefore: otherBefore,
    /** Sync counters during the burst: batches, catch-up requests (requestsOut: asked, requestsIn: served). */
    counters: { n1: counterDelta(n10, n1After), hub: counterDelta(hub0, hubAfter), n2: counterDelta(n20, n2After) },
    /** [ms since the burst began, rows on n1, hub, n2], every 250 ms. */
    timeline,
  };
  log(
    `${c.kind} e2e: written in ${result.writeMs} ms, hub had all after ${result.hubAllMs} ms, n2 after ${result.e2eMs} ms = ${result.changesPerS} changes/s` +
      `${result.ratioToRaw !== null ? ` (${result.ratioToRaw} of raw)` : ''}; cores ${JSON.stringify(cpu)}, waiting for a core ${JSON.stringify(wait)}, other processes ${w.other}`,
  );
  if (n2Merged !== changes) log(`${c.kind} e2e: WARNING n2 merged ${n2Merged} column versions of cdrs, expected ${changes}`);
  return result;
}
