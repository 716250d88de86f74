/**
 * MQTT topics of replication, in one place (docs/mqtt/sync.md documents them). Node ids and
 * site ids are validated by the config schema ([a-z0-9-]), so they never contain / + #.
 */
export const TOPIC_ROOT = 'outpost/v1';

/** A stream of changes as a receiver tracks it: a node's own changes, or one of the hub's scopes. */
export type StreamName = 'own' | 'global' | `site/${string}`;

export const topics = {
  /** Batches of a node's own changes (push), QoS 1. */
  nodeChanges: (nodeId: string) => `${TOPIC_ROOT}/node/${nodeId}/changes`,
  /** Retained NodeState; the broker publishes the offline state as the will. */
  nodeState: (nodeId: string) => `${TOPIC_ROOT}/node/${nodeId}/state`,
  /** Catch-up requests (SyncRequest) addressed to a node or the hub. */
  syncRequest: (nodeId: string) => `${TOPIC_ROOT}/node/${nodeId}/sync/request`,
  /** Where a node receives catch-up replies (the replyTo of its requests). */
  syncResponse: (nodeId: string) => `${TOPIC_ROOT}/node/${nodeId}/sync/response`,
  /** A box's telemetry for the hub's fleet view (wire/telemetry.ts), QoS 0, not retained. */
  nodeTelemetry: (nodeId: string) => `${TOPIC_ROOT}/node/${nodeId}/telemetry`,
  /** What the hub publishes per scope: `global` or `site/{siteId}`. */
  hubChanges: (stream: StreamName) => `${TOPIC_ROOT}/hub/changes/${stream}`,
  allNodeChanges: `${TOPIC_ROOT}/node/+/changes`,
  allNodeStates: `${TOPIC_ROOT}/node/+/state`,
  allNodeTelemetry: `${TOPIC_ROOT}/node/+/telemetry`,
} as const;

/** The node id in a `node/{id}/...` topic, or undefined for any other topic. */
export function nodeIdOfTopic(topic: string): string | undefined {
  const prefix = `${TOPIC_ROOT}/node/`;
  if (!topic.startsWith(prefix)) return undefined;
  const end = topic.indexOf('/', prefix.length);
  return end < 0 ? undefined : topic.slice(prefix.length, end);
}

/** The scope stream a site's boxes receive from the hub. */
export function siteStream(site: string): StreamName {
  return `site/${site}`;
}

/** What a replication topic addresses, as the map above builds it. */
export type ParsedTopic =
  | { kind: NodeTopicKind; nodeId: string }
  | { kind: 'hubChanges'; stream: StreamName };

type NodeTopicKind = 'nodeChanges' | 'nodeState' | 'nodeTelemetry' | 'syncRequest' | 'syncResponse';

const NODE_SUFFIXES: Record<string, NodeTopicKind> = {
  changes: 'nodeChanges',
  state: 'nodeState',
  telemetry: 'nodeTelemetry',
  'sync/request': 'syncRequest',
  'sync/response': 'syncResponse',
};

/** The inverse of `topics`: which topic of the map `topic` is, or undefined for any other. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const nodeId = nodeIdOfTopic(topic);
  if (nodeId !== undefined) {
    const kind = NODE_SUFFIXES[topic.slice(`${TOPIC_ROOT}/node/${nodeId}/`.length)];
    return kind && nodeId !== '' && !/[+#]/.test(nodeId) ? { kind, nodeId } : undefined;
  }
  const hubPrefix = `${TOPIC_ROOT}/hub/changes/`;
  if (!topic.startsWith(hubPrefix)) return undefined;
  const stream = topic.slice(hubPrefix.length);
  if (stream === 'global') return { kind: 'hubChanges', stream };
  const site = /^site\/([^/+#]+)$/.exec(stream)?.[1];
  return site === undefined ? undefined : { kind: 'hubChanges', stream: siteStream(site) };
}
