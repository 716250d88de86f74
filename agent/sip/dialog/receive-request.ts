/**
 * The UAS checks of RFC 3261 §12.2.2 for a request received inside a dialog, as a pure
 * function: Dialog.receiveRequest() calls it and applies the changes it returns.
 *
 * Order: the dialog must exist and not be terminated (481); the CSeq must be readable (400);
 * ACK and CANCEL reuse the CSeq of the INVITE they belong to, so they are neither checked
 * against nor recorded as the remote CSeq; any other request must carry a number above the
 * remote CSeq (500 when lower, §12.2.2; an equal number is refused too, since §12.2.1.1 makes
 * the numbers of new requests strictly increasing and retransmissions never reach the
 * dialog, the transaction layer absorbs them); a target refresh request with a Contact
 * replaces the remote target.
 */
import type { SipRequest } from '../message/sip-message.ts';
import { contactUri, readCSeq } from './dialog-fields.ts';
import { type DialogId, dialogId, sameDialog } from './dialog-key.ts';
import { isDialogError } from './errors.ts';
import { TARGET_REFRESH_METHODS } from './in-dialog-request.ts';

/** What to do with a request received in a dialog. */
export type RequestVerdict =
  | { accepted: true; targetRefreshed: boolean }
  | { accepted: false; status: 400 | 481 | 500; reason: string };

/** The dialog state the check reads. */
export interface DialogView {
  id: DialogId;
  state: 'early' | 'confirmed' | 'terminated';
  remoteSeq: number | undefined;
}

/** The verdict plus the dialog state to store when the request is accepted. */
export type RequestCheck =
  | { accepted: true; remoteSeq: number | undefined; remoteTarget: string | undefined }
  | { accepted: false; status: 400 | 481 | 500; reason: string };

export function checkInDialogRequest(dialog: DialogView, request: SipRequest): RequestCheck {
  const id = dialogId(request, 'uas');
  if (dialog.state === 'terminated' || id === undefined || !sameDialog(id, dialog.id)) {
    return { accepted: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
  }
  const cseq = attempt(() => readCSeq(request.headers));
  if (cseq === undefined || cseq.method !== request.method) return { accepted: false, status: 400, reason: 'Bad CSeq' };
  let target: string | undefined;
  if (TARGET_REFRESH_METHODS.has(request.method)) {
    const contact = attempt(() => contactUri(request.headers) ?? null);
    if (contact === undefined) return { accepted: false, status: 400, reason: 'Bad Contact' };
    target = contact ?? undefined;
  }
  if (request.method === 'ACK' || request.method === 'CANCEL') {
    return { accepted: true, remoteSeq: dialog.remoteSeq, remoteTarget: undefined };
  }
  if (dialog.remoteSeq !== undefined && cseq.seq <= dialog.remoteSeq) {
    // §12.2.2: a request out of order MUST be rejected with a 500 (Server Internal Error).
    return { accepted: false, status: 500, reason: 'Server Internal Error' };
  }
  return { accepted: true, remoteSeq: cseq.seq, remoteTarget: target };
}

/** The value of `read`, or undefined when it throws a DialogError (unreadable header). */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (isDialogError(e)) return undefined;
    throw e;
  }
}
