/**
 * What the `tls:` listeners serve (docs/sip-tls.md): the operator's `sip.tls.cert`/`sip.tls.key`
 * when given, else the node certificate from enrolment; and the node's credentials for inter-box
 * mutual TLS. Neither: no TLS options (a `tls:` listen entry is then refused at start).
 */
import { readFileSync } from 'node:fs';
import type { Credentials } from '../../trust/credentials.ts';
import { TransportError } from './errors.ts';
import type { TlsSocketsOptions } from './tls-sockets.ts';
import type { Endpoint } from './transport.ts';

export function sipTlsOptions(
  operator: { cert?: string | undefined; key?: string | undefined },
  node: Credentials | undefined,
  expectedNode: (dest: Endpoint) => string | undefined,
): { tls?: TlsSocketsOptions } {
  const serving = operator.cert !== undefined && operator.key !== undefined ? { cert: readPem(operator.cert, 'sip.tls.cert'), key: readPem(operator.key, 'sip.tls.key') } : node;
  if (!serving) return {};
  return { tls: { serving: { key: serving.key, cert: serving.cert }, ...(node ? { node } : {}), expectedNode } };
}

function readPem(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TransportError('transport.listen', `${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
