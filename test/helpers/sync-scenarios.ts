/**
 * The replication scenarios shared by test/integration/sync.test.ts and sync-mosquitto.test.ts,
 * run in order on one cluster (sync-cluster.ts): fan-out of acknowledged writes, a partition
 * from the hub (and its broker), with Mosquitto also a broker restart under a running hub, a
 * node killed with SIGKILL in the middle of a burst, site peers following that node to its new
 * broker port, and a compromised node that publishes rows it does not own. Acknowledged
 * REGISTERs (200 OK) are the unit of an acknowledged write. SYNC_TEST_TRACE=1 prints the timing
 * of every step.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DirectSql } from '../../agent/store/direct-sql.ts';
import { LOCALHOST } from './calls.ts';
import { registerUser } from '../../bench/lib/sip-register.ts';
import { explainedOn, passwordOf, SyncCluster, TRACE, type BindingKey, type BrokerKind, type Replica } from './sync-cluster.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

interface Ctx {
  cluster: SyncCluster;
  /** Every binding a node acknowledged with 200 OK so far, in any scenario. */
  acked: BindingKey[];
  /** A test failed: keep the cluster's folder for a post-mortem. */
  failed: boolean;
}

const USERS = ['2001', '2002', '2003', '2004', '2005', '2006'];
/** How long replication may take to bring every replica to the same state after an event. */
const CONVERGE_MS = 20_000;

let traceStart = Date.now();

/** Runs one step of a scenario; with SYNC_TEST_TRACE set, prints when it started and how long it took. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    if (TRACE) console.log(`  [${((t0 - traceStart) / 1000).toFixed(1)} s, ${Date.now() - t0} ms] ${what}`);
  }
}

/** Registers and expects 200 OK; records the binding as acknowledged. */
async function registerAcked(ctx: Ctx, node: Replica, user: string, tag: string): Promise<BindingKey> {
  const { result, binding } = await ctx.cluster.register(node, user, tag);
  assert.ok(result.ok, `REGISTER of ${user} at ${node.name} (${tag}): ${result.status ?? 'no answer'} ${result.reason}`);
  ctx.acked.push(binding);
  return binding;
}

/** A test body that prints the tails of every process's log when it fails. */
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

/** Registers the replication scenarios against a fresh cluster with `broker` and runs them. */
export function syncSuite(broker: BrokerKind): void {
  const test = suite<Ctx>(`replication, ${broker === 'embedded' ? 'embedded broker (aedes)' : 'mosquitto broker'}`);

  test.before(async (ctx) => {
    traceStart = Date.now();
    ctx.acked = [];
    ctx.failed = false;
    ctx.cluster = await SyncCluster.create({ broker });
    try {
      await step('start the cluster', () => ctx.cluster.start());
    } catch (err) {
      ctx.failed = true;
      console.error(`\n${ctx.cluster.logTails()}\n`);
      throw err;
    }
  });

  test.after(async (ctx) => {
    await ctx.cluster?.destroy(!ctx.failed);
  });

  test('users added on the hub reach every node; each acknowledged REGISTER reaches every replica', explained(async (ctx) => {
    const c = ctx.cluster;
    // Half of them for site a only (the hub's site stream), half for every site (the global stream).
    await step('user add x6 on the hub', () => c.addUsers(USERS.map((ext, i) => (i < 3 ? { ext, site: c.site } : { ext }))));
    await step('users reach the nodes', () => c.waitForUsers(c.nodes, USERS, CONVERGE_MS));
    await step('2 REGISTERs per node', () => Promise.all(c.nodes.map(async (n, i) => {
      for (const u of USERS.slice(2 * i, 2 * i + 2)) await registerAcked(ctx, n, u, 's1');
    })));
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  test(`partition: with the hub${broker === 'mosquitto' ? ' and mosquitto' : ''} down nodes keep acknowledging; after the restart every replica converges`, explained(async (ctx) => {
    const c = ctx.cluster;
    await step('stop the hub', async () => assert.is(await c.hub.stop('SIGTERM'), 0, 'hub exits 0 on SIGTERM'));
    if (c.mosquitto) await step('stop mosquitto', () => c.mosquitto!.stop());
    const before = ctx.acked.length;
    await step('2 REGISTERs per node, hub down', () => Promise.all(c.nodes.map(async (n, i) => {
      for (const k of [2, 3]) await registerAcked(ctx, n, USERS[(2 * i + k) % USERS.length]!, 's2');
    })));
    assert.is(ctx.acked.length - before, 2 * c.nodes.length);
    // Site peers replicate over their own brokers while the hub is away.
    await step('site peers exchange them without the hub', () => c.waitForBindings(c.nodes, ctx.acked, CONVERGE_MS));
    if (c.mosquitto) await step('start mosquitto', () => c.mosquitto!.start());
    await step('start the hub', () => c.hub.start());
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  if (broker === 'mosquitto') {
    test('mosquitto restart under a running hub (no broker persistence) loses nothing acknowledged', explained(async (ctx) => {
      const c = ctx.cluster;
      await step('stop mosquitto', () => c.mosquitto!.stop());
      await step('1 REGISTER per node, broker down', () => Promise.all(c.nodes.map((n, i) => registerAcked(ctx, n, USERS[(2 * i + 4) % USERS.length]!, 's2b'))));
      await step('start mosquitto', () => c.mosquitto!.start());
      await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
    }));
  }

  test('crash: kill -9 of a node in the middle of a REGISTER burst loses no acknowledged binding', explained(async (ctx) => {
    const c = ctx.cluster;
    const n2 = c.node('n2');
    const TOTAL = 60;
    const IN_FLIGHT = 6;
    const KILL_AFTER = 25;
    const target = n2.sip;
    let next = 0;
    let killing: Promise<void> | undefined;
    let dead = false;
    const acked: BindingKey[] = [];
    let unanswered = 0;
    // Workers keep sending until n2 is gone, so some REGISTERs are in flight when it dies.
    const worker = async () => {
      while (!dead && next < TOTAL) {
        const i = next++;
        const user = USERS[i % USERS.length]!;
        const contact = `sip:${user}-s3-${i}@${LOCALHOST}:5999`;
        const res = await registerUser({ target, domain: c.domain, user, password: passwordOf(user), contact, timeoutMs: 3000 });
        if (res.ok) acked.push({ aor: user, contact, node: n2.name });
        else if (res.status !== undefined) throw new HarnessError(`REGISTER ${i} at n2 got ${res.status} ${res.reason}`);
        else unanswered++;
        if (!killing && acked.length >= KILL_AFTER) killing = n2.kill().then(() => void (dead = true));
      }
    };
    await step(`burst of up to ${TOTAL} REGISTERs, ${IN_FLIGHT} in flight, kill -9 after ${KILL_AFTER} acknowledged`, () => Promise.all(Array.from({ length: IN_FLIGHT }, worker)));
    await killing;
    assert.ok(killing, 'n2 was killed');
    assert.ok(next < TOTAL, `the kill cut the burst (acknowledged ${acked.length}, unanswered ${unanswered}, sent ${next} of ${TOTAL})`);
    if (TRACE) console.log(`    acknowledged ${acked.length}, unanswered ${unanswered}, sent ${next} of ${TOTAL}`);
    ctx.acked.push(...acked);
    await step('restart n2', () => n2.start());
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  test('site peers follow a restarted node to its new broker port: with the hub down, its new writes still reach them', explained(async (ctx) => {
    // n2 was restarted by the crash scenario; its own broker (mqtt.listen port 0) has a new port,
    // which it announced while the hub was up. Now cut the hub off and write at n2.
    const c = ctx.cluster;
    const n2 = c.node('n2');
    const peers = c.nodes.filter((n) => n !== n2);
    await step('stop the hub', async () => assert.is(await c.hub.stop('SIGTERM'), 0, 'hub exits 0 on SIGTERM'));
    if (c.mosquitto) await step('stop mosquitto', () => c.mosquitto!.stop());
    try {
      const b = await step('REGISTER at n2, hub down', () => registerAcked(ctx, n2, USERS[1]!, 's3b'));
      try {
        await step('n1 and n3 get it over their site link to n2', () => c.waitForBindings(peers, [b], 10_000));
      } catch (err) {
        const links = await Promise.all(peers.map(async (p) => `${p.name}: ${JSON.stringify((await c.status(p)).sync?.links.filter((l) => l.name === `peer:${n2.name}`))}`));
        throw new HarnessError(`${(err as Error).message}\n  n2's broker is now ${n2.info?.mqtt}; links to it: ${links.join('; ')}`);
      }
    } finally {
      if (c.mosquitto && !c.mosquitto.running) await step('start mosquitto', () => c.mosquitto!.start());
      if (!c.hub.running) await step('start the hub', () => c.hub.start());
    }
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  test('compromised node: rows it does not own are refused by every receiver; its own writes still arrive', explained(async (ctx) => {
    const c = ctx.cluster;
    const n3 = c.node('n3');
    const receivers = c.replicas.filter((r) => r !== n3);
    await step('stop n3', async () => assert.is(await n3.stop('SIGTERM'), 0, 'n3 exits 0 on SIGTERM'));
    const now = Date.now();
    const forgedContact = 'sip:forged@203.0.113.9:5060';
    const forgedName = 'forged by n3';
    const forgedCdr = 'forged-cdr-by-n3';
    const victim = USERS[0]!;
    // Written straight into n3's database (its site id), so n3 signs and publishes them with its valid key.
    const sql = DirectSql.open(n3.dataDir);
    try {
      sql.db
        .prepare(`INSERT INTO registrations (aor, contact, node_id, expires_at, call_id, cseq, user_agent, received, updated_at)
          VALUES (?, ?, 'n1', ?, 'forged-call', 1, 'forged', 'udp:203.0.113.9:5060', ?)`)
        .run(victim, forgedContact, now + 3_600_000, now);
      assert.is(sql.db.prepare('UPDATE users SET display_name = ?, updated_at = ? WHERE ext = ?').run(forgedName, now, victim).changes, 1);
      sql.db
        .prepare(`INSERT INTO cdrs (uuid, node_id, caller, callee, started_at, answered_at, ended_at, duration_ms, disposition, sip_status)
          VALUES (?, 'n1', ?, ?, ?, ?, ?, 60000, 'answered', 200)`)
        .run(forgedCdr, USERS[1]!, USERS[2]!, now - 60_000, now - 59_000, now);
    } finally {
      sql.close();
    }
    await step('start n3', () => n3.start());
    // A legitimate write by n3 after the forged ones: it must still arrive everywhere.
    await step('REGISTER at n3', () => registerAcked(ctx, n3, USERS[4]!, 's4'));
    await step('the new binding reaches hub, n1, n2', () => c.waitForBindings(receivers, ctx.acked, CONVERGE_MS));
    // Every receiver pulls n3's own stream up to n3's head (past the forged changes, which
    // precede the REGISTER) and counts the forged changes as refused.
    const n3Head = c.head(n3);
    const reports = await step('every receiver pulls n3 past the forgery and reports it refused', () => Promise.all(receivers.map((r) =>
      waitFor(async () => {
        const st = await c.status(r);
        const counters = st.sync?.counters;
        const own = st.sync?.peers.find((p) => p.nodeId === n3.name)?.streams.find((s) => s.stream === 'own');
        return own && BigInt(own.watermark) >= n3Head && counters && counters.changesRejected > 0 && (counters.rejectedBy['n3'] ?? 0) > 0 ? st : undefined;
      }, `${r.name} to pull n3's stream to ${n3Head} and report changes of n3 refused (status --json sync)`, CONVERGE_MS, 300),
    )));
    for (const [i, r] of receivers.entries()) {
      const snap = c.snapshot(r);
      assert.not.ok([...snap.bindings].some((b) => b.includes(forgedContact)), `${r.name} took the forged registration`);
      assert.not.ok(reports[i]!.registrations.some((b) => b.contact === forgedContact), `status of ${r.name} lists the forged registration`);
      assert.is.not(snap.users.get(victim), forgedName, `${r.name} took the forged display name`);
      assert.not.ok(snap.cdrs.has(forgedCdr), `${r.name} took the forged CDR`);
    }
    // The forgery is really in n3's store (the test wrote what it meant to).
    const own = c.snapshot(n3);
    assert.ok([...own.bindings].some((b) => b.includes(forgedContact)) && own.users.get(victim) === forgedName && own.cdrs.has(forgedCdr), 'n3 holds the forged rows');
    await step('hub, n1, n2 converge', () => c.waitForConvergence(receivers, CONVERGE_MS, ctx.acked));
  }));

  test.run();
}
