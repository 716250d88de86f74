/**
 * The `broker` role (Mosquitto's server certificate) and the CA's CRL: a broker certificate is
 * accepted only where a link checks the hub's broker, never as a node's or the hub's identity.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { nodeIdOf } from '../sip/transport/tls-sockets.ts';
import { serverIdentityProblem } from '../sync/link-tls.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { newTlsKey } from '../trust/credentials.ts';
import { TrustError } from '../trust/errors.ts';
import { parseCertificate, parseServerCertificate } from '../trust/identity.ts';
import { issuedCertificates } from '../trust/issued-certificates.ts';
import { spkiOfKey, x509 } from '../trust/x509.ts';

interface Ctx {
  dir: string;
  clock: ManualClock;
  ca: CertificateAuthority;
  broker: string;
}

const test = suite<Ctx>('broker certificates and the CRL');

test.before.each(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-broker-cert-'));
  ctx.clock = new ManualClock(Date.now());
  ctx.ca = await CertificateAuthority.loadOrCreate({ dataDir: ctx.dir, hubId: 'hub', caDays: 30, clock: ctx.clock });
  ctx.broker = await ctx.ca.issue({ identity: { nodeId: 'hub', site: '', role: 'broker', nodeKey: undefined }, publicKey: spkiOfKey(createPrivateKey(newTlsKey())), days: 5, serverNames: ['127.0.0.1'] });
});

test.after.each((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

const raw = (pem: string) => ({ raw: new X509Certificate(pem).raw });

test('a broker certificate is recorded apart from the issued node and hub certificates', (ctx) => {
  assert.is(readdirSync(join(ctx.dir, 'ca', 'brokers')).length, 1);
  assert.is(existsSync(join(ctx.dir, 'ca', 'issued')) ? readdirSync(join(ctx.dir, 'ca', 'issued')).length : 0, 0);
  assert.equal(issuedCertificates(ctx.dir, 'hub'), [], 'revoke/replace of the hub id never sees it');
});

test('it is no node\'s or hub\'s identity', (ctx) => {
  assert.throws(() => parseCertificate(ctx.broker), (e: unknown) => e instanceof TrustError && /broker's/.test(e.message));
  assert.is(parseServerCertificate(ctx.broker).role, 'broker');
  assert.is(nodeIdOf(new X509Certificate(ctx.broker).raw), undefined, 'SIP over TLS takes no node id from it');
});

test('a link accepts it where the hub\'s broker is expected, and nowhere else', (ctx) => {
  assert.is(serverIdentityProblem(raw(ctx.broker), { nodeId: 'hub', role: 'hub' }), undefined);
  assert.match(serverIdentityProblem(raw(ctx.broker), { nodeId: 'hub', role: 'node' }) ?? '', /broker hub/);
  assert.match(serverIdentityProblem(raw(ctx.broker), { nodeId: 'other', role: 'hub' }) ?? '', /expected hub other/);
});

test('the CRL lists the revoked serials, is signed by the CA and outlives the given validity', async (ctx) => {
  const pem = await ctx.ca.crl([{ serial: 'ABCDEF0123', revokedAt: ctx.clock.now() - 1000 }], 86_400_000);
  assert.match(pem, /^-----BEGIN X509 CRL-----\n/, 'the label OpenSSL reads');
  const crl = new x509.X509Crl(pem);
  assert.equal(crl.entries.map((e) => e.serialNumber.toLowerCase()), ['abcdef0123']);
  assert.ok(await crl.verify({ publicKey: new x509.X509Certificate(ctx.ca.certificatePem).publicKey }));
  assert.ok(crl.nextUpdate!.getTime() > ctx.clock.now() + 86_400_000 - 1000, "X.509 times have whole seconds");
  const empty = new x509.X509Crl(await ctx.ca.crl([], 1000));
  assert.is(empty.entries.length, 0);
});

test.run();
