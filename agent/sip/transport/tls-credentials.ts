/**
 * What the `tls:` listeners serve (docs/sip-tls.md): the operator's `sip.tls.cert`/`sip.tls.key`
 * when given, else the node certificate from enrolment; and the node's credentials for inter-box
 * mutual TLS. Neither: no TLS options (a `tls:` listen entry is then refused at start). With the
 * node's LiveCredentials, a renewed node certificate is served and presented without a restart.
 */
import { readFileSync } from 'node:fs';
import type { Credentials } from '../../trust/credentials.ts';
import { LiveCredentials } from '../../trust/live-credentials.ts';
import { TransportError } from './errors.ts';
import type { TlsSocketsOptions } from './tls-sockets.ts';
import type { Endpoint } from './transport.ts';

export function sipTlsOptions(
  operator: { cert?: string | undefined; key?: string | undefined },
  node: Credentials | LiveCredentials | undefined,
  expectedNode: (dest: Endpoint) => string | undefined,
): { tls?: TlsSocketsOptions } {
  const operatorPem = operator.cert !== undefined && operator.key !== undefined ? { cert: readPem(operator.cert, 'sip.tls.cert'), key: readPem(operator.key, 'sip.tls.key') } : undefined;
  const live = node instanceof LiveCredentials ? node : undefined;
  const current = (): Credentials | undefined => (node instanceof LiveCredentials ? node.current : node);
  if (!operatorPem && !node) return {};
  // Read at each use: the listeners' secure context and each outgoing connection follow a renewal.
  const options: TlsSocketsOptions = {
    get serving() {
      const c = operatorPem ?? current()!;
      return { key: c.key, cert: c.cert };
    },
    expectedNode,
    ...(live ? { watch: (changed: () => void) => live.onChange(changed) } : {}),
  };
  if (node) Object.defineProperty(options, 'node', { get: current, enumerable: true });
  return { tls: options };
}

function readPem(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TransportError('transport.listen', `${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
