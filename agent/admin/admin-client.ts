/**
 * The admin's side of the API (`outpost admin`, the integration test, bench/admin.ts): one MQTT
 * connection to the hub's broker with the admin's certificate (mutual TLS on `mqtts://`; the
 * broker must present the hub's certificate), subscribed to the admin's own responses; request()
 * signs, publishes and waits for the response with the same transaction id.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { linkTlsOptions } from '../sync/link-tls.ts';
import { RequestSession, SessionError } from '../sync/request-session.ts';
import { AdminResponseSchema, adminTopics, parseAdminTopic, type AdminRequest, type AdminResponse } from '../wire/admin.ts';
import { AdminError } from './errors.ts';
import { signRequest } from './request-signer.ts';
import type { AdminCredential } from '../trust/admin-enrolment.ts';

export interface AdminClientOptions {
  credential: AdminCredential;
  /** Overrides the credential's broker address. */
  brokerUrl?: string;
  /** The hub's node id its broker certificate names (default `hub`). */
  hubId?: string;
  timeoutMs?: number;
  now?: () => number;
}

export class AdminClient {
  private session: RequestSession | undefined;
  private readonly waiting = new Map<string, (r: AdminResponse) => void>();
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly o: AdminClientOptions) {
    this.url = o.brokerUrl ?? o.credential.broker;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** Connects and subscribes; rejects with AdminError('admin.unreachable'), or 'admin.refused' for a refused certificate, within the timeout. */
  async connect(): Promise<void> {
    const c = this.o.credential;
    const tls = this.url.startsWith('mqtts:') ? linkTlsOptions({ key: c.key, cert: c.cert, ca: c.ca }, { nodeId: this.o.hubId ?? hubIdOf(c), role: 'hub' }) : undefined;
    try {
      this.session = await RequestSession.open({
        url: this.url,
        clientId: `admin-${c.name}-${randomUUID().slice(0, 8)}`,
        subscribe: adminTopics.responsesOf(c.name),
        ...(tls ? { tls } : {}),
        timeoutMs: this.timeoutMs,
        onMessage: (topic, payload) => this.received(topic, payload),
      });
    } catch (err) {
      if (err instanceof SessionError && err.refused) throw new AdminError('admin.refused', `the hub's broker refused this admin's certificate (revoked, or not issued by the hub's CA)`, { cause: err });
      throw new AdminError('admin.unreachable', (err as Error).message.replace('the broker', "the hub's broker"), { cause: err });
    }
  }

  /** Signs and sends `op` with `body`; resolves with the hub's response. */
  request(op: string, body: unknown): Promise<AdminResponse> {
    const c = this.o.credential;
    return this.send(op, signRequest({ name: c.name, key: c.key, cert: c.cert }, op, body, this.now()));
  }

  /** Sends an already built request as it is (tests: forged, replayed, unsigned). */
  send(op: string, request: AdminRequest | Record<string, unknown>): Promise<AdminResponse> {
    const session = this.session;
    if (!session) return Promise.reject(new AdminError('admin.unreachable', 'not connected'));
    const transaction = String((request as { transaction?: unknown }).transaction ?? '');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(transaction);
        reject(new AdminError('admin.unreachable', `the hub did not answer ${op} within ${this.timeoutMs / 1000} s (is the hub running? is its clock right?)`));
      }, this.timeoutMs);
      this.waiting.set(transaction, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      session.publish(adminTopics.request(op), JSON.stringify(request)).catch((err: Error) => {
        clearTimeout(timer);
        this.waiting.delete(transaction);
        reject(new AdminError('admin.unreachable', `cannot publish ${op}: ${err.message}`));
      });
    });
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  private received(topic: string, payload: Buffer): void {
    if (parseAdminTopic(topic)?.kind !== 'adminResponse') return;
    let parsed;
    try {
      parsed = AdminResponseSchema.safeParse(JSON.parse(payload.toString('utf8')));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const w = this.waiting.get(parsed.data.transaction);
    if (w) {
      this.waiting.delete(parsed.data.transaction);
      w(parsed.data);
    }
  }
}

/** The hub's id as its CA's subject names it (`CN=Outpost CA <hubId>`, ca.ts): whom the broker's certificate must name. */
export function hubIdOf(credential: Pick<AdminCredential, 'ca'>): string {
  const m = /CN=Outpost CA ([a-z0-9-]+)/.exec(new X509Certificate(credential.ca).subject);
  return m?.[1] ?? 'hub';
}
