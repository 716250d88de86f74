/**
 * The hub's fleet dashboard (`dashboard.listen`, docs/dashboard.md): HTTP on a loopback
 * address, HTTPS with the hub's own certificate on any other. Everything but the login page
 * and the static files needs a session: a page answers 303 to /login, an API or event stream
 * 401. Logins are checked against `<dataDir>/dashboard-users` (passwd.ts) and limited per
 * source address (sessions.ts). Every answer carries a strict Content-Security-Policy: the
 * pages load only this server's scripts and styles (uPlot from node_modules, no CDN).
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DashboardConfig } from '../../config/dashboard-schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { BindError } from '../../lib/errors.ts';
import { hostPort, listenOn } from '../../lib/listen.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CdrRepository } from '../../store/cdrs.ts';
import type { Credentials } from '../../trust/credentials.ts';
import type { FleetFeed } from '../fleet-feed.ts';
import { DashboardError } from './errors.ts';
import { LiveUpdates } from './live-updates.ts';
import { alarmsPage, boxPage, cdrPage, loginPage, notFoundPage, overviewPage, type CdrQuery } from './pages.ts';
import { verifyPassword } from './passwd.ts';
import { COOKIE, cookieValue, Sessions } from './sessions.ts';
import { FailureLimiter } from '../../trust/failure-limiter.ts';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PAGE_SIZE = 50;

const require = createRequire(import.meta.url);
const STATIC: Record<string, { file: string; type: string }> = {
  'dashboard.js': { file: join(import.meta.dirname, 'static', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: join(import.meta.dirname, 'static', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export interface DashboardServerOptions {
  config: DashboardConfig;
  dataDir: string;
  feed: FleetFeed;
  cdrs: CdrRepository;
  /** The hub's certificate and key, for HTTPS off loopback. */
  credentials: Credentials;
  clock: Clock;
  logger: Logger;
}

/** Whether `host` is a loopback address (the dashboard then speaks plain HTTP). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class DashboardServer {
  private readonly server: http.Server;
  private readonly sessions: Sessions;
  private readonly limiter: FailureLimiter;
  private readonly live: LiveUpdates;
  private readonly host: string;
  private readonly port: number;
  readonly secure: boolean;
  private readonly assets = new Map<string, Buffer>();

  constructor(private readonly o: DashboardServerOptions) {
    const colon = o.config.listen.lastIndexOf(':');
    this.host = o.config.listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = Number(o.config.listen.slice(colon + 1));
    this.secure = !isLoopback(this.host);
    this.sessions = new Sessions(o.clock, o.config.sessionTtl * 1000);
    this.limiter = new FailureLimiter(o.config.maxFailures, o.config.failureWindow * 1000, o.clock);
    this.live = new LiveUpdates(o.feed, o.clock);
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: Error) => {
        o.logger.error({ err: err.message, url: req.url }, 'dashboard request failed');
        if (!res.headersSent) this.send(res, 500, 'text/plain; charset=utf-8', 'internal error');
        else res.end();
      });
    };
    this.server = this.secure ? https.createServer({ key: o.credentials.key, cert: o.credentials.cert }, handler) : http.createServer(handler);
  }

  async start(): Promise<void> {
    for (const [name, a] of Object.entries(STATIC)) this.assets.set(name, readFileSync(a.file));
    try {
      await listenOn(this.server, this.host, this.port);
    } catch (err) {
      const reason = err instanceof BindError ? err.reason : (err as Error).message;
      throw new DashboardError('dashboard.listen', `dashboard: cannot listen on ${this.o.config.listen}: ${reason}`, { cause: err });
    }
    this.live.start();
    this.o.logger.info({ url: this.url }, 'dashboard listening');
  }

  async stop(): Promise<void> {
    this.live.stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `http(s)://host:port/` once listening. */
  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    return `${this.secure ? 'https' : 'http'}://${hostPort(this.host, a?.port ?? this.port)}/`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path.startsWith('/static/') && (method === 'GET' || method === 'HEAD')) return this.asset(res, path.slice('/static/'.length));
    if (path === '/login' && method === 'GET') return this.send(res, 200, 'text/html; charset=utf-8', loginPage());
    if (path === '/login' && method === 'POST') return this.login(req, res);
    const token = cookieValue(req.headers.cookie, COOKIE);
    const user = this.sessions.userOf(token);
    if (!user) {
      if (path.startsWith('/api/') || path === '/events' || method !== 'GET') return this.send(res, 401, 'text/plain; charset=utf-8', 'log in first\n');
      return this.redirect(res, '/login');
    }
    if (method === 'POST' && path === '/logout') {
      if (!this.sameOrigin(req)) return this.send(res, 403, 'text/plain; charset=utf-8', 'cross-site request refused\n');
      this.sessions.end(token);
      res.setHeader('set-cookie', this.cookie('', 0));
      return this.redirect(res, '/login');
    }
    if (method !== 'GET') return this.send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    const now = this.o.clock.now();
    const feed = this.o.feed;
    const html = (status: number, body: string) => this.send(res, status, 'text/html; charset=utf-8', body);
    if (path === '/') return html(200, overviewPage(user, feed.view.overview(feed.facts(), now)));
    if (path === '/alarms') return html(200, alarmsPage(user, feed.view.alarms(feed.facts(), now)));
    if (path === '/cdrs') return this.cdrs(res, user, url.searchParams);
    if (path === '/events') return this.live.attach(res, url.searchParams.get('box') ?? undefined);
    if (path === '/api/fleet') return this.send(res, 200, 'application/json', JSON.stringify(feed.view.overview(feed.facts(), now)));
    const box = /^\/(api\/)?box\/([^/]+)$/.exec(path);
    if (box) {
      let id: string;
      try {
        id = decodeURIComponent(box[2]!);
      } catch {
        return html(404, notFoundPage(user, 'No such box.'));
      }
      const d = feed.view.detail(id, feed.fact(id), now);
      if (box[1]) return d ? this.send(res, 200, 'application/json', JSON.stringify(d)) : this.send(res, 404, 'application/json', '{"error":"no such box"}');
      return d ? html(200, boxPage(user, d)) : html(404, notFoundPage(user, `No box "${id}" is known to the hub.`));
    }
    return html(404, notFoundPage(user, `No page at ${path}.`));
  }

  private cdrs(res: ServerResponse, user: string, params: URLSearchParams): void {
    const q: CdrQuery = { text: (params.get('q') ?? '').trim().slice(0, 64), from: params.get('from') ?? '', to: params.get('to') ?? '', page: Math.max(1, Math.min(10_000, Number.parseInt(params.get('page') ?? '1', 10) || 1)) };
    const from = q.from ? Date.parse(`${q.from}Z`) : 0;
    const to = q.to ? Date.parse(`${q.to}Z`) : Number.MAX_SAFE_INTEGER;
    if (Number.isNaN(from) || Number.isNaN(to)) return this.send(res, 400, 'text/html; charset=utf-8', cdrPage(user, q, undefined, false, 'From and To must be dates and times (YYYY-MM-DDTHH:MM, UTC).'));
    const rows = this.o.cdrs.search({ text: q.text, from, to, limit: PAGE_SIZE + 1, offset: (q.page - 1) * PAGE_SIZE });
    this.send(res, 200, 'text/html; charset=utf-8', cdrPage(user, q, rows.slice(0, PAGE_SIZE), rows.length > PAGE_SIZE));
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = req.socket.remoteAddress ?? '?';
    const wait = this.limiter.blockedFor(source);
    if (wait > 0) {
      res.setHeader('retry-after', String(Math.ceil(wait / 1000)));
      return this.send(res, 429, 'text/html; charset=utf-8', loginPage(`Too many failed logins from this address; try again in ${Math.ceil(wait / 1000)} s.`));
    }
    if (!this.sameOrigin(req)) return this.send(res, 403, 'text/plain; charset=utf-8', 'cross-site request refused\n');
    const body = await readBody(req, 4096);
    const form = new URLSearchParams(body ?? '');
    const user = form.get('user') ?? '';
    const ok = body !== undefined && (await verifyPassword(this.o.dataDir, user, form.get('password') ?? ''));
    if (!ok) {
      this.limiter.recordFailure(source);
      this.o.logger.warn({ user: user.slice(0, 64), source }, 'dashboard login failed');
      return this.send(res, 401, 'text/html; charset=utf-8', loginPage('Wrong user or password.'));
    }
    this.o.logger.info({ user, source }, 'dashboard login');
    res.setHeader('set-cookie', this.cookie(this.sessions.create(user), this.o.config.sessionTtl));
    this.redirect(res, '/');
  }

  /** A browser's POST names this server as its Origin (SameSite=Strict is the first guard). */
  private sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || origin === 'null') return origin === undefined;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  private cookie(value: string, maxAge: number): string {
    return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${this.secure ? '; Secure' : ''}`;
  }

  private asset(res: ServerResponse, name: string): void {
    const a = STATIC[name];
    const body = this.assets.get(name);
    if (!a || !body) return this.send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    res.setHeader('cache-control', 'max-age=300');
    this.send(res, 200, a.type, body);
  }

  private redirect(res: ServerResponse, to: string): void {
    res.writeHead(303, { location: to, 'content-security-policy': CSP, 'cache-control': 'no-store' });
    res.end();
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
      ...(res.hasHeader('cache-control') ? {} : { 'cache-control': 'no-store' }),
      ...(this.secure ? { 'strict-transport-security': 'max-age=31536000' } : {}),
    });
    res.end(body);
  }
}

/** The request body as text, or undefined when it is longer than `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    req.on('end', () => resolve(size > max ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
