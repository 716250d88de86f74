/**
 * The Prometheus endpoint: `/metrics` renders a prom-client registry in the text format 0.0.4.
 * MetricsServer is an HttpServer with only that path (the hub's `metrics.listen`); a box serves
 * metricsRoute on its own server (box-observer.ts).
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../lib/logger.ts';
import { HttpServer, type Route } from './http-server.ts';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `GET /metrics`: the registry in the text format. */
export function metricsRoute(registry: Registry): Route {
  return async () => ({ status: 200, contentType: CONTENT_TYPE, body: await registry.metrics() });
}

/** An HTTP server with only `/metrics`. */
export class MetricsServer extends HttpServer {
  constructor(options: { host: string; port: number; registry: Registry; logger: Logger }) {
    super({ host: options.host, port: options.port, routes: { '/metrics': metricsRoute(options.registry) }, logger: options.logger, name: 'metrics' });
  }
}

/** `host:port` or `[IPv6]:port` of a validated listen key. */
export function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(colon + 1)) };
}

/** The server for a validated `metrics.listen` (`host:port`, `[IPv6]:port`). */
export function metricsServerAt(listen: string, registry: Registry, logger: Logger): MetricsServer {
  return new MetricsServer({ ...parseListen(listen), registry, logger });
}
