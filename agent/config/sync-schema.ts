/**
 * Config sections of replication, shared by the node and the hub config files:
 * `hub` (node: where its hub is), `peers`, `mqtt` (a broker to run or to use), `sync` (batching
 * and backpressure) and `metrics` (Prometheus endpoint). Documented in docs/config/.
 */
import { z } from 'zod';

const nodeId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit');

/**
 * `mqtts://host:port` (MQTT over mutual TLS with the node certificates) or `mqtt://host:port`
 * (plain: the insecure dev mode, docs/security.md). Port 0 in a listen address: the OS picks one.
 */
export interface MqttAddress {
  host: string;
  port: number;
  /** mqtts: TLS with client certificates. */
  secure?: boolean;
}

const MQTT_URL = /^mqtt(s?):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export function parseMqttUrl(text: string): MqttAddress | string {
  const m = MQTT_URL.exec(text.trim());
  if (!m) return `expected "mqtts://host:port" or "mqtt://host:port" (e.g. "mqtts://127.0.0.1:8883"), got "${text}"`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is out of range 0-65535`;
  return { host: m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!, port, secure: m[1] === 's' };
}

export function formatMqttUrl(a: MqttAddress): string {
  return `${a.secure ? 'mqtts' : 'mqtt'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** Is `host` a loopback address or name (plain MQTT is allowed there without `insecureMqtt`)? */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The plain (`mqtt://`) URLs among `urls` that are not on loopback. */
export function insecureRemoteUrls(urls: readonly string[]): string[] {
  return urls.filter((u) => {
    const a = parseMqttUrl(u);
    return typeof a !== 'string' && !a.secure && !isLoopbackHost(a.host);
  });
}

const mqttUrl = (allowPortZero: boolean) =>
  z.string().superRefine((text, ctx) => {
    const parsed = parseMqttUrl(text);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    else if (!allowPortZero && parsed.port === 0) ctx.addIssue({ code: 'custom', message: 'port 0 is only allowed in a listen address' });
  });

/** Node: the hub it joins. */
export const HubLinkSection = z.strictObject({
  url: mqttUrl(false),
  /** The hub's node id: the one replica whose admin changes and relays this node accepts. */
  id: nodeId.default('hub'),
});

/** Node: site peers reachable without the hub (each runs its own broker, `mqtt.listen`). */
export const PeerEntry = z.strictObject({
  id: nodeId,
  url: mqttUrl(false),
});

/** Node: its own broker for its site peers. */
export const MqttListenSection = z.strictObject({
  listen: mqttUrl(true),
  /** The address peers use to reach this broker; required when `listen` is a wildcard. */
  announce: mqttUrl(false).optional(),
});

/** A broker to run in-process (`listen`) or an external one to use (`url`, hub only). */
export const MqttSection = z.union([
  z.strictObject({ listen: mqttUrl(true) }),
  z.strictObject({ url: mqttUrl(false) }),
], { error: 'must be { listen: "mqtts://host:port" } or { url: "mqtts://host:port" }' });

/**
 * Allows plain `mqtt://` URLs on addresses other than loopback (anyone on the path reads and
 * writes fleet data: a lab only). Plain MQTT on loopback needs no key; either logs a warning.
 */
export const InsecureMqttKey = z.boolean().default(false);

export const SyncSection = z.strictObject({
  /** Most changes in one published batch or catch-up page (a transaction is never split). */
  batchSize: z.number().int().min(1).max(50_000).default(2000),
  /** Most unacknowledged QoS 1 batches per broker before pushing waits. */
  maxInFlight: z.number().int().min(1).max(256).default(16),
  /** Milliseconds to gather commits into one push. */
  pushDelay: z.number().int().min(0).max(1000).default(2),
  /** Seconds before an unanswered catch-up request is sent again. */
  requestTimeout: z.number().int().min(1).max(600).default(10),
  /** Seconds between checks that every stream is caught up with its source's announced head. */
  antiEntropy: z.number().int().min(1).max(3600).default(5),
  /**
   * Node only: the site admin key file (`outpost site add --admin-key-out`). With it, users,
   * routes and trunks of this box's site may be changed on the box (e.g. while the hub is gone); other
   * replicas accept those changes because they carry this key's signature.
   */
  siteAdminKey: z.string().min(1).optional(),
  /**
   * Seconds a box waits after a peer of its site is declared dead before it closes that peer's
   * calls as `interrupted` CDRs on its behalf; the hub waits twice as long (docs/calls.md, 8).
   */
  takeoverGrace: z.number().int().min(1).max(60).default(5),
});

export const MetricsSection = z.strictObject({
  /** `host:port` of the Prometheus text endpoint (`GET /metrics`); port 0 lets the OS choose. */
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port", e.g. "127.0.0.1:9464"')
    .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'port is out of range 0-65535' }),
});

/** `host:port` of a validated `metrics.listen` (an IPv6 host without its brackets). */
export function parseMetricsListen(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(colon + 1)) };
}

export type HubLinkConfig = z.output<typeof HubLinkSection>;
export type PeerConfig = z.output<typeof PeerEntry>;
export type MqttConfig = z.output<typeof MqttSection>;
export type SyncConfig = z.output<typeof SyncSection>;
export type MetricsConfig = z.output<typeof MetricsSection>;
export { nodeId as nodeIdSchema };
