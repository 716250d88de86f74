/**
 * Broker ACLs from the certificate (issue 12, item 3; docs/security.md): one pure decision of
 * what a client may publish, subscribe to and receive, given the identity its certificate names
 * (identity.ts) and the topic map of agent/wire/topics.ts. The embedded brokers call it from
 * aedes' hooks (agent/sync/broker-guard.ts) and the Mosquitto ACL file is generated from it
 * (mosquitto-config.ts), so both enforce the same rules:
 *
 * - the hub may do everything;
 * - a box publishes its own changes, state and telemetry (`node/<own id>/changes|state|telemetry`, so a retained
 *   state is only ever written by its own node), catch-up requests to the hub and the boxes of
 *   its site (`node/<them>/sync/request`) and catch-up replies to them (`node/<them>/sync/response`);
 * - a box receives `hub/changes/global`, `hub/changes/site/<its site>`, its own request and
 *   response topics, the states and changes of its site's boxes, and the hub's state (telemetry
 *   only goes to the hub);
 * - a box may subscribe to a topic it may receive, and to the wildcards `node/+/state` and
 *   `node/+/changes`, whose messages the broker then forwards only where `mayReceive` allows.
 *
 * - an admin (role `admin`, agent/admin/) publishes only admin requests
 *   (`admin/request/<op>`) and receives only its own responses (`admin/response/<own name>/<op>`),
 *   subscribing to `admin/response/<own name>/+`; no box may publish or receive an admin topic.
 *
 * `siteOf` says which site a node id belongs to (the certificates the broker has seen); an
 * unknown id is of no site, so nothing about it is allowed.
 */
import { adminTopics, parseAdminTopic } from '../wire/admin.ts';
import { TOPIC_ROOT, parseTopic, siteStream, topics } from '../wire/topics.ts';
import type { CertificateRole, NodeIdentity } from './identity.ts';

export type AclIdentity = Pick<NodeIdentity, 'nodeId' | 'site'> & { role: CertificateRole };

/** The site and role of a node id the broker knows of, or undefined. */
export type SiteLookup = (nodeId: string) => { site: string; role: CertificateRole } | undefined;

/** Wildcard subscriptions a box may hold; what they deliver is filtered message by message. */
export const FILTERED_WILDCARDS: readonly string[] = [topics.allNodeStates, topics.allNodeChanges];

/** Is `other` the hub, or a box of `me`'s site (itself excluded)? */
function sibling(me: AclIdentity, other: string, siteOf: SiteLookup): 'hub' | 'peer' | undefined {
  if (other === me.nodeId) return undefined;
  const o = siteOf(other);
  if (o?.role === 'hub') return 'hub';
  return o?.role === 'node' && o.site === me.site ? 'peer' : undefined;
}

/** May `me` publish on `topic` (retained or not)? */
export function mayPublish(me: AclIdentity, topic: string, siteOf: SiteLookup): boolean {
  if (me.role === 'hub') return true;
  if (me.role === 'admin') return parseAdminTopic(topic)?.kind === 'adminRequest';
  const t = parseTopic(topic);
  if (!t || t.kind === 'hubChanges') return false;
  if (t.kind === 'nodeChanges' || t.kind === 'nodeState' || t.kind === 'nodeTelemetry') return t.nodeId === me.nodeId;
  const who = sibling(me, t.nodeId, siteOf);
  // A catch-up request to the hub or a peer; a reply to whichever of them asked.
  return who !== undefined;
}

/** May `me` receive a message published on `topic` (a concrete topic, no wildcards)? */
export function mayReceive(me: AclIdentity, topic: string, siteOf: SiteLookup): boolean {
  if (me.role === 'hub') return true;
  if (me.role === 'admin') {
    const a = parseAdminTopic(topic);
    return a?.kind === 'adminResponse' && a.admin === me.nodeId;
  }
  const t = parseTopic(topic);
  if (!t) return false;
  if (t.kind === 'hubChanges') return t.stream === 'global' || t.stream === siteStream(me.site);
  if (t.kind === 'nodeTelemetry') return false;
  if (t.kind === 'syncRequest' || t.kind === 'syncResponse') return t.nodeId === me.nodeId;
  if (t.nodeId === me.nodeId) return t.kind === 'nodeState';
  const who = sibling(me, t.nodeId, siteOf);
  return t.kind === 'nodeState' ? who !== undefined : who === 'peer';
}

/** May `me` subscribe to `filter`? */
export function maySubscribe(me: AclIdentity, filter: string, siteOf: SiteLookup): boolean {
  if (me.role === 'hub') return true;
  if (me.role === 'admin') return filter === adminTopics.responsesOf(me.nodeId) || (!/[+#]/.test(filter) && mayReceive(me, filter, siteOf));
  if (FILTERED_WILDCARDS.includes(filter)) return true;
  if (/[+#]/.test(filter) || !filter.startsWith(`${TOPIC_ROOT}/`)) return false;
  return mayReceive(me, filter, siteOf);
}

/**
 * The concrete topics a box may publish and read, for a broker that cannot filter messages
 * itself (the Mosquitto ACL file), given every node it knows of. The hub gets `#`.
 */
export function aclTopics(me: AclIdentity, nodes: readonly AclIdentity[]): { write: string[]; read: string[] } {
  if (me.role === 'hub') return { write: [`${TOPIC_ROOT}/#`], read: [`${TOPIC_ROOT}/#`] };
  if (me.role === 'admin') return { write: [adminTopics.allRequests], read: [adminTopics.responsesOf(me.nodeId)] };
  const siteOf: SiteLookup = (id) => nodes.find((n) => n.nodeId === id);
  const candidates = new Set<string>([topics.hubChanges('global'), topics.hubChanges(siteStream(me.site))]);
  for (const n of [me, ...nodes]) {
    for (const t of [topics.nodeChanges, topics.nodeState, topics.nodeTelemetry, topics.syncRequest, topics.syncResponse]) candidates.add(t(n.nodeId));
  }
  const all = [...candidates].sort();
  return { write: all.filter((t) => mayPublish(me, t, siteOf)), read: all.filter((t) => mayReceive(me, t, siteOf)) };
}
