/**
 * The hub's bundle route over real HTTPS on 127.0.0.1 port 0 (the enrolment server with
 * `routes`): an enrolled box downloads a bundle with its node certificate (bundle-download.ts)
 * and gets Content-Length and the file's bytes; no certificate, a revoked one, a bad name and a
 * missing file are refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { ClaimBook, createClaim } from '../trust/claim-book.ts';
import { tlsOptions, type Credentials } from '../trust/credentials.ts';
import { joinHub } from '../trust/enrol-client.ts';
import { EnrolServer } from '../trust/enrol-server.ts';
import { EnrolmentService } from '../trust/enrolment-service.ts';
import { ensureHubCredentials } from '../trust/hub-credentials.ts';
import { parseCertificate } from '../trust/identity.ts';
import type { RevokedEntry } from '../trust/revocation.ts';
import { spkiOfKey } from '../trust/x509.ts';
import { downloadBundle } from './bundle-download.ts';
import { bundleRoute } from './bundle-route.ts';
import { UpdateError } from './errors.ts';

interface World {
  dir: string;
  server: EnrolServer;
  box: Credentials;
  revoked: Map<string, RevokedEntry>;
  bundle: Buffer;
}

const nodeKey = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { publicKey: spkiOfKey(publicKey).toString('base64'), sign: (bytes: Buffer) => sign(null, bytes, privateKey) };
};

function get(url: string, creds: Partial<Credentials>): Promise<{ status: number; length: string | undefined }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ...creds, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, length: res.headers['content-length'] });
    }).on('error', reject);
  });
}

const test = suite<World>('bundle route (hub)');

test.before.each(async (w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-bundle-route-'));
  const clock = new ManualClock(Date.now());
  const hubDir = join(w.dir, 'hub');
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: hubDir, hubId: 'hub', caDays: 3650, clock });
  const credentials = await ensureHubCredentials(ca, { dataDir: hubDir, hubId: 'hub', nodeKey: nodeKey().publicKey, serverNames: ['localhost', '127.0.0.1'], days: 90 });
  const book = new ClaimBook(hubDir);
  const logger = createSilentLogger();
  const service = new EnrolmentService({ ca, claims: book, hubId: 'hub', certificateDays: 90, clock, logger });
  const bundles = join(hubDir, 'bundles');
  mkdirSync(bundles);
  w.bundle = Buffer.alloc(300_000, 7);
  writeFileSync(join(bundles, 'outpost-arm64-2.0.raucb'), w.bundle);
  w.revoked = new Map();
  w.server = new EnrolServer({ host: '127.0.0.1', port: 0, credentials, service, routes: [bundleRoute({ dir: bundles, revoked: (s) => w.revoked.get(s), logger })], maxFailures: 5, failureWindowMs: 600_000, clock, logger });
  await w.server.start();
  const { code } = createClaim(book, { site: 'a', nodeId: 'a1', ttlMs: 3_600_000, now: clock.now() });
  const boxDir = join(w.dir, 'a1');
  mkdirSync(boxDir);
  await joinHub({ hubUrl: w.server.url, code, nodeId: 'a1', site: 'a', dataDir: boxDir, nodeKey: nodeKey() });
  w.box = tlsOptions(boxDir);
});

test.after.each(async (w) => {
  await w.server.stop();
  rmSync(w.dir, { recursive: true, force: true });
});

test('an enrolled box downloads the bundle, with Content-Length, streamed to the same bytes', async (w) => {
  const url = `${w.server.url}/v1/bundles/outpost-arm64-2.0.raucb`;
  assert.equal(await get(url, w.box), { status: 200, length: String(w.bundle.length) });
  const d = await downloadBundle(url, join(w.dir, 'got.raucb'), w.box, 10_000);
  assert.is(d.bytes, w.bundle.length);
  assert.is(d.sha256, createHash('sha256').update(w.bundle).digest('hex'));
});

test('refused: no client certificate, a revoked one, a bad name, a missing file', async (w) => {
  const base = `${w.server.url}/v1/bundles/`;
  assert.is((await get(`${base}outpost-arm64-2.0.raucb`, {})).status, 401);
  assert.is((await get(`${base}..%2Fca.key`, w.box)).status, 400);
  assert.is((await get(`${base}outpost-arm64-9.9.raucb`, w.box)).status, 404);
  w.revoked.set(parseCertificate(w.box.cert).serial.toLowerCase(), { nodeId: 'a1', revokedAt: 1 });
  assert.is((await get(`${base}outpost-arm64-2.0.raucb`, w.box)).status, 403);
  try {
    await downloadBundle(`${base}outpost-arm64-2.0.raucb`, join(w.dir, 'no.raucb'), w.box, 10_000);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, UpdateError);
    assert.match((err as Error).message, /answered 403/);
  }
});

test.run();
