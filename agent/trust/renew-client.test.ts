/**
 * Renewal over real HTTPS in process: the hub's EnrolServer with a RenewalService, a box's data
 * directory with credentials from the same CA, renewCertificate with its node key.
 */
import { createPrivateKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { CertificateAuthority } from './ca.ts';
import { ClaimBook } from './claim-book.ts';
import { newTlsKey, writeCredentials } from './credentials.ts';
import type { NodeKeySigner } from './enrol-client.ts';
import { EnrolServer } from './enrol-server.ts';
import { EnrolmentService } from './enrolment-service.ts';
import { TrustError } from './errors.ts';
import { ensureHubCredentials } from './hub-credentials.ts';
import { parseCertificate } from './identity.ts';
import { renewCertificate } from './renew-client.ts';
import { RenewalService } from './renewal-service.ts';
import type { RevokedEntry } from './revocation.ts';
import { spkiOfKey } from './x509.ts';

const MIN = 60_000;

/** An ed25519 node key as the box's NodeKey presents it (agent/sync/node-key.ts). */
function nodeKey(): NodeKeySigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: spkiOfKey(publicKey).toString('base64'), sign: (bytes) => sign(null, bytes, privateKey) };
}

interface World {
  dir: string;
  boxDir: string;
  server: EnrolServer;
  revoked: Map<string, RevokedEntry>;
  nodeKey: NodeKeySigner;
}

const test = suite<World>('renewCertificate against the EnrolServer');


test.before.each(async (w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-renew-client-'));
  const clock = new ManualClock(Date.now());
  const hubDir = join(w.dir, 'hub');
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: hubDir, hubId: 'hub', caDays: 3650, clock });
  const hubKey = nodeKey();
  const credentials = await ensureHubCredentials(ca, { dataDir: hubDir, hubId: 'hub', nodeKey: hubKey.publicKey, serverNames: ['localhost', '127.0.0.1'], days: 90 });
  const logger = createSilentLogger();
  w.revoked = new Map();
  const renewal = new RenewalService({ ca, revoked: (s) => w.revoked.get(s), validityMs: 90 * MIN, clock, logger });
  const service = new EnrolmentService({ ca, claims: new ClaimBook(hubDir), hubId: 'hub', certificateDays: 90, clock, logger });
  w.server = new EnrolServer({ host: '127.0.0.1', port: 0, credentials, service, renewal, maxFailures: 5, failureWindowMs: 600_000, clock, logger });
  await w.server.start();
  w.boxDir = join(w.dir, 'a1');
  mkdirSync(w.boxDir);
  w.nodeKey = nodeKey();
  const key = newTlsKey();
  const cert = await ca.issue({ identity: { nodeId: 'a1', site: 'a', role: 'node', nodeKey: w.nodeKey.publicKey }, publicKey: spkiOfKey(createPrivateKey(key)), validityMs: 30 * MIN });
  writeCredentials(w.boxDir, { key, cert, ca: ca.certificatePem });
});

test.after.each(async (w) => {
  await w.server.stop();
  rmSync(w.dir, { recursive: true, force: true });
});

const certOf = (w: World) => readFileSync(join(w.boxDir, 'node.crt'), 'utf8');

test('a box renews over mTLS: a new node.crt for the same key and identity, valid longer', async (w) => {
  const before = parseCertificate(certOf(w));
  const renewed = await renewCertificate({ hubUrl: w.server.url, dataDir: w.boxDir, nodeKey: w.nodeKey });
  const after = parseCertificate(certOf(w));
  assert.is(after.serial, renewed.serial);
  assert.is.not(after.serial, before.serial);
  assert.equal([after.nodeId, after.site, after.nodeKey], ['a1', 'a', w.nodeKey.publicKey]);
  assert.ok(after.notAfter.getTime() > before.notAfter.getTime());
  assert.ok(new X509Certificate(certOf(w)).checkPrivateKey(createPrivateKey(readFileSync(join(w.boxDir, 'node-tls.key'), 'utf8'))));
});

test('a revoked box is refused (403 trust.renewal) and its node.crt stays', async (w) => {
  const before = certOf(w);
  w.revoked.set(parseCertificate(before).serial.toLowerCase(), { nodeId: 'a1', revokedAt: 0 });
  try {
    await renewCertificate({ hubUrl: w.server.url, dataDir: w.boxDir, nodeKey: w.nodeKey });
    assert.unreachable('renewed a revoked certificate');
  } catch (err) {
    assert.instance(err, TrustError);
    assert.is((err as TrustError).code, 'trust.renewal');
  }
  assert.is(certOf(w), before);
});

test.run();
