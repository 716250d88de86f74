/**
 * What real enrolment costs a test cluster (bench/lib/cluster.ts): starts a secure cluster
 * (hub, then claim codes from `outpost enrol create --write`, then boxes that enrol at their
 * first start and connect over mTLS) and an insecure one (plain MQTT, all processes at once),
 * `runs` times each, and prints the start times and, per box, spawn → `enrolled` and spawn → `node started`.
 * Usage: node --import tsx bench/enrol-cost.ts [boxes=3] [runs=2]
 */
import { Cluster } from './lib/cluster.ts';
import { tempDir } from './lib/node-process.ts';

const boxes = Number(process.argv[2] ?? 3);
const runs = Number(process.argv[3] ?? 2);
const ids = Array.from({ length: boxes }, (_, i) => `n${i + 1}`);

const at = (c: Cluster, name: string, msg: string) => {
  const p = c.replicas.find((r) => r.name === name)!;
  const line = p.logs.find((l) => l.line['msg'] === msg);
  return line ? line.at - p.spawnedAt : NaN;
};

for (const secure of [true, false]) {
  for (let run = 0; run < runs; run++) {
    const c = await Cluster.prepare({ dir: tempDir('outpost-enrol-cost-'), broker: 'embedded', nodes: ids, secure, logLevel: 'info' });
    const t0 = performance.now();
    await c.start();
    const total = performance.now() - t0;
    const enrol = ids.map((id) => at(c, id, 'enrolled'));
    const started = ids.map((id) => at(c, id, 'node started'));
    const f = (xs: number[]) => xs.map((x) => (Number.isNaN(x) ? '-' : x.toFixed(0))).join(' ');
    console.log(`${secure ? 'secure  ' : 'insecure'} run ${run + 1}: cluster start ${total.toFixed(0)} ms; boxes from claims to started ${c.enrolMs.map((x) => x.toFixed(0)).join(' ') || '-'} ms; per box spawn→enrolled [${f(enrol)}] ms, spawn→started [${f(started)}] ms`);
    await c.stop();
    await c.destroy(true);
  }
}
