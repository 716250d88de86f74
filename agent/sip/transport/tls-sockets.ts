/**
 * SIP over TLS (RFC 3261 §26.2, docs/sip-tls.md): the TLS sockets under the stream transport
 * (tcp-transport.ts), which keeps its framing and connection reuse.
 *
 * - Serving: the `serving` certificate (the node certificate from the hub's CA, or the operator's
 *   `sip.tls.cert`/`sip.tls.key`). A client certificate is asked for but not required: phones
 *   present none (server authentication only). One the fleet's CA issued is read back as the
 *   connection's certified node id (Endpoint.certifiedNode); any other is ignored.
 * - Connecting: the node certificate as client certificate, the server's certificate checked
 *   against the fleet's CA; to a site peer (`expectedNode`) it must name that node id, else the
 *   usual host name check applies.
 */
import { connect as tlsConnect, createServer, checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { parseCertificate } from '../../trust/identity.ts';
import { TransportError } from './errors.ts';
import type { StreamSockets } from './tcp-transport.ts';
import type { Endpoint } from './transport.ts';

export interface TlsSocketsOptions {
  /** What the listener serves (PEM). */
  serving: { key: string; cert: string };
  /** The node's credentials from enrolment (agent/trust tlsOptions): client certificate and the fleet's CA. */
  node?: { key: string; cert: string; ca: string };
  /** The node id expected at `dest` when it is a site peer's SIP address. */
  expectedNode?: (dest: Endpoint) => string | undefined;
  /**
   * Subscribes to renewed credentials (docs/sip-tls.md): `serving` and `node` are read again at
   * each change (listeners take them with setSecureContext) and at each new connection.
   * Returns the unsubscribe.
   */
  watch?: (changed: () => void) => () => void;
}

/** The secure context options of a listener. */
function serverContext(o: TlsSocketsOptions) {
  return {
    key: o.serving.key,
    cert: o.serving.cert,
    ...(o.node ? { ca: o.node.ca } : {}),
  };
}

/** The node id an Outpost certificate (DER) names, or undefined when it names none. */
export function nodeIdOf(der: Buffer | undefined): string | undefined {
  if (!der || der.length === 0) return undefined;
  try {
    const facts = parseCertificate(new X509Certificate(der).toString());
    return facts.role === 'node' ? facts.nodeId : undefined;
  } catch {
    return undefined;
  }
}

export function tlsSockets(o: TlsSocketsOptions): StreamSockets {
  return {
    protocol: 'tls',
    server: (onSocket) => {
      const server = createServer(
        {
          ...serverContext(o),
          minVersion: 'TLSv1.2',
          ...(o.node ? { requestCert: true, rejectUnauthorized: false } : {}),
        },
        onSocket,
      );
      // A renewed certificate is served to the next handshake; open connections keep theirs.
      const unwatch = o.watch?.(() => server.setSecureContext({ ...serverContext(o), minVersion: 'TLSv1.2' }));
      if (unwatch) server.once('close', unwatch);
      return server;
    },
    connect: (dest) =>
      new Promise<Socket>((resolve, reject) => {
        const expected = o.expectedNode?.(dest);
        const socket = tlsConnect({
          host: dest.address,
          port: dest.port,
          minVersion: 'TLSv1.2',
          ...(o.node ? { key: o.node.key, cert: o.node.cert, ca: o.node.ca } : {}),
          rejectUnauthorized: true,
          checkServerIdentity: (host: string, cert: PeerCertificate) => {
            if (expected === undefined) return checkServerIdentity(host, cert);
            const named = nodeIdOf(cert.raw);
            return named === expected ? undefined : new TransportError('transport.connect', `certificate names ${named ?? 'no node'}, expected node ${expected}`);
          },
        });
        const fail = (err: Error) =>
          reject(new TransportError('transport.connect', `tls connect to ${dest.address}:${dest.port} failed: ${err.message}`, { cause: err }));
        socket.once('error', fail);
        socket.once('secureConnect', () => {
          socket.off('error', fail);
          resolve(socket);
        });
      }),
    certifiedNode: (socket) => {
      const s = socket as TLSSocket;
      if (!o.node || !s.authorized) return undefined;
      return nodeIdOf(s.getPeerCertificate()?.raw);
    },
  };
}
