/**
 * Phase 4 of bench/sync.ts, backlog catch-up: n2 stopped, a burst written on n1 and merged by
 * the hub, n2 started again; the time from n2's spawn (and from its "node started" line) until
 * it holds every row.
 */
import { join } from 'node:path';
import { type Cluster, quiet, waitForRows } from './sync-cluster.ts';
import { log, sleep } from './sync-config.ts';
import { counterDelta, counters, freshCounters } from './sync-counters.ts';
import { coresBetween } from './sync-cpu.ts';
import { now, type LogLine } from './outpost-process.ts';
import { CHANGES_PER_ROW } from './sync-writer.ts';
import { CpuWindow } from './quiet.ts';

export async function phaseBacklog(c: Cluster) {
  const { rows: ROWS, rowsPerTx: ROWS_PER_TX } = c.cfg;
  const prefix = 'k-';
  const changes = ROWS * CHANGES_PER_ROW;
  log(`${c.kind} backlog: stopping n2`);
  c.cpu.snapshot(); // last reading of the old n2
  const stopT = now();
  const code = await c.n2.stop();
  const n2Stop = { exit: code, ms: Math.round(now() - stopT) };
  log(`${c.kind} backlog: n2 stopped (exit ${code}) in ${n2Stop.ms} ms; writing ${ROWS} rows on n1`);
  const n2Clock0 = c.views.n2.cdrChanges();
  const hub0 = counters(join(c.dir, 'hub'));
  const n10 = counters(join(c.dir, 'n1'));
  const burstP = c.writer.burst(prefix, 'n1', ROWS, ROWS_PER_TX);
  const hubAllAt = await waitForRows(c, 'backlog hub', () => c.views.hub.count(prefix), ROWS, 5);
  const burst = await burstP;
  const hubIngestMs = hubAllAt - burst.firstCommitAt;
  log(`${c.kind} backlog: hub had all rows ${Math.round(hubIngestMs)} ms after the first commit`);
  await sleep(1000); // let the hub finish publishing its site stream
  const otherBefore = await quiet(c);
  const hub1 = counters(join(c.dir, 'hub'));
  const n11 = counters(join(c.dir, 'n1'));

  const cpu0 = c.cpu.snapshot();
  const win = new CpuWindow(() => c.cpu.total());
  const n2 = c.n2;
  n2.spawn();
  const spawnAt = n2.spawnedAt;
  let firstRowAt = 0;
  const allAt = await waitForRows(c, 'backlog n2', () => c.views.n2.count(prefix), ROWS, 5, (t, n) => {
    if (!firstRowAt && n > 0) firstRowAt = t;
  });
  const wallMs = now() - spawnAt;
  const { cpu, wait, cpuMs } = coresBetween(cpu0, c.cpu.snapshot(), wallMs);
  const w = win.read();
  // The line's own timestamp (pino, ms): the pipe may deliver it late while n2 is busy merging.
  const logTime = (l: LogLine | undefined) => (l ? (typeof l.line['time'] === 'string' ? Date.parse(l.line['time']) : l.at) : undefined);
  const startedAt = logTime(n2.findLog('node started'));
  const connectedAt = logTime(n2.findLog('broker connected', 0, (l) => l['link'] === 'hub'));
  const n2Merged = c.views.n2.cdrChanges() - n2Clock0;
  const n2After = await freshCounters(join(c.dir, 'n2'), allAt);
  const hubAfter = await freshCounters(join(c.dir, 'hub'), allAt);
  const n1After = counters(join(c.dir, 'n1'));
  const fromSpawnMs = allAt - spawnAt;
  const result = {
    changes,
    rows: ROWS,
    n2Stop,
    writeMs: Math.round(burst.lastCommitAt - burst.startedAt),
    hubIngestMs: Math.round(hubIngestMs),
    hubIngestChangesPerS: Math.round(changes / (hubIngestMs / 1000)),
    fromSpawnMs: Math.round(fromSpawnMs),
    nodeStartedAfterSpawnMs: startedAt ? Math.round(startedAt - spawnAt) : null,
    hubConnectedAfterSpawnMs: connectedAt ? Math.round(connectedAt - spawnAt) : null,
    firstRowAfterSpawnMs: firstRowAt ? Math.round(firstRowAt - spawnAt) : null,
    fromNodeStartedMs: startedAt ? Math.round(allAt - startedAt) : null,
    fromHubConnectedMs: connectedAt ? Math.round(allAt - connectedAt) : null,
    /** Merge rate once rows flow (first row seen on n2 until the last). */
    flowChangesPerS: firstRowAt && allAt > firstRowAt ? Math.round(changes / ((allAt - firstRowAt) / 1000)) : null,
    n2ChangesMerged: n2Merged,
    /** n2's counters since its restart (batches in = queued pushes + catch-up replies). */
    n2Counters: n2After,
    /** The hub's and n1's counters while n2 caught up. */
    hubCounters: counterDelta(hub1, hubAfter),
    n1Counters: counterDelta(n11, n1After),
    /** The hub's and n1's counters while the hub took the burst from n1 (n2 down). */
    hubIngestCounters: { hub: counterDelta(hub0, hub1), n1: counterDelta(n10, n11) },
    cores: cpu,
    runqueueWaitCores: wait,
    cpuMs,
    otherCpu: w.other,
    otherCpuBefore: otherBefore,
  };
  log(
    `${c.kind} backlog: n2 held all rows ${result.fromSpawnMs} ms after spawn (node started at +${result.nodeStartedAfterSpawnMs}, ` +
      `hub link at +${result.hubConnectedAfterSpawnMs}, first row at +${result.firstRowAfterSpawnMs}); from "node started": ${result.fromNodeStartedMs} ms; n2 counters ${JSON.stringify(n2After)}`,
  );
  if (n2Merged !== changes) log(`${c.kind} backlog: WARNING n2 merged ${n2Merged} column versions of cdrs, expected ${changes}`);
  return result;
}
