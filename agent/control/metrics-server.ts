/**
 * A tiny Prometheus exporter (`metrics.listen`): `GET /metrics` answers the text exposition
 * format 0.0.4, rendered from whatever collect() returns at scrape time. No client library:
 * gauges and counters with labels are all the agent exports.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/logger.ts';
import { hostPort, listenFailureReason, listenOn } from '../lib/listen.ts';
import { ControlError } from './errors.ts';

export type MetricType = 'gauge' | 'counter';

export interface MetricSample {
  name: string;
  help: string;
  type: MetricType;
  labels?: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(name: string, labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  for (const [label] of entries) {
    if (!LABEL_NAME.test(label) || label.startsWith('__')) {
      throw new ControlError('control.metrics', `metric ${name}: invalid label name "${label}"`);
    }
  }
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/**
 * Renders samples in the Prometheus text format: samples of one name are grouped under a single
 * `# HELP` and `# TYPE` (help and type of the first sample of that name), names in first-seen order.
 */
export function renderPrometheus(samples: MetricSample[]): string {
  const groups = new Map<string, MetricSample[]>();
  for (const sample of samples) {
    if (!METRIC_NAME.test(sample.name)) {
      throw new ControlError('control.metrics', `invalid metric name "${sample.name}"`);
    }
    const group = groups.get(sample.name);
    if (!group) groups.set(sample.name, [sample]);
    else if (group[0]!.type !== sample.type) {
      throw new ControlError('control.metrics', `metric ${sample.name} is both ${group[0]!.type} and ${sample.type}`);
    } else group.push(sample);
  }
  const lines: string[] = [];
  for (const [name, group] of groups) {
    const first = group[0]!;
    lines.push(`# HELP ${name} ${escapeHelp(first.help)}`, `# TYPE ${name} ${first.type}`);
    for (const s of group) lines.push(`${name}${formatLabels(name, s.labels)} ${formatValue(s.value)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  collect: () => MetricSample[];
  logger: Logger;
}

export class MetricsServer {
  readonly #options: MetricsServerOptions;
  readonly #log: Logger;
  #server: http.Server | undefined;
  #port = 0;

  constructor(options: MetricsServerOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  async start(): Promise<void> {
    if (this.#server) throw new ControlError('control.listen', 'metrics server is already started');
    const { host, port } = this.#options;
    const server = http.createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 5000;
    try {
      await listenOn(server, host, port);
    } catch (err) {
      throw new ControlError('control.listen', `cannot listen for metrics on ${hostPort(host, port)}: ${listenFailureReason(err)}`, {
        cause: err,
      });
    }
    server.on('error', (err) => this.#log.error({ err: err.message }, 'metrics listener error'));
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    this.#log.info({ host, port: this.#port }, 'metrics listening');
  }

  /** Closes the listener and every open connection (scrapers keep connections alive). */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The bound port (the OS-chosen one when configured with 0); 0 before start(). */
  get port(): number {
    return this.#port;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return this.#reply(res, 404, 'not found\n');
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return this.#reply(res, 405, 'method not allowed\n');
    }
    let body: string;
    try {
      body = renderPrometheus(this.#options.collect());
    } catch (err) {
      this.#log.error({ err: err instanceof Error ? err.message : String(err) }, 'metrics collection failed');
      return this.#reply(res, 500, 'metrics collection failed\n');
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  #reply(res: http.ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/** The server for a validated `metrics.listen` (`host:port`, `[IPv6]:port`). */
export function metricsServerAt(listen: string, collect: () => MetricSample[], logger: Logger): MetricsServer {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return new MetricsServer({ host, port: Number(listen.slice(colon + 1)), collect, logger });
}
