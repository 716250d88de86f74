/**
 * Errors of the trace layer: HEP export and the trace control socket.
 */
import { AgentError } from '../lib/errors.ts';

export type TraceErrorCode =
  /** A HEP packet cannot be built (an address that is not an IP literal, over 64 KiB). */
  | 'trace.hep-encode'
  /** `trace.hep.address` cannot be used (not host:port). */
  | 'trace.config'
  /** The trace socket of the data directory could not be opened. */
  | 'trace.listen'
  /** A request on the trace socket that is not understood. */
  | 'trace.request';

export class TraceError extends AgentError {
  declare readonly code: TraceErrorCode;

  constructor(code: TraceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
