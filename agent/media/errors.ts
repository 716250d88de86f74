/**
 * Errors of the media layer (DESIGN.md §8). The relay never throws on packets: a malformed or
 * unroutable datagram is dropped and counted. Errors are for the control path only: allocating
 * ports, binding sockets, using a relay that is not running.
 */
import { AgentError, BindError } from '../lib/errors.ts';

export type MediaErrorCode =
  /** Every RTP/RTCP port pair of `rtp.portRange` is in use (or refused by the OS). */
  | 'media.ports-exhausted'
  /** A socket could not be bound for a reason other than the port being taken. */
  | 'media.bind'
  /** The relay was given settings it cannot work with (e.g. a port range without a pair). */
  | 'media.config'
  /** allocate() on a relay that is not started, or was stopped. */
  | 'media.stopped';

export class MediaError extends AgentError {
  declare readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * True for a bind failure that only means "this port is taken, try another one": another
 * process holds it (EADDRINUSE) or the OS reserves it for privileged use (EACCES).
 */
export function isPortTaken(err: unknown): boolean {
  const code = err instanceof BindError ? err.errno : (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

/**
 * True when allocating again later may succeed: ports free up as calls end. A bind or config
 * failure needs an operator.
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof MediaError && err.code === 'media.ports-exhausted';
}
