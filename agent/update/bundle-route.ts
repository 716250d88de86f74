/**
 * The hub's bundle files (docs/updates.md): `GET /v1/bundles/NAME` on the enrolment server,
 * streamed from `<dataDir>/bundles/` with Content-Length, only over a TLS connection whose
 * client certificate the hub's CA verified, of a box (role node) that is not revoked.
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parseCertificate } from '../trust/identity.ts';
import { revocationReason, type RevocationLookup } from '../trust/revocation.ts';
import type { Logger } from '../lib/logger.ts';

export const BUNDLE_PATH = '/v1/bundles/';
export const BUNDLE_DIR = 'bundles';
/** A bundle's file name: no path, no leading dot. */
export const BUNDLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$/;

export interface BundleRouteOptions {
  /** The folder bundles are served from (`<hub dataDir>/bundles`). */
  dir: string;
  revoked: RevocationLookup;
  logger: Logger;
}

function refuse(res: ServerResponse, status: number, error: string, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify({ error, message }));
}

/** Serves one bundle request (the path starts with BUNDLE_PATH). */
export function serveBundle(o: BundleRouteOptions, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method', 'use GET');
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return refuse(res, 401, 'update.auth', "bundles are served to boxes presenting their node certificate");
  const facts = parseCertificate(`-----BEGIN CERTIFICATE-----\n${socket.getPeerCertificate().raw.toString('base64')}\n-----END CERTIFICATE-----\n`);
  if (facts.role !== 'node') return refuse(res, 403, 'update.auth', 'bundles are served to boxes only');
  const revoked = revocationReason(facts.serial, o.revoked);
  if (revoked !== undefined) {
    o.logger.warn({ node: facts.nodeId, reason: revoked }, 'bundle refused');
    return refuse(res, 403, 'update.auth', revoked);
  }
  const name = decodeURIComponent((req.url ?? '').split('?')[0]!.slice(BUNDLE_PATH.length));
  if (!BUNDLE_NAME.test(name)) return refuse(res, 400, 'update.name', 'a bundle is named by its file name');
  const file = join(o.dir, name);
  let size: number | undefined;
  try {
    const st = statSync(file);
    if (st.isFile()) size = st.size;
  } catch {
    // Missing or unreadable: refused below like a folder.
  }
  if (size === undefined) return refuse(res, 404, 'not-found', `no bundle ${name} at this hub`);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size), 'Cache-Control': 'no-store' });
  if (req.method === 'HEAD') return void res.end();
  o.logger.info({ node: facts.nodeId, bundle: name, bytes: size }, 'bundle download');
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** The route for the enrol server's `routes` (agent/trust/enrol-server.ts). */
export function bundleRoute(o: BundleRouteOptions): { prefix: string; handle(req: IncomingMessage, res: ServerResponse): void } {
  return { prefix: BUNDLE_PATH, handle: (req, res) => serveBundle(o, req, res) };
}
