/**
 * The enrolment exchange without HTTP: the box's prepareRequest/acceptResponse against the hub's
 * EnrolmentService, with a real CA and claim book in a temporary folder and a ManualClock.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { CertificateAuthority } from './ca.ts';
import { ClaimBook, createClaim } from './claim-book.ts';
import { acceptResponse, prepareRequest, type NodeKeySigner } from './enrol-client.ts';
import { requestMac, type EnrolResponse } from './enrol-protocol.ts';
import { EnrolmentService } from './enrolment-service.ts';
import { TrustError, type TrustErrorCode } from './errors.ts';
import { spkiOfKey, x509 } from './x509.ts';

const HOUR = 3_600_000;

function nodeKey(): NodeKeySigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { publicKey: spkiOfKey(publicKey).toString('base64'), sign: (bytes) => sign(null, bytes, privateKey) };
}

interface World {
  dir: string;
  clock: ManualClock;
  book: ClaimBook;
  service: EnrolmentService;
  ca: CertificateAuthority;
}

async function refusedWith(p: Promise<unknown>): Promise<TrustErrorCode> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, TrustError);
    return (err as TrustError).code;
  }
  return assert.unreachable('accepted') as never;
}

const test = suite<World>('enrolment exchange');

test.before.each(async (w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-enrol-'));
  w.clock = new ManualClock();
  w.ca = await CertificateAuthority.loadOrCreate({ dataDir: w.dir, hubId: 'hub', caDays: 3650, clock: w.clock });
  w.book = new ClaimBook(w.dir);
  w.service = new EnrolmentService({ ca: w.ca, claims: w.book, hubId: 'hub', certificateDays: 90, clock: w.clock, logger: createSilentLogger() });
});

test.after.each((w) => {
  rmSync(w.dir, { recursive: true, force: true });
});

test('a box with the code gets a certificate of its id, the claim\'s site and its node key, and the CA', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: 24 * HOUR, now: w.clock.now() });
  const key = nodeKey();
  const prepared = await prepareRequest(code, 'a1', 'branch-a', key);
  const accepted = acceptResponse(prepared, await w.service.enrol(JSON.parse(JSON.stringify(prepared.request)), '127.0.0.1'));
  assert.equal([accepted.facts.nodeId, accepted.facts.site, accepted.facts.role, accepted.facts.nodeKey], ['a1', 'branch-a', 'node', key.publicKey]);
  assert.is(accepted.ca, w.ca.certificatePem);
  assert.equal(w.book.marks(code.id).used?.nodeId, 'a1');
});

test('single use: the same code, with a fresh request, is refused the second time', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  await w.service.enrol((await prepareRequest(code, 'a1', 'branch-a', nodeKey())).request, 'x');
  assert.is(await refusedWith(w.service.enrol((await prepareRequest(code, 'a2', 'branch-a', nodeKey())).request, 'x')), 'trust.claim-used');
});

test('expiry: refused once the claim\'s TTL has passed on the hub\'s clock', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  w.clock.advance(HOUR);
  assert.is(await refusedWith(w.service.enrol((await prepareRequest(code, 'a1', 'branch-a', nodeKey())).request, 'x')), 'trust.claim-expired');
  assert.equal(w.book.marks(code.id), {}, 'an expired claim is not spent');
});

test('a wrong code (right id, wrong secret) is refused and spends nothing', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  const wrong = { id: code.id, normalised: `${code.id}${code.normalised.slice(4) === '00000000' ? '11111111' : '00000000'}` };
  assert.is(await refusedWith(w.service.enrol((await prepareRequest(wrong, 'a1', 'branch-a', nodeKey())).request, 'x')), 'trust.claim-wrong');
  assert.equal(w.book.marks(code.id), {});
});

test('node-id binding: a claim made for a1 refuses a box that asks for a2', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: 'a1', ttlMs: HOUR, now: w.clock.now() });
  assert.is(await refusedWith(w.service.enrol((await prepareRequest(code, 'a2', 'branch-a', nodeKey())).request, 'x')), 'trust.claim-node');
  const prepared = await prepareRequest(code, 'a1', 'branch-a', nodeKey());
  assert.is(acceptResponse(prepared, await w.service.enrol(prepared.request, 'x')).facts.nodeId, 'a1');
});

test('a CSR whose signature does not verify is refused (the request is otherwise valid and MACed)', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  const key = nodeKey();
  const prepared = await prepareRequest(code, 'a1', 'branch-a', key);
  const der = Buffer.from(new x509.Pkcs10CertificateRequest(prepared.request.csr).rawData);
  der[der.length - 3]! ^= 0x01; // inside the ECDSA signature
  const csr = new x509.Pkcs10CertificateRequest(der).toString('pem');
  const unsigned = { ...prepared.request, csr, nodeKeyProof: key.sign(der).toString('base64') };
  const request = { ...unsigned, mac: requestMac(prepared.claimKey, unsigned) };
  assert.is(await refusedWith(w.service.enrol(request, 'x')), 'trust.csr');
});

test('a request whose node-key proof is not by the announced key is refused', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  const prepared = await prepareRequest(code, 'a1', 'branch-a', nodeKey());
  const unsigned = { ...prepared.request, nodeKey: nodeKey().publicKey };
  assert.is(await refusedWith(w.service.enrol({ ...unsigned, mac: requestMac(prepared.claimKey, unsigned) }, 'x')), 'trust.csr');
});

test('a request altered on the way (the CSR swapped, MAC kept) is refused as a wrong code', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  const a = await prepareRequest(code, 'a1', 'branch-a', nodeKey());
  const b = await prepareRequest(code, 'a1', 'branch-a', nodeKey());
  assert.is(await refusedWith(w.service.enrol({ ...a.request, csr: b.request.csr }, 'x')), 'trust.claim-wrong');
  assert.is(await refusedWith(w.service.enrol({ ...a.request, v: 2 }, 'x')), 'trust.protocol');
});

test('the box detects a tampered answer: another CA, another certificate, or an answer to another request', async (w) => {
  const { code } = createClaim(w.book, { site: 'branch-a', nodeId: undefined, ttlMs: HOUR, now: w.clock.now() });
  const prepared = await prepareRequest(code, 'a1', 'branch-a', nodeKey());
  const good = await w.service.enrol(prepared.request, 'x');
  const other = await CertificateAuthority.loadOrCreate({ dataDir: join(w.dir, 'mallory'), hubId: 'hub', caDays: 1, clock: w.clock });
  const tampered: EnrolResponse[] = [
    { ...good, ca: other.certificatePem },
    { ...good, certificate: good.certificate.replace(/A/, 'B') },
    { ...good, mac: Buffer.alloc(32).toString('base64') },
  ];
  for (const t of tampered) assert.throws(() => acceptResponse(prepared, t), (e: unknown) => e instanceof TrustError && e.code === 'trust.tampered');
  // A replayed answer (to an earlier request with the same code) does not fit a new request's nonce.
  const later = await prepareRequest(code, 'a1', 'branch-a', nodeKey());
  assert.throws(() => acceptResponse(later, good), (e: unknown) => e instanceof TrustError && e.code === 'trust.tampered');
  assert.is(acceptResponse(prepared, good).facts.nodeId, 'a1');
});

test.run();
