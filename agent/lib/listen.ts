/**
 * Binding a TCP or HTTP server, shared by the embedded broker, the metrics endpoint and SIP over
 * TCP: waits for listen() and turns its failure into a BindError carrying the address, whose
 * short reason ("address in use") the caller puts into its own error type.
 */
import type { Server } from 'node:net';
import { BindError, bindFailureReason } from './errors.ts';

/** Resolves once `server` listens on host:port; rejects with a BindError (listen()'s error as cause). */
export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new BindError('tcp', host, port, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** A short reason for a failed listen(): "address in use" rather than "listen EADDRINUSE: ...". */
export const listenFailureReason = bindFailureReason;

/** `host:port`, an IPv6 host in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
