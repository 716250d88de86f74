/**
 * Errors of the transaction layer (RFC 3261 §17). Every failure a transaction reports to its
 * transaction user (TU) is one of these, carrying a stable `code` and the SIP status the layer
 * above should answer with: a timeout becomes 408 (RFC 3261 §8.1.3.1, §16.7) and a transport
 * failure becomes 503 (RFC 3261 §8.1.3.1). The translation happens once, in the TU callbacks.
 */
import { AgentError } from '../../lib/errors.ts';

export type TransactionErrorCode =
  /** The transport rejected a send (RFC 3261 §17.1.4, §17.2.4). */
  | 'transaction.transport'
  /** A request lacks what a transaction needs (top Via, branch, CSeq). */
  | 'transaction.invalid-request'
  /** A response handed to a server transaction is not a valid SIP response. */
  | 'transaction.invalid-response'
  /** A client transaction with the same key (branch + method) already exists. */
  | 'transaction.duplicate'
  /** The layer was stopped. */
  | 'transaction.stopped'
  /** A timer setting (T1, T2, T4) is not a positive number of milliseconds. */
  | 'transaction.config';

export type TimeoutErrorCode =
  /** ICT: no final response within 64*T1 (RFC 3261 §17.1.1.2). */
  | 'transaction.timer-b'
  /** NICT: no final response within 64*T1 (RFC 3261 §17.1.2.2). */
  | 'transaction.timer-f'
  /** IST: no ACK for a non-2xx final response within 64*T1 (RFC 3261 §17.2.1). */
  | 'transaction.timer-h';

/** A failure of the transaction layer other than a timeout. */
export class TransactionError extends AgentError {
  declare readonly code: TransactionErrorCode;

  constructor(code: TransactionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  /** The status the TU answers with when this error ends a transaction. */
  get sipStatus(): number {
    return this.code === 'transaction.transport' ? 503 : 500;
  }
}

/** A transaction timer (B, F or H) expired without the awaited message. */
export class TimeoutError extends AgentError {
  declare readonly code: TimeoutErrorCode;

  constructor(code: TimeoutErrorCode, message: string) {
    super(code, message);
  }

  /** Request Timeout (RFC 3261 §21.4.9). */
  get sipStatus(): number {
    return 408;
  }
}

/**
 * True when the same request may reasonably be tried again on another target or transport
 * (RFC 3263 §4.3 fail-over): timeouts and transport failures are, malformed input is not.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TimeoutError) return err.code !== 'transaction.timer-h';
  return err instanceof TransactionError && err.code === 'transaction.transport';
}
