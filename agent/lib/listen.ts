/**
 * Binding a TCP or HTTP server, shared by the embedded broker and the metrics endpoint: waits
 * for listen() and turns its failure into a short reason ("address in use") for the caller's
 * own error type.
 */
import type { Server } from 'node:net';

/** Resolves once `server` listens on host:port; rejects with listen()'s error. */
export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A short reason for a failed listen(): "address in use" rather than "listen EADDRINUSE: ...". */
export function listenFailureReason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE': return 'address in use';
    case 'EACCES': return 'permission denied';
    case 'EADDRNOTAVAIL': return 'address not available on this host';
    case 'ENOTFOUND': return 'host not found';
    default: return err instanceof Error ? err.message : String(err);
  }
}

/** `host:port`, an IPv6 host in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
