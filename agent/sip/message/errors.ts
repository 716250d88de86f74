/**
 * Errors of the SIP message layer. A malformed message yields one SipParseError: where it went
 * wrong (byte offset, header name) and a short reason that is safe to use as the reason phrase
 * of the 400 (or 505) answer, since it never contains bytes taken from the input.
 */
import { AgentError } from '../../lib/errors.ts';

/** The status a UAS answers a malformed request with (RFC 3261 §8.2.2, §21.4.1, §21.5.7). */
export type SipParseStatus = 400 | 505;

export class SipParseError extends AgentError {
  declare readonly code: 'sip.parse';
  /** Byte offset in the parsed input (for codec calls: character offset in the parsed string). */
  readonly offset: number;
  /** Canonical name of the header at fault, when the fault is inside one. */
  readonly header: string | undefined;
  /** Short human reason, e.g. `Bad CSeq: method mismatch`; usable as a reason phrase. */
  readonly reason: string;
  /** The response a request with this fault deserves (responses in error are dropped instead). */
  readonly status: SipParseStatus;

  constructor(reason: string, offset: number, header?: string, status: SipParseStatus = 400) {
    super('sip.parse', `${reason} (at byte ${offset})`);
    this.reason = reason;
    this.offset = offset;
    this.header = header;
    this.status = status;
  }
}

/** True when `err` is a SipParseError. */
export function isSipParseError(err: unknown): err is SipParseError {
  return err instanceof SipParseError;
}
