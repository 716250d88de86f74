/**
 * The hub's certificate authority: an ECDSA P-256 key and a self-signed certificate in
 * `<hub dataDir>/ca/` (ca.key mode 0600, ca.crt), created at the hub's first start. It issues
 * node and hub certificates of the profile in identity.ts and keeps a copy of each in
 * `ca/issued/<node id>.<serial>.pem` (what revocation will list); an external broker's server
 * certificate (role `broker`) goes to `ca/brokers/` instead, so it is never taken for a node's.
 * It signs the CRL of the revoked certificates (crl(), for Mosquitto's `crlfile`). The key is
 * never logged or sent.
 */
import { generateKeyPairSync, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../lib/clock.ts';
import { TrustError } from './errors.ts';
import { identityExtensions, type CertifiedIdentity } from './identity.ts';
import { EC_ALGORITHM, webKeysOf, x509 } from './x509.ts';

export const CA_DIR = 'ca';
export const CA_KEY_FILE = 'ca.key';
export const CA_CERT_FILE = 'ca.crt';
/** Under `ca/issued/`: the admins' certificates. */
export const ADMIN_DIR = 'admin';
const DAY_MS = 86_400_000;
/** Certificates start a little in the past, so a box whose clock is a few minutes behind accepts them. */
/** notBefore lies this far before the issue (clock skew between hub and boxes); renewal-schedule.ts counts from the issue. */
export const BACKDATE_MS = 5 * 60_000;

export interface CaOptions {
  /** The hub's data directory; the CA lives in its `ca/` folder. */
  dataDir: string;
  /** Shown in the CA's subject (`CN=Outpost CA <hubId>`). */
  hubId: string;
  /** Validity of the CA certificate made at first start. */
  caDays: number;
  clock: Clock;
}

export interface IssueRequest {
  identity: CertifiedIdentity;
  /** The certified public key, SPKI DER. */
  publicKey: Uint8Array;
  /** Validity in days, or in ms with `validityMs` (which wins: `ca.certificateValidity`). */
  days?: number;
  validityMs?: number;
  /** DNS names and IP addresses the holder serves under (the hub's certificate). */
  serverNames?: readonly string[];
}

export class CertificateAuthority {
  /** The CA certificate, PEM. */
  readonly certificatePem: string;
  private keys: CryptoKeyPair | undefined;

  private constructor(
    private readonly dir: string,
    private readonly keyPem: string,
    certificatePem: string,
    private readonly clock: Clock,
  ) {
    this.certificatePem = certificatePem;
  }

  /** Loads the CA of a hub's data directory, creating it there on first use. */
  static async loadOrCreate(options: CaOptions): Promise<CertificateAuthority> {
    const dir = join(options.dataDir, CA_DIR);
    const keyFile = join(dir, CA_KEY_FILE);
    const certFile = join(dir, CA_CERT_FILE);
    if (existsSync(keyFile) !== existsSync(certFile)) {
      throw new TrustError('trust.ca', `${dir} holds only one of ${CA_KEY_FILE} and ${CA_CERT_FILE}; restore the other from a backup (a new CA would orphan every enrolled box)`);
    }
    if (existsSync(keyFile)) {
      try {
        return new CertificateAuthority(dir, readFileSync(keyFile, 'utf8'), readFileSync(certFile, 'utf8').trim(), options.clock);
      } catch (err) {
        throw new TrustError('trust.ca', `cannot read the CA in ${dir}: ${(err as Error).message}`, { cause: err });
      }
    }
    mkdirSync(join(dir, 'issued'), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keys = await webKeysOf(keyPem);
    const now = options.clock.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerial(),
      name: `CN=Outpost CA ${options.hubId}, O=Outpost`,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + options.caDays * DAY_MS),
      signingAlgorithm: EC_ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const certificatePem = cert.toString('pem');
    // The key first and exclusively: two hubs starting on one data dir cannot both make a CA.
    writeFileSync(keyFile, keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(certFile, `${certificatePem}\n`, { mode: 0o644, flag: 'wx' });
    return new CertificateAuthority(dir, keyPem, certificatePem, options.clock);
  }

  /** When the CA certificate expires. */
  get notAfter(): Date {
    return new Date(new NodeX509(this.certificatePem).validTo);
  }

  /** Signs a certificate for `request` and records it in `ca/issued/`; returns the PEM. */
  async issue(request: IssueRequest): Promise<string> {
    this.keys ??= await webKeysOf(this.keyPem);
    const ca = new x509.X509Certificate(this.certificatePem);
    const publicKey = new x509.PublicKey(Uint8Array.from(request.publicKey).buffer);
    const now = this.clock.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: newSerial(),
      subject: `CN=${request.identity.nodeId}`,
      issuer: ca.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + (request.validityMs ?? (request.days ?? 90) * DAY_MS)),
      signingAlgorithm: EC_ALGORITHM,
      publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        ...identityExtensions(request.identity, request.serverNames),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
    const pem = cert.toString('pem');
    // Admins' certificates apart (issued/admin/), and external brokers' (brokers/): the node ids of issued/ stay boxes and the hub.
    const folder = request.identity.role === 'admin' ? join(this.dir, 'issued', ADMIN_DIR) : join(this.dir, request.identity.role === 'broker' ? 'brokers' : 'issued');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(join(folder, `${request.identity.nodeId}.${cert.serialNumber}.pem`), `${pem}\n`, { mode: 0o644, flag: 'wx' });
    return pem;
  }

  /**
   * A CRL (PEM) listing `revoked` (serials in hex), signed by the CA, valid from now for
   * `validityMs` (its nextUpdate; a verifier may refuse every client once it passed).
   */
  async crl(revoked: ReadonlyArray<{ serial: string; revokedAt: number }>, validityMs: number): Promise<string> {
    this.keys ??= await webKeysOf(this.keyPem);
    const ca = new x509.X509Certificate(this.certificatePem);
    const now = this.clock.now();
    const crl = await x509.X509CrlGenerator.create({
      issuer: ca.subject,
      thisUpdate: new Date(now - BACKDATE_MS),
      nextUpdate: new Date(now + validityMs),
      signingAlgorithm: EC_ALGORITHM,
      signingKey: this.keys.privateKey,
      entries: revoked.map((r) => ({ serialNumber: r.serial.toLowerCase(), revocationDate: new Date(r.revokedAt) })),
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca, false)],
    });
    // OpenSSL (Mosquitto's crlfile) reads only the label `X509 CRL` (RFC 7468 §5).
    const body = Buffer.from(crl.rawData).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
    return `-----BEGIN X509 CRL-----\n${body}\n-----END X509 CRL-----\n`;
  }

  /** True when this CA ever issued a certificate for `nodeId` (revocation will refine this). */
  isCertified(nodeId: string): boolean {
    return readdirSync(join(this.dir, 'issued')).some((f) => f.startsWith(`${nodeId}.`));
  }

  /** True when this CA ever issued an admin's certificate for `name` (issued/admin/). */
  isCertifiedAdmin(name: string): boolean {
    const dir = join(this.dir, 'issued', ADMIN_DIR);
    return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(`${name}.`));
  }

  /** True when `pem` was signed by this CA (signature only; dates and revocation are the caller's). */
  signed(pem: string): boolean {
    try {
      return new NodeX509(pem).verify(new NodeX509(this.certificatePem).publicKey);
    } catch {
      return false;
    }
  }
}

/** A random positive 127-bit serial, hex (RFC 5280 §4.1.2.2: unique, at most 20 octets). */
function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}
