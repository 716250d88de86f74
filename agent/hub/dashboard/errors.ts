/**
 * Errors of the hub's dashboard: its listener, its password file.
 */
import { AgentError } from '../../lib/errors.ts';

export type DashboardErrorCode =
  /** The dashboard could not listen (address in use, not permitted, no such address). */
  | 'dashboard.listen'
  /** The password file is unreadable or has a malformed line; or a user name or password is refused. */
  | 'dashboard.passwd';

export class DashboardError extends AgentError {
  declare readonly code: DashboardErrorCode;

  constructor(code: DashboardErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
