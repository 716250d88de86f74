/**
 * Errors of the SDP policy. A body the B2BUA cannot use yields one SdpError: a stable code, a
 * short reason that never contains bytes taken from the body (so it is safe as the reason phrase
 * of the SIP answer), and the status the INVITE (or re-INVITE, UPDATE) deserves.
 *
 * - 400 for a body that is not valid SDP (RFC 4566 §5 syntax), as for any malformed request.
 * - 488 Not Acceptable Here for valid SDP the box cannot anchor: no audio stream, secure RTP
 *   only, multicast (RFC 3261 §21.4.26, RFC 3264 §6: an offer with nothing acceptable).
 */
import { AgentError } from '../../lib/errors.ts';

export type SdpErrorCode =
  /** Not SDP, or a line that breaks RFC 4566 syntax (v=, o=, c=, m=, a=rtcp). */
  | 'sdp.malformed'
  /** Valid SDP without an audio stream (any m=audio line) the relay could carry. */
  | 'sdp.no-audio'
  /** Valid SDP that asks for something the relay does not do (SRTP, multicast, FQDN in c=). */
  | 'sdp.unsupported';

export type SdpErrorStatus = 400 | 488;

export class SdpError extends AgentError {
  declare readonly code: SdpErrorCode;
  /** Short human reason, e.g. `Bad c= line`; usable as a SIP reason phrase. */
  readonly reason: string;
  /** 1-based line number in the body where the fault is, when it is a single line. */
  readonly line: number | undefined;

  constructor(code: SdpErrorCode, reason: string, line?: number, options?: { cause?: unknown }) {
    super(code, line === undefined ? reason : `${reason} (SDP line ${line})`, options);
    this.reason = reason;
    this.line = line;
  }

  /** The SIP status to answer an offer carrying this body with. */
  get status(): SdpErrorStatus {
    return this.code === 'sdp.malformed' ? 400 : 488;
  }
}

/** True when `err` is an SdpError. */
export function isSdpError(err: unknown): err is SdpError {
  return err instanceof SdpError;
}
