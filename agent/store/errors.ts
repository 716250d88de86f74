import { AgentError } from '../lib/errors.ts';

export type StoreErrorCode = 'store.open' | 'store.extension' | 'store.migration' | 'store.write' | 'store.closed' | 'store.decode';

/** A failure of the data plane: opening, migrating or writing the database. */
export class StoreError extends AgentError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
