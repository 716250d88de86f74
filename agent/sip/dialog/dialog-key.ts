/**
 * Dialog identifiers (RFC 3261 §12): Call-ID, local tag and remote tag, read from a message
 * as seen from one side, plus a string key so the switch can keep its dialogs in a Map.
 *
 * Which tag is "local" depends on our role in the transaction the message belongs to:
 * - `'uas'` (we received the request, or we are sending its response): local = To tag,
 *   remote = From tag (§12.2.2, §12.1.1);
 * - `'uac'` (we sent the request, or we received its response): local = From tag,
 *   remote = To tag (§12.2.1.1, §12.1.2).
 * Call-ID and tags compare byte for byte (§20.8, §19.3). A peer that follows RFC 2543 may send
 * no tag: that remote tag is the empty string (the RFC's "null" tag, §12.1.1).
 */
import type { SipMessage } from '../message/sip-message.ts';
import { callId, tagOf } from '../transaction/header-fields.ts';

export interface DialogId {
  callId: string;
  localTag: string;
  /** '' when the peer sent no tag (RFC 2543 peer, §12.1.1). */
  remoteTag: string;
}

/** Our role in the transaction a message belongs to. */
export type TransactionRole = 'uac' | 'uas';

/**
 * The dialog a message belongs to, seen from `role`. Undefined when it cannot belong to one of
 * ours: no Call-ID, or no local tag (a request without a To tag is outside any dialog, §12.2.2).
 */
export function dialogId(message: SipMessage, role: TransactionRole): DialogId | undefined {
  const id = callId(message.headers);
  if (id === '') return undefined;
  const from = tagOf(message.headers.get('from'));
  const to = tagOf(message.headers.get('to'));
  const localTag = role === 'uas' ? to : from;
  if (localTag === '') return undefined;
  return { callId: id, localTag, remoteTag: role === 'uas' ? from : to };
}

/** A Map key for a dialog id. The separator cannot occur in a Call-ID or a tag. */
export function dialogKey(id: DialogId): string {
  return id.callId + '\n' + id.localTag + '\n' + id.remoteTag;
}

/** The Map key of the dialog a message belongs to (see dialogId), or undefined. */
export function dialogKeyOf(message: SipMessage, role: TransactionRole): string | undefined {
  const id = dialogId(message, role);
  return id === undefined ? undefined : dialogKey(id);
}

/** True when two ids name the same dialog. */
export function sameDialog(a: DialogId, b: DialogId): boolean {
  return a.callId === b.callId && a.localTag === b.localTag && a.remoteTag === b.remoteTag;
}
