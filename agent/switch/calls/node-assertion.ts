/**
 * Trust on the hop between the boxes of a site (docs/inter-box.md): a box that forwards a call
 * to a peer box stamps its INVITE with `Outpost-Node: <node>;ts=<unix s>[;link=<uuid>];sig=<base64>`,
 * an ed25519 signature with its node key over the node id, the timestamp, the Call-ID, the CSeq,
 * the From tag and user, the Request-URI and the link (the CDR correlation of the call, when
 * given: the receiver stores it on its CDR). The receiving box checks it against the sender's
 * pinned public key (the keys the replication pins), that the sender is another node of its own
 * site, that the timestamp is within ±30 s of its clock, and that the same signature was not
 * used before (replay). A verified request is taken without digest authentication; a request
 * that carries the header but fails is refused (403). No I/O: keys and crypto are injected.
 */
import type { Clock } from '../../lib/clock.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import { parseNameAddr } from '../../sip/message/name-addr.ts';
import { parseUri } from '../../sip/message/sip-uri.ts';
import { callId, cseq, tagOf } from '../../sip/transaction/header-fields.ts';

export const NODE_HEADER = 'Outpost-Node';
/** How far the sender's timestamp may be from the receiver's clock, either way. */
export const WINDOW_MS = 30_000;
const DOMAIN = 'outpost-node/1';

/** A peer's key as the replication pinned it (local_sync_keys) or the hub recorded it (`nodes`). */
export interface PeerKey {
  publicKey: string;
  site: string;
  role: string;
}

export interface NodeAssertionDeps {
  nodeId: string;
  /** The box's site: only nodes of this site are trusted. None: no peer is. */
  site: string | undefined;
  /** Signs with the node key (NodeKey); absent when the box has none (it then stamps nothing). */
  signer?: { sign(bytes: Uint8Array): Buffer };
  keyOf(nodeId: string): PeerKey | undefined;
  /** ed25519 verification with a base64 SPKI key (sync/node-key.ts verifySignature). */
  verify(publicKey: string, bytes: Uint8Array, signature: Uint8Array): boolean;
  clock: Clock;
}

export type NodeRefusal = 'malformed' | 'self' | 'unknown-node' | 'other-site' | 'expired' | 'bad-signature' | 'replayed';

/** No header: an ordinary request. Otherwise the claimed node, verified or refused and why. */
export type NodeVerdict = { kind: 'none' } | { kind: 'verified'; node: string; link: string } | { kind: 'refused'; node: string; reason: NodeRefusal };

/** A link value: a UUID as the CDRs spell it (letters, digits and dashes). */
const LINK = /^[A-Za-z0-9-]{1,64}$/;

export class NodeAssertion {
  /** Signatures seen within the window, and until when they are remembered. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly deps: NodeAssertionDeps) {}

  /** True when the box can stamp its requests to peers. */
  get canSign(): boolean {
    return this.deps.signer !== undefined;
  }

  /** The Outpost-Node value for an INVITE this box sends to a peer box; `link`: the call's CDR link. */
  stamp(req: SipRequest, link = ''): string {
    const signer = this.deps.signer;
    if (!signer || (link !== '' && !LINK.test(link))) return '';
    const ts = Math.floor(this.deps.clock.now() / 1000);
    const sig = signer.sign(signedBytes(this.deps.nodeId, ts, req, link)).toString('base64');
    return `${this.deps.nodeId};ts=${ts}${link ? `;link=${link}` : ''};sig=${sig}`;
  }

  /** Checks the Outpost-Node header of a request received from outside; a verified signature is remembered (replay). */
  verify(req: SipRequest): NodeVerdict {
    return this.judge(req, true);
  }

  /**
   * The same checks without remembering the signature: for the flood guard's edge, which lets a
   * verified request of a peer through before call admission verifies (and remembers) it.
   */
  check(req: SipRequest): NodeVerdict {
    return this.judge(req, false);
  }

  private judge(req: SipRequest, remember: boolean): NodeVerdict {
    const values = req.headers.getAll(NODE_HEADER);
    if (values.length === 0) return { kind: 'none' };
    const parsed = values.length === 1 ? parseValue(values[0]!) : undefined;
    const node = parsed?.node ?? (values[0] ?? '').split(';')[0]!.trim().slice(0, 64);
    const refuse = (reason: NodeRefusal): NodeVerdict => ({ kind: 'refused', node, reason });
    if (!parsed) return refuse('malformed');
    if (parsed.node === this.deps.nodeId) return refuse('self');
    const key = this.deps.keyOf(parsed.node);
    if (!key || key.role !== 'node') return refuse('unknown-node');
    if (this.deps.site === undefined || key.site !== this.deps.site) return refuse('other-site');
    const now = this.deps.clock.now();
    if (Math.abs(now - parsed.ts * 1000) > WINDOW_MS) return refuse('expired');
    if (!this.deps.verify(key.publicKey, signedBytes(parsed.node, parsed.ts, req, parsed.link), parsed.sig)) return refuse('bad-signature');
    this.forget(now);
    const id = parsed.sig.toString('base64');
    if (this.seen.has(id)) return refuse('replayed');
    if (remember) this.seen.set(id, now + 2 * WINDOW_MS);
    return { kind: 'verified', node: parsed.node, link: parsed.link };
  }

  private forget(now: number): void {
    for (const [sig, until] of this.seen) {
      if (until > now) break; // inserted in time order
      this.seen.delete(sig);
    }
  }
}

/**
 * The bytes a node signs: what identifies the request and what the receiver takes on trust.
 * The link is appended only when there is one, so a stamp without it signs what it always did.
 */
export function signedBytes(node: string, ts: number, req: SipRequest, link = ''): Buffer {
  const seq = cseq(req.headers);
  const from = req.headers.get('from') ?? '';
  const fields = [DOMAIN, node, String(ts), callId(req.headers), seq ? `${seq.seq} ${seq.method}` : '', tagOf(from), fromUser(from), req.uri];
  return Buffer.from([...fields, ...(link ? [`link=${link}`] : [])].join('\n'));
}

/** The user part of a From value ('' when unreadable): the caller the receiver trusts. */
export function fromUser(from: string): string {
  try {
    return parseUri(parseNameAddr(from).uri).user ?? '';
  } catch {
    return '';
  }
}

function parseValue(value: string): { node: string; ts: number; link: string; sig: Buffer } | undefined {
  const [node, ...params] = value.split(';').map((p) => p.trim());
  if (!node || !/^[A-Za-z0-9._-]{1,64}$/.test(node)) return undefined;
  const map = new Map<string, string>();
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0) map.set(p.slice(0, eq).toLowerCase(), p.slice(eq + 1));
  }
  const ts = map.get('ts');
  const sig = map.get('sig');
  if (!ts || !/^\d{1,12}$/.test(ts) || !sig || !/^[A-Za-z0-9+/]{86}==$/.test(sig)) return undefined;
  const link = map.get('link') ?? '';
  if (link !== '' && !LINK.test(link)) return undefined;
  return { node, ts: Number(ts), link, sig: Buffer.from(sig, 'base64') };
}
