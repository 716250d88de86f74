/**
 * Simulated certified boxes for the fleet view's test and bench: each has its own Ed25519 node
 * key and TLS key, a certificate from the hub's CA naming its node id, site and key (issued in
 * this process from the hub's data directory, as bench/tls-connections.ts does), and speaks
 * MQTT over mutual TLS to the hub's broker as a box does for what the fleet view sees: its
 * retained certified state (online, the offline state as its will) and its telemetry (QoS 0).
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { createSystemClock } from '../../agent/lib/clock.ts';
import { CertificateAuthority } from '../../agent/trust/ca.ts';
import { newTlsKey } from '../../agent/trust/credentials.ts';
import { derOfPem } from '../../agent/trust/verify-certificate.ts';
import { spkiOfKey } from '../../agent/trust/x509.ts';
import type { NodeState } from '../../agent/wire/messages.ts';
import type { Telemetry } from '../../agent/wire/telemetry.ts';
import { topics } from '../../agent/wire/topics.ts';
import { HarnessError } from './harness-error.ts';

export interface SimBoxIdentity {
  id: string;
  site: string;
  /** TLS key and certificate (PEM). */
  key: string;
  cert: string;
  /** Ed25519 node key, SPKI DER base64 (bound by the certificate). */
  nodeKey: string;
  /** A cr-sqlite site id, hex. */
  siteId: string;
}

/** Certificates from the CA in the hub's data directory (the hub must have started once). */
export async function issueSimBoxes(hubDataDir: string, boxes: ReadonlyArray<{ id: string; site: string }>): Promise<{ ca: string; boxes: SimBoxIdentity[] }> {
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: hubDataDir, hubId: 'hub', caDays: 1, clock: createSystemClock() });
  const out: SimBoxIdentity[] = [];
  for (const b of boxes) {
    const nodeKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const key = newTlsKey();
    const cert = await ca.issue({ identity: { nodeId: b.id, site: b.site, role: 'node', nodeKey }, publicKey: spkiOfKey(createPrivateKey(key)), days: 1 });
    out.push({ ...b, key, cert, nodeKey, siteId: randomBytes(16).toString('hex') });
  }
  return { ca: ca.certificatePem, boxes: out };
}

export function simState(b: SimBoxIdentity, online: boolean, at: number): NodeState {
  return { nodeId: b.id, role: 'node', site: b.site, online, publicKey: b.nodeKey, siteId: b.siteId, schema: 1, head: '0', at, certificate: derOfPem(b.cert) };
}

export class SimBox {
  private client: MqttClient | undefined;

  constructor(
    readonly identity: SimBoxIdentity,
    private readonly url: string,
    private readonly ca: string,
  ) {}

  /** Connects over mutual TLS; with `state`, publishes its online state and leaves the offline one as its will. */
  connect(o: { state?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const b = this.identity;
    const will = o.state ? { topic: topics.nodeState(b.id), payload: Buffer.from(JSON.stringify(simState(b, false, Date.now()))), qos: 1 as const, retain: true } : undefined;
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(this.url, {
        clientId: b.id,
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        reconnectPeriod: 0,
        connectTimeout: o.timeoutMs ?? 30_000,
        ca: this.ca,
        key: b.key,
        cert: b.cert,
        rejectUnauthorized: true,
        ...(will ? { will } : {}),
      });
      this.client = client;
      client.once('error', (err) => reject(new HarnessError(`${b.id}: ${err.message}`, { cause: err })));
      client.once('connect', () => {
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        if (!o.state) return resolve();
        client.publish(topics.nodeState(b.id), JSON.stringify(simState(b, true, Date.now())), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve()));
      });
    });
  }

  publishTelemetry(t: Telemetry): Promise<void> {
    return this.publishRaw(topics.nodeTelemetry(this.identity.id), JSON.stringify(t));
  }

  /** Any payload on any topic, QoS 0 (the broker's ACL decides). */
  publishRaw(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client) throw new HarnessError(`${this.identity.id}: not connected`);
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 0 }, (err) => (err ? reject(err) : resolve())));
  }

  /** Disconnects: `clean` sends DISCONNECT (no will); otherwise the socket just dies and the broker fires the will. */
  async close(clean = true): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (clean) await client.endAsync();
    else {
      client.stream.destroy();
      await client.endAsync(true);
    }
  }
}
