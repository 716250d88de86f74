/**
 * What a response to a request we sent inside a dialog does to that dialog, as a pure
 * function: Dialog.receiveResponse() calls it and applies the effect.
 *
 * - 481 and 408: the dialog is gone (RFC 3261 §12.2.1.2, the UAC SHOULD terminate it);
 * - on an early dialog we created as UAC, a response to the INVITE: 2xx confirms it
 *   (§13.2.2.4), 300-699 ends it (§12.3: a non-2xx final response to the dialog-creating
 *   request terminates the early dialogs it made);
 * - a 2xx to a target refresh request: the remote target becomes its Contact (§12.2.1.2);
 * - anything else leaves the dialog as it is.
 *
 * The response must belong to the dialog: same Call-ID and local (From) tag, and for 1xx/2xx
 * the same remote tag (a 2xx with another To tag is a forked, separate dialog). Error
 * responses may come from a proxy with its own To tag, so their remote tag is not compared.
 */
import type { SipResponse } from '../message/sip-message.ts';
import { contactUri, readCSeq } from './dialog-fields.ts';
import { type DialogId, type TransactionRole, dialogId } from './dialog-key.ts';
import { DialogError } from './errors.ts';
import { TARGET_REFRESH_METHODS } from './in-dialog-request.ts';

export type ResponseEffect =
  | { kind: 'none' }
  | { kind: 'confirm' }
  | { kind: 'terminate' }
  | { kind: 'refresh-target'; remoteTarget: string };

export interface ResponseView {
  id: DialogId;
  side: TransactionRole;
  state: 'early' | 'confirmed' | 'terminated';
}

/** The effect of `response`; throws DialogError('dialog.mismatch') when it is another dialog's. */
export function responseEffect(dialog: ResponseView, response: SipResponse): ResponseEffect {
  const id = dialogId(response, 'uac');
  const remoteOk = response.status >= 300 || id?.remoteTag === dialog.id.remoteTag;
  if (id === undefined || id.callId !== dialog.id.callId || id.localTag !== dialog.id.localTag || !remoteOk) {
    throw new DialogError('dialog.mismatch', 'response belongs to another dialog');
  }
  if (dialog.state === 'terminated') return { kind: 'none' };
  if (response.status === 481 || response.status === 408) return { kind: 'terminate' };
  const method = readCSeq(response.headers).method;
  if (dialog.state === 'early' && dialog.side === 'uac' && method === 'INVITE') {
    if (response.status >= 300) return { kind: 'terminate' };
    return response.status >= 200 ? { kind: 'confirm' } : { kind: 'none' };
  }
  if (response.status >= 200 && response.status < 300 && TARGET_REFRESH_METHODS.has(method)) {
    const target = contactUri(response.headers);
    if (target !== undefined) return { kind: 'refresh-target', remoteTarget: target };
  }
  return { kind: 'none' };
}
