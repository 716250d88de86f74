import { AgentError } from '../lib/errors.ts';

export type SyncErrorCode =
  | 'sync.key'
  | 'sync.connect'
  | 'sync.payload'
  | 'sync.signature'
  | 'sync.authority'
  /** The embedded broker's TCP listener could not bind (address in use, not permitted, no such address). */
  | 'sync.listen'
  /** The embedded broker itself (aedes) failed to start, or was used before start(). */
  | 'sync.broker';

/** A failure of replication: node key, broker connection or embedded broker, or a payload that is refused. */
export class SyncError extends AgentError {
  declare readonly code: SyncErrorCode;
  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
