/**
 * A box's side of a renewal (docs/enrolment.md "Renewal"): asks the hub's enrolment endpoint
 * for a new certificate over mutual TLS with its current one, for the same TLS key (so only
 * `node.crt` changes), checks the answer (signed by the CA it already trusts, same key, same
 * identity) and installs it atomically: a temporary file, then one rename over `node.crt`.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { credentialPaths, readCredentials } from './credentials.ts';
import type { NodeKeySigner } from './enrol-client.ts';
import { RENEW_PATH, RenewResponseSchema } from './enrol-protocol.ts';
import { TrustError } from './errors.ts';
import { postToHub, refusalOf } from './hub-request.ts';
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
  const answer = await postToHub(o.hubUrl, RENEW_PATH, body, { kind: 'mutual', ...current }, o.timeoutMs ?? 15_000);
  if (answer.status !== 200) throw refusalOf('renewal', answer);
  const parsed = RenewResponseSchema.safeParse(answer.body);
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
