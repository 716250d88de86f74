/** RenewalService with a real CA, real CSRs signed by real node keys, on a ManualClock. */
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { CertificateAuthority } from './ca.ts';
import { newTlsKey } from './credentials.ts';
import { TrustError } from './errors.ts';
import { parseCertificate } from './identity.ts';
import { RenewalService } from './renewal-service.ts';
import type { RevokedEntry } from './revocation.ts';
import { spkiOfKey, x509 } from './x509.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

const MIN = 60_000;

interface Ctx {
  dir: string;
  clock: ManualClock;
  ca: CertificateAuthority;
  revoked: Map<string, RevokedEntry>;
  service: RenewalService;
  nodeKey: { publicKey: string; privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'] };
}

const test = suite<Ctx>('RenewalService');

test.before.each(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-renew-'));
  ctx.clock = new ManualClock(Date.now());
  ctx.ca = await CertificateAuthority.loadOrCreate({ dataDir: ctx.dir, hubId: 'hub', caDays: 30, clock: ctx.clock });
  ctx.revoked = new Map();
  ctx.service = new RenewalService({ ca: ctx.ca, revoked: (s) => ctx.revoked.get(s), validityMs: 90 * MIN, clock: ctx.clock, logger: createSilentLogger() });
  const pair = generateKeyPairSync('ed25519');
  ctx.nodeKey = { publicKey: spkiOfKey(pair.publicKey).toString('base64'), privateKey: pair.privateKey };
});

test.after.each((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

async function enrolled(ctx: Ctx, nodeId = 'a1'): Promise<string> {
  return ctx.ca.issue({ identity: { nodeId, site: 'a', role: 'node', nodeKey: ctx.nodeKey.publicKey }, publicKey: spkiOfKey(createPrivateKey(newTlsKey())), validityMs: 90 * MIN });
}

async function request(ctx: Ctx, cn = 'a1') {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${cn}`, keys, signingAlgorithm: alg });
  return { csr: csr.toString('pem'), nodeKeyProof: sign(null, Buffer.from(csr.rawData), ctx.nodeKey.privateKey).toString('base64') };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, TrustError);
    return (err as TrustError).message;
  }
  throw new HarnessError('renewal was not refused');
}

test('a valid certificate renews: same identity and node key, a new serial and a later end', async (ctx) => {
  const pem = await enrolled(ctx);
  const old = parseCertificate(pem);
  ctx.clock.advance(70 * MIN);
  const { certificate } = await ctx.service.renew(pem, await request(ctx), '127.0.0.1');
  const renewed = parseCertificate(certificate);
  assert.equal([renewed.nodeId, renewed.site, renewed.role, renewed.nodeKey], ['a1', 'a', 'node', ctx.nodeKey.publicKey]);
  assert.is.not(renewed.serial, old.serial);
  assert.ok(renewed.notAfter.getTime() > old.notAfter.getTime());
});

test('a revoked certificate does not renew', async (ctx) => {
  const pem = await enrolled(ctx);
  ctx.revoked.set(parseCertificate(pem).serial.toLowerCase(), { nodeId: 'a1', revokedAt: ctx.clock.now() });
  assert.match(await refusal(ctx.service.renew(pem, await request(ctx), 'x')), 'revoked');
});

test('an expired certificate does not renew', async (ctx) => {
  const pem = await enrolled(ctx);
  ctx.clock.advance(91 * MIN);
  assert.match(await refusal(ctx.service.renew(pem, await request(ctx), 'x')), 'expired');
});

test('a request for another id, or a certificate of another CA, is refused', async (ctx) => {
  const pem = await enrolled(ctx);
  assert.match(await refusal(ctx.service.renew(pem, await request(ctx, 'a2'), 'x')), 'names a2');
  const otherDir = mkdtempSync(join(tmpdir(), 'outpost-renew-other-'));
  try {
    const other = await CertificateAuthority.loadOrCreate({ dataDir: otherDir, hubId: 'evil', caDays: 30, clock: ctx.clock });
    const foreign = await other.issue({ identity: { nodeId: 'a1', site: 'a', role: 'node', nodeKey: ctx.nodeKey.publicKey }, publicKey: spkiOfKey(createPrivateKey(newTlsKey())), days: 1 });
    assert.match(await refusal(ctx.service.renew(foreign, await request(ctx), 'x')), 'not issued by this hub');
  } finally {
    rmSync(otherDir, { recursive: true, force: true });
  }
});

test.run();
