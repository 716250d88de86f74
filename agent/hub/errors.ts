/**
 * Errors of the hub layer: running the in-process MQTT broker that nodes replicate through.
 */
import { AgentError } from '../lib/errors.ts';

export type HubErrorCode =
  /** The broker's TCP listener could not bind (address in use, not permitted, no such address). */
  | 'hub.listen'
  /** The broker itself (aedes) failed to start or stop. */
  | 'hub.broker';

export class HubError extends AgentError {
  declare readonly code: HubErrorCode;

  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
