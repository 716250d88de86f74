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

/** A short reason for a failed listen(): "address in use" rather than "listen EADDRINUSE: ...". */
export function listenFailureReason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE': return 'address in use';
    case 'EACCES': return 'permission denied';
    case 'EADDRNOTAVAIL': return 'address not available on this host';
    case 'ENOTFOUND': return 'host not found';
    default: return err instanceof Error ? err.message : String(err);
  }
}
