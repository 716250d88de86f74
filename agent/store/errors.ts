import { AgentError } from '../lib/errors.ts';

export type StoreErrorCode = 'store.open' | 'store.data-dir' | 'store.extension' | 'store.migration' | 'store.write' | 'store.closed' | 'store.decode';

/** A failure of the data plane: opening, migrating or writing the database. */
export class StoreError extends AgentError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * `dataDir` cannot be the data directory: a file is where it or a folder above it must be, or
 * the folder cannot be created. `reason` names the obstacle ("/srv/x is a file, not a folder").
 */
export class DataDirError extends StoreError {
  readonly dir: string;
  readonly reason: string;

  constructor(dir: string, reason: string, options?: { cause?: unknown }) {
    super('store.data-dir', `data directory ${dir}: ${reason}`, options);
    this.dir = dir;
    this.reason = reason;
  }
}
