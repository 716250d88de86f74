/**
 * Errors of the dialog layer (RFC 3261 §12). Only misuse and messages the dialog cannot be
 * built from throw; the verdict on an in-dialog request is never an exception:
 * Dialog.receiveRequest() returns a result the switch turns into a response (481, 500, ...).
 * Malformed Session-Expires, Min-SE, RSeq and RAck values throw the message layer's
 * SipParseError (with the header name), like every other header codec.
 */
import { AgentError } from '../../lib/errors.ts';

export type DialogErrorCode =
  /** A message lacks (or garbles) a field the dialog needs: Call-ID, From/To, Contact, CSeq. */
  | 'dialog.invalid-message'
  /** The message belongs to another dialog (Call-ID or tags differ, e.g. a forked 2xx). */
  | 'dialog.mismatch'
  /** The operation is not allowed in the dialog's state (e.g. a request on a terminated dialog). */
  | 'dialog.state'
  /** The caller passed something unusable (ACK to createRequest, an empty tag, a bad Contact). */
  | 'dialog.invalid-argument'
  /** The local CSeq would pass 2^32-1 (RFC 3261 §8.1.1.5). */
  | 'dialog.cseq-exhausted'
  /** A reliable provisional cannot be sent yet: the previous one is not PRACKed (RFC 3262 §3). */
  | 'dialog.prack-pending';

export class DialogError extends AgentError {
  declare readonly code: DialogErrorCode;

  constructor(code: DialogErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  /**
   * The status a UAS answers when this error came from a received request: 400 for a
   * malformed one (RFC 3261 §8.2), 481 for one matching no dialog (§12.2.2), 500 otherwise.
   */
  get sipStatus(): number {
    if (this.code === 'dialog.invalid-message') return 400;
    if (this.code === 'dialog.mismatch') return 481;
    return 500;
  }
}

/** True when `err` is a DialogError (optionally one with the given code). */
export function isDialogError(err: unknown, code?: DialogErrorCode): err is DialogError {
  return err instanceof DialogError && (code === undefined || err.code === code);
}
