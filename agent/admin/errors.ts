import { AgentError } from '../lib/errors.ts';

/**
 * Codes of the admin API (agent/admin/, docs/mqtt/admin.md):
 * - `admin.refused`: the hub would not run the request (signature, certificate, stale, replayed);
 * - `admin.invalid`: the request ran into problems (validation, a missing row): nothing changed;
 * - `admin.credential`: the admin's credential directory is missing or unreadable (client side);
 * - `admin.unreachable`: the hub's broker could not be reached, or did not answer in time.
 */
export type AdminErrorCode = 'admin.refused' | 'admin.invalid' | 'admin.credential' | 'admin.unreachable';

export class AdminError extends AgentError {
  declare readonly code: AdminErrorCode;
  /** One line each, for the response's `problems`. */
  readonly problems: readonly string[];

  constructor(code: AdminErrorCode, problems: string | readonly string[], options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(code, list.join('; '), options);
    this.problems = list;
  }
}

/** A problem of one op's body (thrown by an op's run(); collected by the executor). */
export const problem = (text: string): AdminError => new AdminError('admin.invalid', text);
