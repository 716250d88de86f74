/**
 * The search every capacity bench runs: climb a ladder of loads (rates, calls) until a step
 * fails, then bisect between the last passing and the first failing load. Used by
 * bench/register.ts, calls.ts (both parts), media-relay.ts and transcode-relay.ts.
 */

export interface LadderStep {
  pass: boolean;
}

export interface LadderOptions<S extends LadderStep> {
  /** The loads to climb, in order; the climb stops at the first failing one. */
  loads: Iterable<number>;
  /** Runs (and records) one step at `load`. */
  measure(load: number): Promise<S>;
  /** Pause after a passing climb step. */
  pauseMs?: number;
  /** False stops the climb and the bisection for lack of time (stoppedBy 'time'). */
  hasTime?(): boolean;
  /** Throws when the run was interrupted (checked before each climb step). */
  check?(): void;
  /** Runs between the climb and the bisection (e.g. extra runs at a fixed load), given the climb's steps. */
  afterClimb?(steps: readonly S[]): Promise<void>;
  bisect?: {
    /** At most this many bisection steps (1: one refinement; Infinity: down to `closeEnough`). */
    steps: number;
    /** The midpoint is rounded to a multiple of this. */
    quantum: number;
    /** Also bisect when no step passed (between 0 and the first failing load). */
    fromZero?: boolean;
    /** Stop once firstBad - lastGood is at most this. */
    closeEnough?(lastGood: number): number;
    /** False stops the bisection (e.g. the server died). */
    canGo?(): boolean;
    /** Pause before each bisection step. */
    pauseMs?: number;
  };
}

export interface LadderResult<S extends LadderStep> {
  /** The highest load that passed (0: none). */
  lastGood: number;
  /** The lowest load above lastGood that failed, if any. */
  firstBad: number | undefined;
  /** The load at which the climb failed (before the bisection), if any. */
  climbFailed: number | undefined;
  steps: S[];
  /** What ended the search: a failing step, the end of the ladder, or the time bound. */
  stoppedBy: 'failure' | 'cap' | 'time';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function climbAndBisect<S extends LadderStep>(o: LadderOptions<S>): Promise<LadderResult<S>> {
  const steps: S[] = [];
  let lastGood = 0;
  let firstBad: number | undefined;
  let stoppedBy: LadderResult<S>['stoppedBy'] = 'cap';
  const hasTime = o.hasTime ?? (() => true);
  for (const load of o.loads) {
    o.check?.();
    if (!hasTime()) {
      stoppedBy = 'time';
      break;
    }
    const step = await o.measure(load);
    steps.push(step);
    if (!step.pass) {
      firstBad = load;
      stoppedBy = 'failure';
      break;
    }
    lastGood = load;
    if (o.pauseMs) await sleep(o.pauseMs);
  }
  const climbFailed = firstBad;
  await o.afterClimb?.(steps);
  const b = o.bisect;
  for (let n = 0; b && n < b.steps && firstBad !== undefined && (lastGood > 0 || b.fromZero) && (b.canGo?.() ?? true); n++) {
    if (b.closeEnough && firstBad - lastGood <= b.closeEnough(lastGood)) break;
    if (!hasTime()) {
      stoppedBy = 'time';
      break;
    }
    const mid = Math.round((lastGood + firstBad) / 2 / b.quantum) * b.quantum;
    if (!(mid > lastGood && mid < firstBad)) break;
    if (b.pauseMs) await sleep(b.pauseMs);
    const step = await o.measure(mid);
    steps.push(step);
    if (step.pass) lastGood = mid;
    else firstBad = mid;
  }
  return { lastGood, firstBad, climbFailed, steps, stoppedBy };
}

/** start, 2 x start, 4 x start, ... capped at (and ending with) max. */
export function* doubling(start: number, max: number): Generator<number> {
  for (let n = start; ; n = Math.min(max, n * 2)) {
    yield n;
    if (n >= max) return;
  }
}
