/**
 * The enrolment endpoint over real HTTPS on 127.0.0.1 port 0: the box's joinHub() against it,
 * the statuses of the shell, and the failure limit per source address on a ManualClock. Then the
 * credentials both sides hold make a mutual TLS connection (what the brokers will use).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { CertificateAuthority } from './ca.ts';
import { ClaimBook, createClaim } from './claim-book.ts';
import { tlsOptions, type Credentials } from './credentials.ts';
import { joinHub, type NodeKeySigner } from './enrol-client.ts';
import { EnrolServer } from './enrol-server.ts';
import { EnrolmentService } from './enrolment-service.ts';
import { TrustError } from './errors.ts';
import { ensureHubCredentials } from './hub-credentials.ts';
import { parseCertificate } from './identity.ts';
import { spkiOfKey } from './x509.ts';

const HOUR = 3_600_000;

function nodeKey(): NodeKeySigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { publicKey: spkiOfKey(publicKey).toString('base64'), sign: (bytes) => sign(null, bytes, privateKey) };
}

interface World {
  dir: string;
  clock: ManualClock;
  book: ClaimBook;
  hubCredentials: Credentials;
  server: EnrolServer;
}

async function post(url: string, body: string): Promise<{ status: number; retryAfter: string | undefined; json: { error?: string } }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(new URL('/v1/enrol', url), { method: 'POST', rejectUnauthorized: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, json: JSON.parse(text) as { error?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const test = suite<World>('EnrolServer');

test.before.each(async (w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-enrol-server-'));
  // Real time as the start: the certificates must be valid for the TLS handshake below.
  w.clock = new ManualClock(Date.now());
  const hubDir = join(w.dir, 'hub');
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: hubDir, hubId: 'hub', caDays: 3650, clock: w.clock });
  w.hubCredentials = await ensureHubCredentials(ca, { dataDir: hubDir, hubId: 'hub', nodeKey: nodeKey().publicKey, serverNames: ['localhost', '127.0.0.1'], days: 90 });
  w.book = new ClaimBook(hubDir);
  const logger = createSilentLogger();
  const service = new EnrolmentService({ ca, claims: w.book, hubId: 'hub', certificateDays: 90, clock: w.clock, logger });
  w.server = new EnrolServer({ host: '127.0.0.1', port: 0, credentials: w.hubCredentials, service, maxFailures: 2, failureWindowMs: 600_000, clock: w.clock, logger });
  await w.server.start();
});

test.after.each(async (w) => {
  await w.server.stop();
  rmSync(w.dir, { recursive: true, force: true });
});

test('a box joins over HTTPS; its credentials and the hub\'s make a mutual TLS connection that names both', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  const boxDir = mkdtempSync(join(w.dir, 'a1-'));
  const key = nodeKey();
  const joined = await joinHub({ hubUrl: w.server.url, code, nodeId: 'a1', site: 'branch-a', dataDir: boxDir, nodeKey: key });
  assert.equal([joined.certificate.nodeId, joined.certificate.site, joined.certificate.nodeKey], ['a1', 'branch-a', key.publicKey]);

  const box = tlsOptions(boxDir);
  const server = tls.createServer({ ...w.hubCredentials, requestCert: true, rejectUnauthorized: true });
  const peerOfServer = new Promise<string>((resolve) => server.once('secureConnection', (s) => resolve(s.getPeerCertificate().subjectaltname ?? '')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const client = tls.connect({ ...box, host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
    assert.ok(client.authorized, String(client.authorizationError));
    assert.is(parseCertificate(w.hubCredentials.cert).role, 'hub');
    assert.match(await peerOfServer, /URI:urn:outpost:node:a1/);
    client.end();
  } finally {
    server.close();
  }
});

test('statuses: 404 for another path, 400 for a malformed body, then 429 with Retry-After once an address failed maxFailures times', async (w) => {
  const https = await import('node:https');
  const status404 = await new Promise<number>((resolve, reject) => https.get(new URL('/other', w.server.url), { rejectUnauthorized: false }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject));
  assert.is(status404, 404);
  assert.is((await post(w.server.url, 'not json')).status, 400);
  assert.is((await post(w.server.url, JSON.stringify({ v: 1 }))).status, 400);
  const limited = await post(w.server.url, 'not json');
  assert.is(limited.status, 429);
  assert.is(limited.json.error, 'trust.rate-limited');
  assert.is(limited.retryAfter, '600');
  w.clock.advance(600_000);
  assert.is((await post(w.server.url, 'not json')).status, 400, 'allowed again once the window passed');
});

test('joinHub reports a refusal with the hub\'s code, and an unreachable hub', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: 'a1', ttlMs: HOUR, now: w.clock.now() });
  const boxDir = mkdtempSync(join(w.dir, 'box-'));
  try {
    await joinHub({ hubUrl: w.server.url, code, nodeId: 'a2', site: 'branch-a', dataDir: boxDir, nodeKey: nodeKey() });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TrustError);
    assert.is((err as TrustError).code, 'trust.claim-node');
  }
  await w.server.stop();
  try {
    await joinHub({ hubUrl: w.server.url, code, nodeId: 'a1', site: 'branch-a', dataDir: boxDir, nodeKey: nodeKey() });
    assert.unreachable();
  } catch (err) {
    assert.is((err as TrustError).code, 'trust.unreachable');
  }
});

test.run();
