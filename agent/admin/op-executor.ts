/**
 * Runs a verified admin request against the hub's store (docs/mqtt/admin.md "All or nothing"):
 * the op's body through its zod schema; a `batch` (several ops in one request) validates every
 * item first, then runs all of them in one transaction of the store's group commit. Every
 * problem of every item is collected; if there is any, the transaction is rolled back and the
 * answer lists them all: nothing changed. Replication carries a committed change to the boxes.
 * Every request that changes something or was refused is recorded in the hub's audit trail
 * (store.adminAudit, docs/security.md "Audit trail"): a committed change in its own transaction,
 * a refusal (validation problems, a rolled-back transaction) in one of its own afterwards.
 * Reads (ops that do not write) are not recorded.
 */
import { z } from 'zod';
import type { AdminOp, OpContext } from './admin-op.ts';
import { zodProblems } from './admin-op.ts';
import { AdminError } from './errors.ts';

export type Outcome = { ok: true; result: unknown } | { ok: false; problems: string[] };

export const BATCH_OP = 'batch';
export const MAX_BATCH = 1000;

const BatchSchema = z.strictObject({
  items: z.array(z.strictObject({ op: z.string(), body: z.unknown() })).min(1).max(MAX_BATCH),
});

interface Step {
  op: AdminOp;
  body: unknown;
  label: string;
  /** What the op's prepare() read before the transaction. */
  prepared?: unknown;
}

export class OpExecutor {
  private readonly ops: Map<string, AdminOp>;

  constructor(ops: readonly AdminOp[], private readonly context: (actor: string) => OpContext) {
    this.ops = new Map(ops.map((o) => [o.name, o]));
  }

  /** The names of the ops this hub runs, `batch` included. */
  names(): string[] {
    return [...this.ops.keys(), BATCH_OP].sort();
  }

  /**
   * Runs one request of `actor` (a verified admin) with transaction id `tx`, and records it in
   * the audit trail unless it only reads.
   */
  async execute(op: string, body: unknown, actor = 'admin', tx = ''): Promise<Outcome> {
    const ctx = this.context(actor);
    const audit = { admin: actor, op, tx, body };
    const outcome = await this.attempt(ctx, op, body, (at) => ctx.store.adminAudit.append({ ...audit, at, outcome: 'ok', problems: [] }));
    // A batch always asks for a change; an unknown op is not a known read.
    const writes = op === BATCH_OP || this.ops.get(op)?.writes !== false;
    if (outcome.ok || !writes) return outcome;
    try {
      await ctx.store.writes.submit(() => ctx.store.adminAudit.append({ ...audit, at: ctx.now, outcome: 'refused', problems: outcome.problems }));
      return outcome;
    } catch (err) {
      return { ok: false, problems: [...outcome.problems, `the hub could not record the refusal in its audit trail: ${(err as Error).message}`] };
    }
  }

  /** The request's outcome; `record` runs inside the transaction of a change, before it commits. */
  private async attempt(ctx: OpContext, op: string, body: unknown, record: (at: number) => void): Promise<Outcome> {
    let steps: Step[];
    const problems: string[] = [];
    if (op === BATCH_OP) {
      const batch = BatchSchema.safeParse(body);
      if (!batch.success) return { ok: false, problems: zodProblems(batch.error) };
      steps = [];
      batch.data.items.forEach((item, i) => {
        const s = this.step(item.op, item.body, `items[${i}] ${item.op}: `, problems);
        if (s) steps.push(s);
      });
      if (steps.some((s) => !s.op.writes)) return { ok: false, problems: [...problems, 'a batch holds only ops that change something (no list ops)'] };
    } else {
      const s = this.step(op, body, '', problems);
      steps = s ? [s] : [];
    }
    // Nothing valid to run, or only reads: answer now. Otherwise the valid steps run even when
    // others were invalid, so the answer lists their problems too; any problem undoes them all.
    if (steps.length === 0) return { ok: false, problems };
    // Slow reads (a bundle's hash) before the transaction; a step whose read failed does not run.
    const unprepared = new Set<Step>();
    for (const s of steps) {
      if (!s.op.prepare) continue;
      try {
        s.prepared = await s.op.prepare(ctx, s.body);
      } catch (err) {
        if (!(err instanceof AdminError)) return { ok: false, problems: [`the hub could not run the request: ${(err as Error).message}`] };
        problems.push(...err.problems.map((p) => `${s.label}${p}`));
        unprepared.add(s);
      }
    }
    steps = steps.filter((s) => !unprepared.has(s));
    if (steps.length === 0) return { ok: false, problems };
    if (!steps.some((s) => s.op.writes)) return problems.length > 0 ? { ok: false, problems } : this.guard(() => steps[0]!.op.run(ctx, steps[0]!.body, steps[0]!.prepared));
    try {
      const results = await ctx.store.writes.submit(() => {
        const out = steps.map((s) => {
          try {
            return s.op.run(ctx, s.body, s.prepared);
          } catch (err) {
            if (!(err instanceof AdminError)) throw err;
            problems.push(...err.problems.map((p) => `${s.label}${p}`));
            return undefined;
          }
        });
        // Any problem: undo the whole request (the write queue rolls back to its savepoint).
        if (problems.length > 0) throw new AdminError('admin.invalid', problems);
        // The change and its audit record commit together, or neither does.
        record(ctx.now);
        return out;
      });
      return { ok: true, result: op === BATCH_OP ? results : results[0] };
    } catch (err) {
      if (err instanceof AdminError) return { ok: false, problems: [...err.problems] };
      return { ok: false, problems: [`the hub could not apply the change: ${(err as Error).message}`] };
    }
  }

  private step(name: string, body: unknown, label: string, problems: string[]): Step | undefined {
    const op = this.ops.get(name);
    if (!op) {
      problems.push(`${label}unknown op "${name}"; the hub knows ${this.names().join(', ')}`);
      return undefined;
    }
    const parsed = op.schema.safeParse(body ?? {});
    if (!parsed.success) {
      problems.push(...zodProblems(parsed.error, label));
      return undefined;
    }
    return { op, body: parsed.data, label };
  }

  private guard(fn: () => unknown): Outcome {
    try {
      return { ok: true, result: fn() };
    } catch (err) {
      if (err instanceof AdminError) return { ok: false, problems: [...err.problems] };
      return { ok: false, problems: [`the hub could not run the request: ${(err as Error).message}`] };
    }
  }
}
