import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { newTlsKey } from '../trust/credentials.ts';
import type { NodeIdentity } from '../trust/identity.ts';
import { derOfPem, pemOfDer } from '../trust/verify-certificate.ts';
import { spkiOfKey } from '../trust/x509.ts';
import type { NodeState } from '../wire/messages.ts';
import { checkCertifiedState } from './certified-state.ts';
import { requestRefusal } from './request-entitlement.ts';

const DAY = 86_400_000;
const nodeKey = () => spkiOfKey(generateKeyPairSync('ed25519').publicKey).toString('base64');
const dirs: string[] = [];

async function fleetCa(clock: ManualClock): Promise<CertificateAuthority> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-certstate-'));
  dirs.push(dir);
  return CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 3650, clock });
}

async function certified(ca: CertificateAuthority, identity: NodeIdentity): Promise<string> {
  return derOfPem(await ca.issue({ identity, publicKey: spkiOfKey(createPrivateKey(newTlsKey())), days: 90 }));
}

const stateOf = (id: NodeIdentity, certificate?: string): NodeState => ({
  nodeId: id.nodeId, role: id.role, site: id.site, online: true, publicKey: id.nodeKey!, siteId: '2'.repeat(32), schema: SCHEMA_VERSION, head: '3', at: 0,
  ...(certificate ? { certificate } : {}),
});

const check = suite('checkCertifiedState');
check.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

check('a state that says what its certificate says is believed', async () => {
  const clock = new ManualClock(Date.now());
  const ca = await fleetCa(clock);
  const a1: NodeIdentity = { nodeId: 'a1', site: 'a', role: 'node', nodeKey: nodeKey() };
  const cert = await certified(ca, a1);
  const verdict = checkCertifiedState(stateOf(a1, cert), ca.certificatePem, clock.now());
  assert.ok(verdict.ok);
  assert.is(verdict.ok && verdict.serial, new X509Certificate(pemOfDer(cert)).serialNumber.toLowerCase(), 'the serial revocation is checked against');
});

check('another site, role, node id or key than the certificate is refused, and says why', async () => {
  const clock = new ManualClock(Date.now());
  const ca = await fleetCa(clock);
  const a1: NodeIdentity = { nodeId: 'a1', site: 'a', role: 'node', nodeKey: nodeKey() };
  const cert = await certified(ca, a1);
  const reason = (s: NodeState) => {
    const v = checkCertifiedState(s, ca.certificatePem, clock.now());
    return v.ok ? 'ok' : v.reason;
  };
  assert.match(reason({ ...stateOf(a1, cert), site: 'b' }), 'site "b", certificate "a"');
  assert.match(reason({ ...stateOf(a1, cert), role: 'hub' }), 'role hub, certificate node');
  assert.match(reason({ ...stateOf(a1, cert), nodeId: 'a2' }), 'node id a2, certificate a1');
  assert.match(reason({ ...stateOf(a1, cert), publicKey: nodeKey() }), 'node key');
  assert.is(reason(stateOf(a1)), 'no certificate');
});

check('a certificate of another CA, or out of its validity, is refused', async () => {
  const clock = new ManualClock(Date.now());
  const ca = await fleetCa(clock);
  const other = await fleetCa(clock);
  const a1: NodeIdentity = { nodeId: 'a1', site: 'a', role: 'node', nodeKey: nodeKey() };
  const foreign = checkCertifiedState(stateOf(a1, await certified(other, a1)), ca.certificatePem, clock.now());
  assert.ok(!foreign.ok && /not issued by this fleet's CA/.test(foreign.reason));
  const late = checkCertifiedState(stateOf(a1, await certified(ca, a1)), ca.certificatePem, clock.now() + 91 * DAY);
  assert.ok(!late.ok && /not valid now/.test(late.reason));
});

const entitled = suite('requestRefusal');

entitled('the hub serves the global scope to any known box and a site scope only to its own boxes', () => {
  const hub = { role: 'hub' as const, site: '' };
  const a1 = { role: 'node' as const, site: 'a' };
  assert.is(requestRefusal({ requester: 'a1', stream: 'global' }, a1, hub), undefined);
  assert.is(requestRefusal({ requester: 'a1', stream: 'site/a' }, a1, hub), undefined);
  assert.is(requestRefusal({ requester: 'a1', stream: 'site/b' }, a1, hub), 'stream site/b is not for site a');
  assert.is(requestRefusal({ requester: 'ghost', stream: 'site/a' }, undefined, hub), 'unknown requester');
});

entitled('a box serves its own stream to the hub and its site\'s boxes only', () => {
  const self = { role: 'node' as const, site: 'a' };
  assert.is(requestRefusal({ requester: 'hub', stream: 'own' }, { role: 'hub', site: '' }, self), undefined);
  assert.is(requestRefusal({ requester: 'a2', stream: 'own' }, { role: 'node', site: 'a' }, self), undefined);
  assert.is(requestRefusal({ requester: 'b1', stream: 'own' }, { role: 'node', site: 'b' }, self), 'requester is of site b, not a');
  assert.ok(requestRefusal({ requester: 'a2', stream: 'global' }, { role: 'node', site: 'a' }, self));
});

check.run();
entitled.run();
