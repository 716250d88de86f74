/**
 * This machine is shared: helpers to see how much CPU processes other than the bench's own use,
 * and to wait until they calm down before a measured step.
 */
import { machineBusySeconds } from './procs.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round2 = (n: number) => Math.round(n * 100) / 100;

/** Measures the machine's busy cores and this script's own CPU over an interval. */
export class CpuWindow {
  private readonly busy0 = machineBusySeconds();
  private readonly self0 = process.cpuUsage();
  private readonly t0 = performance.now();
  private readonly own0: number;

  /** `own` = CPU seconds so far of the bench's children that are accounted for separately. */
  constructor(private readonly own: () => number) {
    this.own0 = own();
  }

  /** Average cores over the window: machine busy, our children's, this script's, and the rest. */
  read(): { wallS: number; busy: number; own: number; self: number; other: number } {
    const wallS = (performance.now() - this.t0) / 1000;
    const busy = (machineBusySeconds() - this.busy0) / wallS;
    const own = (this.own() - this.own0) / wallS;
    const s = process.cpuUsage(this.self0);
    const self = (s.user + s.system) / 1e6 / wallS;
    return { wallS, busy: round2(busy), own: round2(own), self: round2(self), other: round2(Math.max(0, busy - own - self)) };
  }
}

/**
 * Waits (up to `maxWaitS`, and at most OUTPOST_BENCH_QUIET_WAIT_S when that is set) until
 * processes other than ours use less than `quietCores`, measured over one second. Returns the
 * load it last saw.
 */
export async function waitForQuiet(own: () => number, log: (m: string) => void, quietCores = 0.1, maxWaitS = 90): Promise<number> {
  maxWaitS = Math.min(maxWaitS, Number(process.env['OUTPOST_BENCH_QUIET_WAIT_S'] ?? Infinity));
  const deadline = Date.now() + maxWaitS * 1000;
  let warned = false;
  for (;;) {
    const w = new CpuWindow(own);
    await sleep(1000);
    const { other } = w.read();
    if (other < quietCores) return other;
    if (Date.now() > deadline) {
      log(`machine still busy (${other} cores used by other processes): going on anyway`);
      return other;
    }
    if (!warned) log(`machine busy (${other} cores used by other processes): waiting up to ${maxWaitS} s for it to calm down`);
    warned = true;
  }
}

/**
 * One measured step on a shared machine: waits for quiet, runs the step, and runs it once more
 * (after a pause and another wait) when it failed while other processes used `disturbedCores`
 * or more, unless it failed because the system under test died (`reason` === `diedReason`).
 */
export async function measureQuietly<S extends { pass: boolean; otherCpu: number; reason?: string }>(o: {
  quiet: () => Promise<unknown>;
  run: () => Promise<S>;
  disturbedCores: number;
  diedReason: string;
  /** Names the step in the log line. */
  label: string;
  log: (m: string) => void;
}): Promise<S & { repeatedAfterDisturbance?: boolean }> {
  await o.quiet();
  const step = await o.run();
  if (step.pass || step.reason === o.diedReason || step.otherCpu < o.disturbedCores) return step;
  // Another process competed for the cores: measure this step again once it is quiet.
  o.log(`${o.label} was disturbed (${step.otherCpu} cores used by other processes): repeating it`);
  await sleep(3000);
  await o.quiet();
  return { ...(await o.run()), repeatedAfterDisturbance: true };
}
