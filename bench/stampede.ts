/**
 * The re-registration stampede (issue 11 item 4, benchmark c): N phones re-register at one box
 * within W seconds, with digest auth, while the box carries a call whose RTP is counted at the
 * callee. Each step starts a fresh box with N users (and Kamailio with the same users, for the
 * registration part), then the shared ladder doubles N until a step fails, and bisects once.
 *
 *   node --import tsx bench/stampede.ts [options]       (or: npm run bench:stampede)
 *
 * A step passes when every registration succeeded (sipp saw only 401 then 200, none timed out).
 * Reported per step: registrations/s absorbed (successful / time from the first REGISTER to the
 * last 200), failures, sipp's retransmissions, the box's CPU, and the call's RTP during the
 * stampede (packets received at the callee, and the share of the sequence range never received).
 * Progress goes to stderr; stdout gets exactly one JSON line.
 * Options:
 *   --phones N        first step (default 1000)
 *   --window S        seconds over which the N phones start registering (default 10)
 *   --max-phones N    top of the ladder (default 64000)
 *   --sources K       loopback source addresses the phones are spread over (default 4)
 *   --quick           two steps (1000, 2000), no bisection, no Kamailio
 *   --no-kamailio     skip Kamailio
 *   --keep            keep the temporary directories
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { computeHa1 } from '../agent/sip/auth/digest.ts';
import { startNode, writeNodeConfig } from './lib/node-process.ts';
import { findKamailio, startKamailio } from './lib/kamailio.ts';
import { climbAndBisect, doubling } from './lib/ladder.ts';
import { processCpuSeconds, reapedChildrenCpuSeconds, stopProcess, udpCounters } from './lib/procs.ts';
import { CpuWindow } from './lib/quiet.ts';
import { machine, outpostVersion, printResult, runMain } from './lib/report.ts';
import { stopAllSipp, sippVersion } from './lib/sipp.ts';
import { seedUsers, stampede, stampedeExt, stampedePassword, startCallWithRtp, liveRegistrations, type StampedeOutcome } from './lib/stampede.ts';
import { Teardown } from './lib/teardown.ts';
import { HarnessError } from './lib/harness-error.ts';

const DOMAIN = 'stampede.example';
const CALLER = '1001';
const CALLEE = '1002';

const { values: opts } = parseArgs({
  options: {
    phones: { type: 'string', default: '1000' },
    window: { type: 'string', default: '10' },
    'max-phones': { type: 'string', default: '64000' },
    sources: { type: 'string', default: '4' },
    quick: { type: 'boolean', default: false },
    'no-kamailio': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});
const quick = opts.quick;
const FIRST = Number(opts.phones);
const WINDOW_S = Number(opts.window);
const MAX = quick ? FIRST * 2 : Number(opts['max-phones']);
const SOURCES = Number(opts.sources);
if (!(FIRST > 0) || !(WINDOW_S > 0) || !(MAX >= FIRST) || !(SOURCES >= 1 && SOURCES <= 200)) throw new HarnessError('bad --phones, --window, --max-phones or --sources');

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const teardown = new Teardown(log).install();
teardown.first(stopAllSipp);

interface Step {
  phones: number;
  offeredRate: number;
  successful: number;
  failed: number;
  unanswered: number;
  /** Successful registrations per second, from the first REGISTER to the last sipp's exit. */
  absorbedRate: number;
  elapsedS: number;
  retransmissions: number;
  unexpected: number;
  /** Average cores used by the server, by the stampede's sipps, and by everything else (other sessions on a shared machine, the call's sipp, this script). */
  serverCpu: number;
  sippCpu: number;
  otherCpu: number;
  /** Datagrams the kernel dropped at full UDP receive buffers meanwhile (whole machine). */
  udpRcvbufDrops: number;
  /** Outpost only: bindings live afterwards, and the call's RTP during the stampede. */
  liveBindings?: number;
  rtp?: { packets: number; expected: number; lossRatio: number };
  pass: boolean;
}

/** CPU and UDP counters at the start of a step. */
function counters() {
  return { drops0: udpCounters().rcvbufErrors, sipp0: reapedChildrenCpuSeconds() };
}

function toStep(phones: number, out: StampedeOutcome, cpu: CpuWindow, at: ReturnType<typeof counters>): Step {
  const c = cpu.read();
  const sippCpu = round((reapedChildrenCpuSeconds() - at.sipp0) / c.wallS);
  return {
    phones,
    offeredRate: Math.round(phones / WINDOW_S),
    successful: out.successful,
    failed: out.failed,
    unanswered: out.unanswered,
    absorbedRate: Math.round(out.successful / out.elapsedS),
    elapsedS: round(out.elapsedS),
    retransmissions: out.retransmissions,
    unexpected: out.unexpected,
    serverCpu: c.own,
    sippCpu,
    otherCpu: round(Math.max(0, c.other - sippCpu)),
    udpRcvbufDrops: udpCounters().rcvbufErrors - at.drops0,
    pass: out.failed === 0 && out.unanswered === 0 && out.successful === phones,
  };
}

const describe = (name: string, s: Step) =>
  `${name} ${s.phones} phones in ${WINDOW_S} s: ${s.successful} ok, ${s.failed} failed, ${s.unanswered} unanswered, ${s.absorbedRate}/s absorbed over ${s.elapsedS} s, ` +
  `retrans ${s.retransmissions}, udp drops ${s.udpRcvbufDrops}, cpu ${s.serverCpu} sipp ${s.sippCpu} other ${s.otherCpu}${s.rtp ? `, rtp ${s.rtp.packets}/${s.rtp.expected}` : ''} -> ${s.pass ? 'pass' : 'FAIL'}`;

async function outpostStep(phones: number): Promise<Step> {
  teardown.check();
  const dir = teardown.tempDir('outpost-stampede-', opts.keep);
  // The box's defaults except the flood limit: the bench's phones come from a few loopback
  // addresses, not from one address each as on a LAN (docs/bench-stampede.md).
  const config = writeNodeConfig(dir, `  flood:\n    rateLimit: { perSecond: 1000000, burst: 1000000 }\nrtp: { portRange: [29900, 29999] }\n`, DOMAIN);
  const exts = Array.from({ length: phones }, (_, i) => stampedeExt(i));
  await seedUsers(join(dir, 'data'), DOMAIN, [...exts, CALLER, CALLEE]);
  const node = await startNode(config, dir);
  const stop = teardown.push(() => stopProcess(node.proc, { graceMs: 15_000 }));
  const call = await startCallWithRtp({ node, dir, domain: DOMAIN, caller: CALLER, callee: CALLEE, seconds: WINDOW_S + 120 });
  try {
    const before = call.received();
    const cpu = new CpuWindow(() => processCpuSeconds(node.proc.pid!));
    const at = counters();
    const out = await stampede({ target: node.udp, dir, domain: DOMAIN, exts, windowS: WINDOW_S, sources: SOURCES });
    const step = toStep(phones, out, cpu, at);
    step.rtp = { ...call.since(before), lossRatio: round(call.since(before).lossRatio, 4) };
    step.liveBindings = await liveRegistrations(node, exts);
    if (step.liveBindings !== step.successful) step.pass = false;
    log(describe('outpost', step));
    return step;
  } finally {
    call.stop();
    await teardown.release(stop);
  }
}

async function kamailioStep(phones: number): Promise<Step> {
  teardown.check();
  const info = findKamailio()!;
  const dir = teardown.tempDir('kamailio-stampede-', opts.keep);
  const exts = Array.from({ length: phones }, (_, i) => stampedeExt(i));
  const users: Array<[string, string]> = exts.map((e) => [e, computeHa1(e, DOMAIN, stampedePassword(e), 'MD5')]);
  const kam = await startKamailio({ info, dir, realm: DOMAIN, users, children: 2 });
  const stop = teardown.push(() => kam.stop());
  try {
    const cpu = new CpuWindow(() => kam.cpuSeconds());
    const at = counters();
    const out = await stampede({ target: kam.udp, dir, domain: DOMAIN, exts, windowS: WINDOW_S, sources: SOURCES });
    const step = toStep(phones, out, cpu, at);
    log(describe('kamailio', step));
    return step;
  } finally {
    await teardown.release(stop);
  }
}

async function ladder(measure: (phones: number) => Promise<Step>) {
  const r = await climbAndBisect({
    loads: doubling(FIRST, MAX),
    measure,
    pauseMs: 2000,
    ...(quick ? {} : { bisect: { steps: 1, quantum: 1000, pauseMs: 2000 } }),
  });
  return { maxPhonesWithoutFailure: r.lastGood, firstFailing: r.firstBad ?? null, stoppedBy: r.stoppedBy, steps: r.steps };
}

async function main(): Promise<void> {
  const started = performance.now();
  log(`stampede: ${FIRST}..${MAX} phones in ${WINDOW_S} s from ${SOURCES} sources`);
  let outpost: Awaited<ReturnType<typeof ladder>> | null = null;
  let kamailio: (Awaited<ReturnType<typeof ladder>> & { version: string }) | null = null;
  try {
    outpost = await ladder(outpostStep);
    if (!quick && !opts['no-kamailio']) {
      const info = findKamailio();
      if (info) kamailio = { version: info.version, ...(await ladder(kamailioStep)) };
      else log('kamailio is not installed: skipping it');
    }
  } finally {
    await teardown.runAll();
  }
  printResult({
    bench: 'stampede',
    transport: 'udp',
    algorithm: 'MD5',
    windowS: WINDOW_S,
    sources: SOURCES,
    quick,
    criterion: 'every registration succeeds (only 401 then 200), every binding live afterwards',
    outpost: outpost && { version: outpostVersion(), ...outpost },
    kamailio,
    machine: machine(),
    sipp: { version: sippVersion(), sameHost: true },
    durationS: Math.round((performance.now() - started) / 1000),
  });
}

runMain(main, log, teardown);
