/**
 * A child process of bench/tls-connections.ts holding many simulated boxes' MQTT connections to
 * one broker: it gets its share of clients over IPC (id, and over TLS each one's own key and
 * certificate), connects them `concurrency` at a time, each subscribing (QoS 1) to what a box
 * subscribes to on the hub's broker (node-strategy.ts), and answers with the connect times
 * (connect() → SUBACK). The connections stay open until the parent sends `close` (or dies).
 * Started with fork(): node --import tsx bench/lib/mqtt-swarm.ts
 */
import type { TLSSocket } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { siteStream, topics } from '../../agent/wire/topics.ts';
import { HarnessError } from './harness-error.ts';

export interface SwarmRequest {
  url: string;
  /** The CA certificate (PEM) over TLS. */
  ca?: string;
  site: string;
  clients: Array<{ id: string; key?: string; cert?: string }>;
  concurrency: number;
  timeoutMs: number;
}

export interface SwarmReply {
  connected: number;
  failed: number;
  errors: string[];
  /** connect() → SUBACK per connected client, ms. */
  connectMs: number[];
  wallMs: number;
  /** TLS versions negotiated (empty over plain MQTT). */
  protocols: string[];
}

/** What a box subscribes to on the hub's broker (agent/sync/node-strategy.ts). */
export function boxSubscriptions(id: string, site: string): string[] {
  return [topics.hubChanges('global'), topics.hubChanges(siteStream(site)), topics.allNodeStates, topics.syncRequest(id), topics.syncResponse(id)];
}

const open: MqttClient[] = [];
const protocols = new Set<string>();

function connectOne(r: SwarmRequest, c: SwarmRequest['clients'][number]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(r.url, {
      clientId: c.id,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: r.timeoutMs,
      ...(r.ca ? { ca: r.ca, key: c.key, cert: c.cert, rejectUnauthorized: true } : {}),
    });
    open.push(client);
    const fail = (err: Error) => reject(new HarnessError(`${c.id}: ${err.message}`, { cause: err }));
    client.once('error', fail);
    client.once('close', () => fail(new HarnessError('closed before SUBACK')));
    client.once('connect', () => {
      client.subscribe(boxSubscriptions(c.id, r.site), { qos: 1 }, (err, granted) => {
        if (err) return fail(err);
        if (granted?.some((g) => g.qos === 128)) return fail(new HarnessError(`subscription refused: ${granted.filter((g) => g.qos === 128).map((g) => g.topic).join(' ')}`));
        client.removeAllListeners('close');
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        const p = (client.stream as Partial<TLSSocket>).getProtocol?.();
        if (p) protocols.add(p);
        resolve(performance.now() - t0);
      });
    });
  });
}

async function run(r: SwarmRequest): Promise<SwarmReply> {
  const t0 = performance.now();
  const reply: SwarmReply = { connected: 0, failed: 0, errors: [], connectMs: [], wallMs: 0, protocols: [] };
  let next = 0;
  const worker = async () => {
    while (next < r.clients.length) {
      const c = r.clients[next++]!;
      try {
        reply.connectMs.push(await connectOne(r, c));
        reply.connected++;
      } catch (err) {
        reply.failed++;
        if (reply.errors.length < 5) reply.errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, r.concurrency) }, worker));
  reply.wallMs = performance.now() - t0;
  reply.protocols = [...protocols];
  return reply;
}

process.on('message', (msg: { run?: SwarmRequest; close?: true }) => {
  if (msg.run) void run(msg.run).then((reply) => process.send!({ reply }));
  if (msg.close) {
    for (const c of open) c.end(true);
    process.send!({ closed: open.length }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
