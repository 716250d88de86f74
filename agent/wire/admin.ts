/**
 * The admin API's MQTT topics and payloads (docs/mqtt/admin.md). An admin publishes a signed
 * request on `outpost/v1/admin/request/<op>`; the hub answers on the admin's own response topic
 * `outpost/v1/admin/response/<admin>/<op>` with the same transaction id. Responses are per
 * admin, not shared: they carry users, routes and node lists, which another admin's client (or a
 * box) has no business reading, and a per-admin subtree is one ACL line per admin.
 *
 * The signature covers `canonicalRequest()`: the op, transaction, admin, timestamp and the body
 * as canonical JSON (object keys sorted, no spaces), so a request cannot be re-aimed at another
 * op, replayed under another transaction id or have its body altered.
 */
import { z } from 'zod';
import { TOPIC_ROOT } from './topics.ts';

const ADMIN_ROOT = `${TOPIC_ROOT}/admin`;
/** An op name: `user.add`, `site.list`, `batch`. */
export const OP_NAME = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31})?$/;
/** An admin's name (the CN of its certificate), as node ids. */
export const ADMIN_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const adminTopics = {
  request: (op: string) => `${ADMIN_ROOT}/request/${op}`,
  response: (admin: string, op: string) => `${ADMIN_ROOT}/response/${admin}/${op}`,
  /** What the hub subscribes to. */
  allRequests: `${ADMIN_ROOT}/request/+`,
  /** What an admin subscribes to. */
  responsesOf: (admin: string) => `${ADMIN_ROOT}/response/${admin}/+`,
} as const;

export type AdminTopic = { kind: 'adminRequest'; op: string } | { kind: 'adminResponse'; admin: string; op: string };

/** Which admin topic `topic` is, or undefined (also for any wildcard). */
export function parseAdminTopic(topic: string): AdminTopic | undefined {
  if (!topic.startsWith(`${ADMIN_ROOT}/`)) return undefined;
  const parts = topic.slice(ADMIN_ROOT.length + 1).split('/');
  if (parts[0] === 'request' && parts.length === 2 && OP_NAME.test(parts[1]!)) return { kind: 'adminRequest', op: parts[1]! };
  if (parts[0] === 'response' && parts.length === 3 && ADMIN_NAME.test(parts[1]!) && OP_NAME.test(parts[2]!)) return { kind: 'adminResponse', admin: parts[1]!, op: parts[2]! };
  return undefined;
}

export const AdminRequestSchema = z.strictObject({
  v: z.literal(1),
  /** Chosen by the admin, unique: echoed in the response, refused when seen before. */
  transaction: z.string().regex(/^[A-Za-z0-9_.-]{8,64}$/, 'must be 8-64 letters, digits or _ . -'),
  admin: z.string().regex(ADMIN_NAME),
  /** When the admin signed it, ms since the epoch. */
  ts: z.number().int().nonnegative(),
  body: z.unknown(),
  /** The admin's certificate, PEM: the hub checks it against its CA and revocations. */
  cert: z.string().min(1).max(8192),
  /** ECDSA P-256 / SHA-256 over canonicalRequest(), DER, base64. */
  sig: z.string().min(1).max(256).regex(/^[A-Za-z0-9+/]*={0,2}$/),
});
export type AdminRequest = z.output<typeof AdminRequestSchema>;

export const AdminResponseSchema = z.union([
  z.strictObject({ v: z.literal(1), transaction: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ v: z.literal(1), transaction: z.string(), ok: z.literal(false), problems: z.array(z.string()).min(1) }),
]);
export type AdminResponse = z.output<typeof AdminResponseSchema>;

/** JSON with object keys sorted at every level and no whitespace; undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The bytes an admin signs for `op`. */
export function canonicalRequest(op: string, r: Pick<AdminRequest, 'transaction' | 'admin' | 'ts' | 'body'>): Buffer {
  return Buffer.from(['outpost-admin-request-v1', op, r.transaction, r.admin, String(r.ts), canonicalJson(r.body)].join('\n'), 'utf8');
}
