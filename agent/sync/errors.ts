import { AgentError } from '../lib/errors.ts';

export type SyncErrorCode = 'sync.key' | 'sync.connect' | 'sync.payload' | 'sync.signature' | 'sync.authority';

/** A failure of replication: node key, broker connection, or a payload that is refused. */
export class SyncError extends AgentError {
  declare readonly code: SyncErrorCode;
  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
