/**
 * Errors of the control layer: the operator-facing endpoints (Prometheus metrics).
 */
import { AgentError } from '../lib/errors.ts';

export type ControlErrorCode =
  /** A metric sample cannot be rendered (e.g. an invalid metric or label name). */
  | 'control.metrics'
  /** An HTTP listener could not bind (address in use, not permitted, no such address). */
  | 'control.listen';

export class ControlError extends AgentError {
  declare readonly code: ControlErrorCode;

  constructor(code: ControlErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
