import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { CertificateAuthority } from './ca.ts';
import { newTlsKey } from './credentials.ts';
import { TrustError } from './errors.ts';
import { parseCertificate } from './identity.ts';
import { spkiOfKey } from './x509.ts';

const DAY = 86_400_000;
const nodeKeyB64 = () => spkiOfKey(generateKeyPairSync('ed25519').publicKey).toString('base64');

const ca = suite<{ dir: string }>('CertificateAuthority');

ca.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-ca-'));
});
ca.after.each((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

ca('made at first use: ca.key mode 0600, a self-signed P-256 CA; loaded, not remade, the second time', async ({ dir }) => {
  const clock = new ManualClock();
  const first = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 3650, clock });
  assert.is(statSync(join(dir, 'ca/ca.key')).mode & 0o777, 0o600);
  const cert = new X509Certificate(readFileSync(join(dir, 'ca/ca.crt')));
  assert.ok(cert.ca);
  assert.ok(cert.verify(cert.publicKey));
  assert.is(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.is(new Date(cert.validTo).getTime() > clock.now() + 3649 * DAY, true);
  const again = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 3650, clock });
  assert.is(again.certificatePem, first.certificatePem);
});

ca('refuses a data dir that holds only the certificate (a lost key is not silently replaced)', async ({ dir }) => {
  const clock = new ManualClock();
  await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 10, clock });
  rmSync(join(dir, 'ca/ca.key'));
  try {
    await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 10, clock });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TrustError);
    assert.is((err as TrustError).code, 'trust.ca');
  }
});

ca('profile round trip: issue a box certificate, then read node id, site, role, node key and validity back', async ({ dir }) => {
  const clock = new ManualClock();
  const authority = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 3650, clock });
  const key = newTlsKey();
  const nodeKey = nodeKeyB64();
  const pem = await authority.issue({ identity: { nodeId: 'a1', site: 'branch-a', role: 'node', nodeKey }, publicKey: spkiOfKey(createPrivateKey(key)), days: 90 });
  const facts = parseCertificate(pem);
  assert.equal({ nodeId: facts.nodeId, site: facts.site, role: facts.role, nodeKey: facts.nodeKey }, { nodeId: 'a1', site: 'branch-a', role: 'node', nodeKey });
  assert.is(Math.round((facts.notAfter.getTime() - clock.now()) / DAY), 90);
  assert.ok(authority.signed(pem));
  assert.ok(authority.isCertified('a1'));
  assert.not.ok(authority.isCertified('a'));
  const x = new X509Certificate(pem);
  assert.is(x.subject, 'CN=a1');
  assert.ok(x.checkIssued(new X509Certificate(authority.certificatePem)));
  assert.ok(spkiOfKey(x.publicKey).equals(spkiOfKey(createPrivateKey(key))));
  assert.is(x.keyUsage?.sort().join(','), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'].join(','));
  assert.not.ok(x.ca);
});

ca('the hub\'s certificate: role hub, no site, its server names as DNS and IP SANs', async ({ dir }) => {
  const clock = new ManualClock();
  const authority = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 3650, clock });
  const pem = await authority.issue({
    identity: { nodeId: 'hub', site: '', role: 'hub', nodeKey: undefined },
    publicKey: spkiOfKey(createPrivateKey(newTlsKey())),
    days: 90,
    serverNames: ['hub.example', '127.0.0.1'],
  });
  const facts = parseCertificate(pem);
  assert.equal([facts.nodeId, facts.site, facts.role, facts.nodeKey], ['hub', '', 'hub', undefined]);
  const x = new X509Certificate(pem);
  assert.ok(x.checkHost('hub.example'));
  assert.ok(x.checkIP('127.0.0.1'));
});

ca('parseCertificate refuses a certificate outside the profile (the CA\'s own: no node id)', async ({ dir }) => {
  const authority = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 10, clock: new ManualClock() });
  assert.throws(() => parseCertificate(authority.certificatePem), (e: unknown) => e instanceof TrustError && e.code === 'trust.certificate');
  writeFileSync(join(dir, 'x.pem'), 'not a certificate');
  assert.throws(() => parseCertificate('not a certificate'), (e: unknown) => e instanceof TrustError && e.code === 'trust.certificate');
});

ca.run();
