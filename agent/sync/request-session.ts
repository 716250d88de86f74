/**
 * One short-lived MQTT connection for request/response clients (the admin's side of the admin
 * API, agent/admin/admin-client.ts): connects once with no reconnect, subscribes one filter,
 * and fails fast with a SyncError saying why (unreachable, refused at CONNACK, subscription
 * refused, no answer in time). Replication's long-lived links are BrokerLink (broker-link.ts).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { SyncError } from './errors.ts';

export interface RequestSessionOptions {
  url: string;
  clientId: string;
  subscribe: string;
  /** For `mqtts://`: key, cert, ca and the server check (link-tls.ts). */
  tls?: Record<string, unknown>;
  timeoutMs: number;
  onMessage: (topic: string, payload: Buffer) => void;
}

/** Why a session could not be opened: `refused` when the broker refused the client's certificate (CONNACK 5). */
export class SessionError extends SyncError {
  constructor(message: string, readonly refused: boolean) {
    super('sync.connect', message);
  }
}

export class RequestSession {
  private constructor(private readonly client: MqttClient) {}

  static open(o: RequestSessionOptions): Promise<RequestSession> {
    const client = mqtt.connect(o.url, { clientId: o.clientId, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: o.timeoutMs, ...(o.tls ?? {}) });
    client.on('message', (topic, payload) => o.onMessage(topic, payload));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`no answer from the broker at ${o.url} within ${o.timeoutMs / 1000} s`), o.timeoutMs);
      const fail = (why: string, refused = false) => {
        clearTimeout(timer);
        client.end(true);
        reject(new SessionError(why, refused));
      };
      client.once('error', (err) => {
        const code = (err as { code?: unknown }).code;
        if (code === 5) return fail(`the broker at ${o.url} refused this client's certificate`, true);
        fail(`cannot connect to the broker at ${o.url}: ${typeof code === 'string' ? code : err.message}`);
      });
      client.once('close', () => fail(`the broker at ${o.url} closed the connection`));
      client.once('connect', () => {
        // Small requests, latency first: no Nagle delay (as BrokerLink).
        (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
        client.subscribe(o.subscribe, { qos: 1 }, (err) => {
          if (err) return fail(`the broker at ${o.url} refused the subscription to ${o.subscribe}`, true);
          clearTimeout(timer);
          client.removeAllListeners('close');
          client.removeAllListeners('error');
          client.on('error', () => undefined);
          resolve(new RequestSession(client));
        });
      });
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Publishes QoS 1; resolves once the broker acknowledged. */
  publish(topic: string, payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(new SyncError('sync.connect', `cannot publish on ${topic}: ${err.message}`)) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.client.end(false, {}, () => resolve()));
  }
}
