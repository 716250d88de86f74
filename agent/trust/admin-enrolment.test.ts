/**
 * Admins' enrolment without HTTP: decideAdminEnrolment's refusals, and enrolAdmin against a real
 * CA and claim book: the certificate names role admin, parseCertificate refuses it, and a box's
 * claim and an admin's claim cannot be swapped.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { adminRequestMac, decideAdminEnrolment, enrolAdmin } from './admin-enrolment.ts';
import { CertificateAuthority } from './ca.ts';
import { ClaimBook, createClaim } from './claim-book.ts';
import { claimKey } from './claim-code.ts';
import { decideEnrolment, type ClaimRecord } from './claim-rules.ts';
import { TrustError } from './errors.ts';
import { parseAdminCertificate, parseAnyCertificate, parseCertificate } from './identity.ts';
import { EC_ALGORITHM, webKeysOf, x509 } from './x509.ts';

const NOW = 1_800_000_000_000;
const adminClaim: ClaimRecord = { id: 'AB12', site: '', nodeId: 'ann', key: '00', createdAt: NOW - 1, expiresAt: NOW + 60_000, role: 'admin' };
const boxClaim: ClaimRecord = { ...adminClaim, site: 'a', nodeId: undefined, role: undefined };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, TrustError);
    return (err as TrustError).code;
  }
  return 'granted';
}

const decide = suite('decideAdminEnrolment');

decide('an open admin claim with a valid MAC grants its name; anything else is refused', () => {
  const facts = { claim: adminClaim, marks: {}, macValid: true, isNode: () => false, now: NOW };
  assert.is(decideAdminEnrolment(facts), 'ann');
  assert.is(code(() => decideAdminEnrolment({ ...facts, macValid: false })), 'trust.claim-wrong');
  assert.is(code(() => decideAdminEnrolment({ ...facts, claim: undefined })), 'trust.claim-wrong');
  assert.is(code(() => decideAdminEnrolment({ ...facts, marks: { used: { at: NOW, nodeId: 'ann', from: 'x' } } })), 'trust.claim-used');
  assert.is(code(() => decideAdminEnrolment({ ...facts, now: NOW + 60_000 })), 'trust.claim-expired');
  assert.is(code(() => decideAdminEnrolment({ ...facts, claim: boxClaim })), 'trust.claim-role', 'a box\'s claim');
  assert.is(code(() => decideAdminEnrolment({ ...facts, isNode: (n) => n === 'ann' })), 'trust.claim-node', 'a box\'s id');
});

decide('a box cannot enrol with an admin\'s claim', () => {
  const facts = { claim: adminClaim, marks: {}, macValid: true, requestedSite: 'a', requestedNodeId: 'ann', isCertified: () => false, hubId: 'hub', now: NOW };
  assert.is(code(() => decideEnrolment(facts)), 'trust.claim-role');
});

const exchange = suite('enrolAdmin');

exchange('issues a certificate of role admin, kept apart from the nodes\'; the claim is spent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-admin-enrol-'));
  const clock = new ManualClock(Date.now());
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 10, clock });
  const book = new ClaimBook(dir);
  const { code: claimCode } = createClaim(book, { site: '', nodeId: 'ann', role: 'admin', ttlMs: 60_000, now: clock.now() });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=whatever', keys: await webKeysOf(pem), signingAlgorithm: EC_ALGORITHM });
  const unsigned = { v: 1 as const, role: 'admin' as const, claimId: claimCode.id, nonce: Buffer.alloc(16, 7).toString('base64'), csr: csr.toString('pem') };
  const body = { ...unsigned, mac: adminRequestMac(claimKey(claimCode), unsigned) };
  const o = { ca, claims: book, validityMs: 86_400_000, brokerUrl: () => 'mqtts://127.0.0.1:8883', now: () => clock.now() };
  const { name, response } = await enrolAdmin(body, '127.0.0.1', o);
  assert.is(name, 'ann', 'the claim names the admin, not the CSR');
  assert.is(response.broker, 'mqtts://127.0.0.1:8883');
  const facts = parseAdminCertificate(response.certificate);
  assert.equal([facts.nodeId, facts.role, facts.site, facts.nodeKey], ['ann', 'admin', '', undefined]);
  assert.is(parseAnyCertificate(response.certificate).role, 'admin');
  assert.throws(() => parseCertificate(response.certificate), /is an admin's: it is no node's or hub's identity/);
  assert.ok(ca.isCertifiedAdmin('ann'));
  assert.not.ok(ca.isCertified('ann'), 'admins are not in the nodes\' list');
  await enrolAdmin(body, '127.0.0.1', o).then(
    () => assert.unreachable('a claim certifies one admin'),
    (err: TrustError) => assert.is(err.code, 'trust.claim-used'),
  );
});

decide.run();
exchange.run();
