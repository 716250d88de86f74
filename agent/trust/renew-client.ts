/**
 * A box's side of a renewal (docs/enrolment.md "Renewal"): asks the hub's enrolment endpoint
 * for a new certificate over mutual TLS with its current one, for the same TLS key (so only
 * `node.crt` changes), checks the answer (signed by the CA it already trusts, same key, same
 * identity) and installs it atomically: a temporary file, then one rename over `node.crt`.
 */
import { renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { credentialPaths, readCredentials } from './credentials.ts';
import type { NodeKeySigner } from './enrol-client.ts';
import { EnrolRefusalSchema, RENEW_PATH, RenewResponseSchema } from './enrol-protocol.ts';
import { TrustError, type TrustErrorCode } from './errors.ts';
import { parseCertificate, type CertificateFacts } from './identity.ts';
import { EC_ALGORITHM, spkiOfKey, webKeysOf, x509 } from './x509.ts';

export interface RenewOptions {
  /** `https://host:port` of the hub's enrolment endpoint. */
  hubUrl: string;
  dataDir: string;
  nodeKey: NodeKeySigner;
  timeoutMs?: number;
}

/** Renews the certificate in `dataDir`; returns the new one's facts. Throws TrustError. */
export async function renewCertificate(o: RenewOptions): Promise<CertificateFacts> {
  const current = readCredentials(o.dataDir);
  const facts = parseCertificate(current.cert);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${facts.nodeId}`, keys: await webKeysOf(current.key), signingAlgorithm: EC_ALGORITHM });
  const body = { csr: csr.toString('pem'), nodeKeyProof: o.nodeKey.sign(new Uint8Array(csr.rawData)).toString('base64') };
  const { status, body: answer } = await post(o.hubUrl, body, current, o.timeoutMs ?? 15_000);
  if (status !== 200) {
    const refusal = EnrolRefusalSchema.safeParse(answer);
    const code = (refusal.success && refusal.data.error.startsWith('trust.') ? refusal.data.error : 'trust.protocol') as TrustErrorCode;
    throw new TrustError(code, `the hub refused the renewal: ${refusal.success ? refusal.data.message : `HTTP ${status}`}`);
  }
  const parsed = RenewResponseSchema.safeParse(answer);
  if (!parsed.success) throw new TrustError('trust.protocol', 'the hub answered with something that is not a renewal response');
  const cert = new X509Certificate(parsed.data.certificate);
  if (!cert.verify(new X509Certificate(current.ca).publicKey)) throw new TrustError('trust.certificate', 'the renewed certificate is not signed by the CA this box trusts');
  if (!spkiOfKey(cert.publicKey).equals(spkiOfKey(createPrivateKey(current.key)))) throw new TrustError('trust.certificate', 'the renewed certificate certifies another key');
  const renewed = parseCertificate(parsed.data.certificate);
  if (renewed.nodeId !== facts.nodeId || renewed.site !== facts.site || renewed.role !== facts.role || renewed.nodeKey !== facts.nodeKey) {
    throw new TrustError('trust.certificate', 'the renewed certificate names another identity');
  }
  const path = credentialPaths(o.dataDir).cert;
  try {
    writeFileSync(`${path}.renewed`, parsed.data.certificate.endsWith('\n') ? parsed.data.certificate : `${parsed.data.certificate}\n`, { mode: 0o644 });
    renameSync(`${path}.renewed`, path);
  } catch (err) {
    throw new TrustError('trust.files', `cannot install the renewed certificate at ${path}: ${(err as Error).message}`, { cause: err });
  }
  return renewed;
}

function post(hubUrl: string, body: object, c: { key: string; cert: string; ca: string }, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let url: URL;
  try {
    url = new URL(RENEW_PATH, hubUrl);
  } catch {
    return Promise.reject(new TrustError('trust.protocol', `invalid hub address "${hubUrl}": expected https://host:port`));
  }
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', key: c.key, cert: c.cert, ca: c.ca, timeout: timeoutMs, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new TrustError('trust.unreachable', `the hub at ${url.origin} did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => reject(err instanceof TrustError ? err : new TrustError('trust.unreachable', `cannot reach the hub at ${url.origin}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
    req.end(payload);
  });
}
