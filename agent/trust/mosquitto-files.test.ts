/** Which boxes Mosquitto's ACL lists and denies, from a real CA's issued certificates, revocations and claims. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { CertificateAuthority } from './ca.ts';
import { ClaimBook, createClaim } from './claim-book.ts';
import { newTlsKey } from './credentials.ts';
import { parseCertificate } from './identity.ts';
import { aclNodes, revokedNodeIds, serverCertificateDue, writeMosquittoFiles } from './mosquitto-files.ts';
import { spkiOfKey } from './x509.ts';

interface Ctx {
  dir: string;
  clock: ManualClock;
  ca: CertificateAuthority;
}

const test = suite<Ctx>('Mosquitto files');

test.before.each(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-mosquitto-files-'));
  ctx.clock = new ManualClock(Date.now());
  ctx.ca = await CertificateAuthority.loadOrCreate({ dataDir: ctx.dir, hubId: 'hub', caDays: 30, clock: ctx.clock });
});

test.after.each((ctx) => rmSync(ctx.dir, { recursive: true, force: true }));

const issue = async (ctx: Ctx, nodeId: string) => {
  const pem = await ctx.ca.issue({ identity: { nodeId, site: 'a', role: 'node', nodeKey: undefined }, publicKey: spkiOfKey(createPrivateKey(newTlsKey())), days: 5 });
  ctx.clock.advance(1000); // notBefore orders the certificates of one node
  return parseCertificate(pem).serial.toLowerCase();
};

test('a revoked box leaves the ACL and is denied everything; a replaced one (open claim) is listed again', async (ctx) => {
  await issue(ctx, 'a1');
  const a2 = await issue(ctx, 'a2');
  const revoked = new Set([a2]);
  const isRevoked = (s: string) => revoked.has(s.toLowerCase());
  assert.equal(aclNodes(ctx.dir, isRevoked, ctx.clock.now()).map((n) => n.nodeId), ['a1']);
  assert.equal(revokedNodeIds(ctx.dir, isRevoked, ctx.clock.now()), ['a2']);
  createClaim(new ClaimBook(ctx.dir), { site: 'a', nodeId: 'a2', ttlMs: 3_600_000, now: ctx.clock.now() });
  assert.equal(aclNodes(ctx.dir, isRevoked, ctx.clock.now()).map((n) => n.nodeId).sort(), ['a1', 'a2']);
  assert.equal(revokedNodeIds(ctx.dir, isRevoked, ctx.clock.now()), []);
});

test('written files: the conf names the CRL, the ACL denies the revoked box after the patterns, the broker certificate is the broker\'s', async (ctx) => {
  await issue(ctx, 'a1');
  const a2 = await issue(ctx, 'a2');
  const out = join(ctx.dir, 'mosquitto');
  const w = await writeMosquittoFiles({
    dir: out, hubDataDir: ctx.dir, hubId: 'hub', ca: ctx.ca, listen: { host: '127.0.0.1', port: 8883 },
    revoked: [{ serial: a2, nodeId: 'a2', revokedAt: ctx.clock.now() }], certificateDays: 5, serverNames: ['127.0.0.1'], newServerCertificate: false, now: ctx.clock.now(),
  });
  assert.equal([w.boxes, w.revoked], [1, 1]);
  assert.match(readFileSync(w.paths.conf, 'utf8'), `crlfile ${w.paths.crlFile}`);
  const acl = readFileSync(w.paths.aclFile, 'utf8');
  assert.match(acl, /user a2\ntopic deny #\n$/);
  assert.not.match(acl, /user a2\ntopic (read|write)/);
  assert.match(readFileSync(w.paths.crlFile, 'utf8'), /^-----BEGIN X509 CRL-----/);
  assert.throws(() => parseCertificate(readFileSync(w.paths.certfile, 'utf8')), /broker's/);
});

test('the hub renews Mosquitto\'s server certificate in its renewal window, not before', async (ctx) => {
  const out = join(ctx.dir, 'mosquitto');
  const write = () => writeMosquittoFiles({
    dir: out, hubDataDir: ctx.dir, hubId: 'hub', ca: ctx.ca, listen: { host: '127.0.0.1', port: 8883 }, revoked: [],
    certificateDays: 90, serverNames: ['127.0.0.1'], newServerCertificate: false, now: ctx.clock.now(), renewWindow: 1 / 3,
  });
  const serial = (w: Awaited<ReturnType<typeof write>>) => new X509Certificate(readFileSync(w.paths.certfile)).serialNumber;
  assert.ok(serverCertificateDue(out, 1 / 3, ctx.clock.now()), 'none yet');
  const first = serial(await write());
  assert.not.ok(serverCertificateDue(out, 1 / 3, ctx.clock.now()));
  ctx.clock.advance(59 * 86_400_000);
  assert.is(serial(await write()), first, 'day 59 of 90: kept');
  ctx.clock.advance(2 * 86_400_000);
  assert.ok(serverCertificateDue(out, 1 / 3, ctx.clock.now()), 'day 61: in the window');
  assert.is.not(serial(await write()), first, 'renewed');
  assert.not.ok(serverCertificateDue(out, 1 / 3, ctx.clock.now()));
});

test.run();
