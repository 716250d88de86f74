/**
 * What an admin op is (docs/mqtt/admin.md "Ops"): a name (the last topic level), a zod schema
 * of its body, whether it writes, and run(). One family of ops per file in ops/, listed once in
 * ops/index.ts: adding `config.set` is one file there and one line in the list. run() throws
 * AdminError('admin.invalid') (`problem()`) for what is wrong with the request; a writing op
 * runs inside the request's one transaction (op-executor.ts), so a throw undoes the batch.
 */
import { z } from 'zod';
import type { Store } from '../store/store.ts';

export interface OpContext {
  store: Store;
  /** The hub's clock, ms. */
  now: number;
  /** The hub's data directory (its CA's issued certificates, for revocation). */
  hubDataDir: string;
  /** The hub's `sip.realm` (or `sip.domain`): users' realm when their site sets none. */
  defaultRealm: string | undefined;
  /** Whether a node is online as the hub's replication sees it; undefined: not known. */
  nodeOnline: (nodeId: string) => boolean | undefined;
  /** Who asked: the admin's name from its certificate (recorded with desired config). */
  actor: string;
}

export interface AdminOp<S extends z.ZodType = z.ZodType, P = unknown> {
  name: string;
  /** One line for `outpost admin --help` and the docs. */
  summary: string;
  schema: S;
  writes: boolean;
  /**
   * Optional slow reading before the request's transaction (hashing a bundle file): resolves
   * with what run() gets as `prepared`, or throws AdminError like run().
   */
  prepare?(ctx: OpContext, body: z.output<S>): Promise<P>;
  run(ctx: OpContext, body: z.output<S>, prepared: P): unknown;
}

/** Keeps the body type of `run` tied to `schema` while the registry holds plain AdminOps. */
export function defineOp<S extends z.ZodType, P = unknown>(op: AdminOp<S, P>): AdminOp {
  return op as unknown as AdminOp;
}

/** The problems of a zod error, one line each: `password: Too small …`. */
export function zodProblems(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => `${prefix}${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`);
}

/** Ids as the CLI takes them. */
export const siteId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use 1-63 lowercase letters, digits or dashes');
