/**
 * The HTTP server of the control layer: answers GET (and HEAD) on a fixed set of paths, 404
 * elsewhere, 405 for other methods; a route that throws is a logged 500. The box's server
 * (status page, /healthz, /metrics) and the hub's MetricsServer (metrics-server.ts) are this.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/logger.ts';
import { hostPort, listenFailureReason, listenOn } from '../lib/listen.ts';
import { ControlError } from './errors.ts';

export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** A GET handler; a throw is a logged 500. */
export type Route = () => HttpReply | Promise<HttpReply>;

export interface HttpServerOptions {
  host: string;
  port: number;
  routes: Record<string, Route>;
  logger: Logger;
  /** What it serves, in messages: `metrics`, `http`. */
  name: string;
  /** Log `<name> listening` at debug instead of info. */
  quiet?: boolean;
}

export class HttpServer {
  readonly #options: HttpServerOptions;
  readonly #log: Logger;
  #server: http.Server | undefined;
  #port = 0;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  async start(): Promise<void> {
    const { host, port, name } = this.#options;
    if (this.#server) throw new ControlError('control.listen', `${name} server is already started`);
    const server = http.createServer((req, res) => void this.#handle(req, res));
    server.keepAliveTimeout = 5000;
    try {
      await listenOn(server, host, port);
    } catch (err) {
      throw new ControlError('control.listen', `cannot listen for ${name} on ${hostPort(host, port)}: ${listenFailureReason(err)}`, { cause: err });
    }
    server.on('error', (err) => this.#log.error({ err: err.message }, `${name} listener error`));
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    // The box's server is on by default: its line would be in every start's output (debug there).
    if (this.#options.quiet) this.#log.debug({ host, port: this.#port }, `${name} listening`);
    else this.#log.info({ host, port: this.#port }, `${name} listening`);
  }

  /** Closes the listener and every open connection (scrapers and browsers keep connections alive). */
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

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = Object.hasOwn(this.#options.routes, path) ? this.#options.routes[path] : undefined;
    if (!route) return this.#reply(res, { status: 404, contentType: 'text/plain; charset=utf-8', body: 'not found\n' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return this.#reply(res, { status: 405, contentType: 'text/plain; charset=utf-8', body: 'method not allowed\n', headers: { Allow: 'GET' } });
    }
    let reply: HttpReply;
    try {
      reply = await route();
    } catch (err) {
      this.#log.error({ err: err instanceof Error ? err.message : String(err), path }, `${this.#options.name} request failed`);
      reply = { status: 500, contentType: 'text/plain; charset=utf-8', body: `${path} failed\n` };
    }
    this.#reply(res, reply, req.method === 'HEAD');
  }

  #reply(res: http.ServerResponse, reply: HttpReply, head = false): void {
    res.writeHead(reply.status, { ...reply.headers, 'Content-Type': reply.contentType, 'Content-Length': Buffer.byteLength(reply.body), 'Cache-Control': 'no-store' });
    res.end(head ? undefined : reply.body);
  }
}
