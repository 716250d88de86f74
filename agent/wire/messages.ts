/**
 * JSON payloads of replication (batches of changes are binary: change-batch.ts). Every payload
 * is validated at the edge with these zod schemas before anything acts on it.
 */
import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const version = z.string().regex(/^\d{1,19}$/);

/** Retained on `node/{id}/state`: who a node is and how far its store has come. */
export const NodeStateSchema = z.object({
  nodeId: id,
  role: z.enum(['node', 'hub']),
  site: z.string().max(63),
  online: z.boolean(),
  /** ed25519 public key, SPKI DER, base64. */
  publicKey: z.string().min(40).max(200),
  /** cr-sqlite site id of the node's store, hex. */
  siteId: z.string().regex(/^[0-9a-f]{32}$/),
  schema: z.number().int().min(0),
  /** The node's db_version (upper bound of its streams), decimal. */
  head: version,
  /** The node's own broker for site peers, when it runs one. */
  mqtt: z.string().max(200).optional(),
  /** The box's SIP address for its site peers (keep-alive, inter-box requests): `udp|tcp|tls:host:port`. */
  sip: z.string().max(200).regex(/^(udp|tcp|tls):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/).optional(),
  at: z.number().int(),
  /** The node's certificate from the hub's CA, DER base64: receivers take its identity and key from it. */
  certificate: z.string().max(8000).regex(/^[A-Za-z0-9+/=]+$/).optional(),
});
export type NodeState = z.infer<typeof NodeStateSchema>;

/** On `node/{source}/sync/request`: send me `stream` after `since`, on `replyTo`. */
export const SyncRequestSchema = z.object({
  requester: id,
  stream: z.union([z.literal('own'), z.literal('global'), z.string().regex(/^site\/[a-z0-9][a-z0-9-]{0,62}$/)]),
  since: version,
  limit: z.number().int().min(1).max(100_000),
  replyTo: z.string().min(1).max(300),
  requestId: z.string().min(1).max(64),
  /** The requester's cr-sqlite site id: the changes to leave out (absent from older builds). */
  siteId: z.string().regex(/^[0-9a-f]{32}$/).optional(),
});
export type SyncRequest = z.infer<typeof SyncRequestSchema>;
