/**
 * A box's HTTPS requests to the hub's enrolment endpoint (docs/enrolment.md): enrolment, where
 * the box cannot check the hub's certificate yet (the claim code's MAC authenticates the answer
 * instead), and renewal, over mutual TLS with the box's current certificate. Both POST JSON and
 * read a JSON answer; a refusal becomes a TrustError naming what was refused.
 */
import https from 'node:https';
import { EnrolRefusalSchema } from './enrol-protocol.ts';
import { TrustError, type TrustErrorCode } from './errors.ts';

/** How the box's side of the TLS connection is set up. */
export type HubTls =
  /** Enrolment: the hub's certificate is not checked here (the answer's MAC is). */
  | { kind: 'unverified' }
  /** Renewal: the box's key and certificate, and the CA the hub's certificate must chain to. */
  | { kind: 'mutual'; key: string; cert: string; ca: string };

export interface HubAnswer {
  status: number;
  /** The parsed JSON body; undefined when it was not JSON. */
  body: unknown;
}

/** POSTs `body` as JSON to `path` of the hub's endpoint `https://host:port`. Network failures reject with TrustError. */
export function postToHub(hubUrl: string, path: string, body: object, tls: HubTls, timeoutMs: number): Promise<HubAnswer> {
  let url: URL;
  try {
    url = new URL(path, hubUrl);
  } catch {
    return Promise.reject(invalidHubAddress(hubUrl));
  }
  if (url.protocol !== 'https:') return Promise.reject(invalidHubAddress(hubUrl));
  const payload = JSON.stringify(body);
  const tlsOptions = tls.kind === 'mutual' ? { key: tls.key, cert: tls.cert, ca: tls.ca } : { rejectUnauthorized: false };
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) };
    const req = https.request(url, { method: 'POST', ...tlsOptions, timeout: timeoutMs, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parseJson(Buffer.concat(chunks)) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new TrustError('trust.unreachable', `the hub at ${url.origin} did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      reject(err instanceof TrustError ? err : new TrustError('trust.unreachable', `cannot reach the hub at ${url.origin}: ${code}`, { cause: err }));
    });
    req.end(payload);
  });
}

/** The error for an answer other than 200: the hub's own code and message when it sent a refusal. */
export function refusalOf(what: 'enrolment' | 'renewal', answer: HubAnswer): TrustError {
  const refusal = EnrolRefusalSchema.safeParse(answer.body);
  const code = (refusal.success && refusal.data.error.startsWith('trust.') ? refusal.data.error : 'trust.protocol') as TrustErrorCode;
  return new TrustError(code, `the hub refused the ${what}: ${refusal.success ? refusal.data.message : `HTTP ${answer.status}`}`);
}

function invalidHubAddress(hubUrl: string): TrustError {
  return new TrustError('trust.protocol', `invalid hub address "${hubUrl}": expected https://host:port`);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
