/**
 * The hub's enrolment endpoint (`enrol.listen`): HTTPS with the hub's own certificate,
 * `POST /v1/enrol` with a JSON body, answered by EnrolmentService. A thin shell: it limits the
 * body, counts failures per source address (FailureLimiter) and maps TrustError codes to HTTP
 * statuses; the box authenticates the answer by its MAC, not by this TLS certificate, which it
 * cannot check before it has the CA. With `live`, a renewed hub certificate is served from the
 * next handshake (hub-renewer.ts).
 */
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../lib/clock.ts';
import { hostPort, listenOn } from '../lib/listen.ts';
import type { Logger } from '../lib/logger.ts';
import type { Credentials } from './credentials.ts';
import type { LiveCredentials } from './live-credentials.ts';
import { ENROL_PATH, RENEW_PATH, RenewRequestSchema } from './enrol-protocol.ts';
import type { EnrolmentService } from './enrolment-service.ts';
import { isClientFault, TrustError, type TrustErrorCode } from './errors.ts';
import { FailureLimiter } from './failure-limiter.ts';
import type { RenewalService } from './renewal-service.ts';

const MAX_BODY = 64 * 1024;

const STATUS: Partial<Record<TrustErrorCode, number>> = {
  'trust.protocol': 400,
  'trust.csr': 400,
  'trust.claim-wrong': 403,
  'trust.claim-node': 403,
  'trust.claim-site': 403,
  'trust.claim-role': 403,
  'trust.claim-used': 410,
  'trust.claim-expired': 410,
  'trust.claim-revoked': 410,
  'trust.rate-limited': 429,
  'trust.renewal': 403,
};

export interface EnrolServerOptions {
  host: string;
  port: number;
  credentials: Credentials;
  /** The hub's credentials as they are renewed (wins over `credentials`). */
  live?: LiveCredentials;
  service: EnrolmentService;
  /** `POST /v1/renew` for boxes presenting their certificate (absent: no renewal here). */
  renewal?: RenewalService;
  /**
   * More routes on the same server, by path prefix: the hub's update bundles (`GET /v1/bundles/NAME`
   * for certified, unrevoked boxes, agent/update/bundle-route.ts, docs/updates.md).
   */
  routes?: ReadonlyArray<{ prefix: string; handle(req: IncomingMessage, res: ServerResponse): void }>;
  /** Failed attempts a source address may make within `failureWindowMs` before it is refused. */
  maxFailures: number;
  failureWindowMs: number;
  clock: Clock;
  logger: Logger;
}

export class EnrolServer {
  private server: https.Server | undefined;
  private boundPort = 0;
  private unwatch: (() => void) | undefined;
  private readonly limiter: FailureLimiter;

  constructor(private readonly o: EnrolServerOptions) {
    this.limiter = new FailureLimiter(o.maxFailures, o.failureWindowMs, o.clock);
  }

  async start(): Promise<void> {
    const { key, cert, ca } = this.o.live?.current ?? this.o.credentials;
    // A client certificate is asked for but not required: enrolling boxes have none yet; the
    // renewal path requires one the CA verified (RenewalService checks the rest).
    const server = https.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => void this.handle(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    try {
      await listenOn(server, this.o.host, this.o.port);
    } catch (err) {
      throw new TrustError('trust.unreachable', `cannot listen for enrolment on ${hostPort(this.o.host, this.o.port)}: ${(err as Error).message}`, { cause: err });
    }
    server.on('error', (err) => this.o.logger.error({ err: err.message }, 'enrolment listener error'));
    this.server = server;
    this.unwatch = this.o.live?.onChange((c) => server.setSecureContext({ key: c.key, cert: c.cert, ca: c.ca, minVersion: 'TLSv1.2' }));
    this.boundPort = (server.address() as AddressInfo).port;
    this.o.logger.info({ url: this.url }, 'enrolment listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.unwatch?.();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** `https://host:port` (the OS-chosen port once started). */
  get url(): string {
    return `https://${hostPort(this.o.host, this.boundPort)}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const from = req.socket.remoteAddress ?? 'unknown';
    if ((req.url ?? '').split('?')[0] === RENEW_PATH && this.o.renewal) return this.renew(req, res, from);
    const route = this.o.routes?.find((r) => (req.url ?? '').startsWith(r.prefix));
    if (route) return route.handle(req, res);
    if ((req.url ?? '').split('?')[0] !== ENROL_PATH) return reply(res, 404, { error: 'not-found', message: `no such endpoint; POST ${ENROL_PATH}` });
    if (req.method !== 'POST') return reply(res, 405, { error: 'method', message: 'use POST' }, { Allow: 'POST' });
    const wait = this.limiter.blockedFor(from);
    if (wait > 0) {
      this.o.logger.warn({ from }, 'enrolment refused: too many failed attempts');
      const seconds = Math.ceil(wait / 1000);
      return reply(res, 429, { error: 'trust.rate-limited', message: `too many failed enrolment attempts from ${from}; try again in ${seconds} s` }, { 'Retry-After': String(seconds) });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      this.limiter.recordFailure(from);
      return reply(res, 400, { error: 'trust.protocol', message: `malformed enrolment request: ${(err as Error).message}` });
    }
    try {
      reply(res, 200, await this.o.service.enrol(body, from));
    } catch (err) {
      if (isClientFault(err)) this.limiter.recordFailure(from);
      if (err instanceof TrustError && STATUS[err.code] !== undefined) return reply(res, STATUS[err.code]!, { error: err.code, message: err.message });
      this.o.logger.error({ from, err: (err as Error).message }, 'enrolment failed');
      reply(res, 500, { error: 'internal', message: 'the hub could not issue the certificate; see its log' });
    }
  }

  /** Renewal: only over a TLS connection whose client certificate this hub's CA verified. */
  private async renew(req: IncomingMessage, res: ServerResponse, from: string): Promise<void> {
    const socket = req.socket as TLSSocket;
    if (req.method !== 'POST') return reply(res, 405, { error: 'method', message: 'use POST' }, { Allow: 'POST' });
    if (!socket.authorized) return reply(res, 401, { error: 'trust.renewal', message: 'renewal needs the box\'s current certificate as the TLS client certificate' });
    const raw = socket.getPeerCertificate().raw;
    const presented = `-----BEGIN CERTIFICATE-----\n${raw.toString('base64')}\n-----END CERTIFICATE-----\n`;
    let body;
    try {
      body = RenewRequestSchema.parse(JSON.parse(await readBody(req)));
    } catch (err) {
      return reply(res, 400, { error: 'trust.protocol', message: `malformed renewal request: ${(err as Error).message}` });
    }
    try {
      reply(res, 200, await this.o.renewal!.renew(presented, body, from));
    } catch (err) {
      if (err instanceof TrustError && STATUS[err.code] !== undefined) return reply(res, STATUS[err.code]!, { error: err.code, message: err.message });
      reply(res, 500, { error: 'internal', message: 'the hub could not renew the certificate; see its log' });
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new TrustError('trust.protocol', `body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
