/**
 * PeerDirectory under revocation (agent/trust/revocation.ts): a real store, a real CA, states
 * carrying real certificates; the revocation list is the store's replicated table.
 */
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import { Store } from '../store/store.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { newTlsKey } from '../trust/credentials.ts';
import type { NodeIdentity } from '../trust/identity.ts';
import { derOfPem } from '../trust/verify-certificate.ts';
import { spkiOfKey } from '../trust/x509.ts';
import type { NodeState } from '../wire/messages.ts';
import { PeerDirectory } from './peer-directory.ts';

interface Ctx {
  dirs: string[];
  store: Store;
  ca: CertificateAuthority;
  clock: ManualClock;
}

const test = suite<Ctx>('PeerDirectory and revoked certificates');

test.before.each(async (ctx) => {
  ctx.dirs = [mkdtempSync(join(tmpdir(), 'outpost-revdir-')), mkdtempSync(join(tmpdir(), 'outpost-revca-'))];
  ctx.store = Store.open({ dataDir: ctx.dirs[0]!, durable: false });
  ctx.clock = new ManualClock(Date.now());
  ctx.ca = await CertificateAuthority.loadOrCreate({ dataDir: ctx.dirs[1]!, hubId: 'hub', caDays: 3650, clock: ctx.clock });
});

test.after.each((ctx) => {
  ctx.store.close();
  for (const d of ctx.dirs) rmSync(d, { recursive: true, force: true });
});

async function certifiedState(ctx: Ctx, nodeId: string): Promise<{ state: NodeState; serial: string }> {
  const id: NodeIdentity = { nodeId, site: 'a', role: 'node', nodeKey: spkiOfKey(generateKeyPairSync('ed25519').publicKey).toString('base64') };
  const pem = await ctx.ca.issue({ identity: id, publicKey: spkiOfKey(createPrivateKey(newTlsKey())), days: 90 });
  const state: NodeState = {
    nodeId, role: 'node', site: 'a', online: true, publicKey: id.nodeKey!, siteId: '2'.repeat(32), schema: SCHEMA_VERSION, head: '0', at: 0, certificate: derOfPem(pem),
  };
  return { state, serial: new X509Certificate(pem).serialNumber.toLowerCase() };
}

test('a state whose certificate is revoked is refused and counted; its node is revoked', async (ctx) => {
  const dir = new PeerDirectory(ctx.store, createSilentLogger(), ctx.ca.certificatePem);
  const old = await certifiedState(ctx, 'a2');
  assert.is(dir.observe(old.state, ctx.clock.now()), 'new');
  assert.not.ok(dir.revoked('a2'));
  ctx.store.revocations.revoke(old.serial, 'a2', ctx.clock.now());
  assert.ok(dir.revoked('a2'), 'batches of a2 are refused from now on');
  assert.is(dir.observe(old.state, ctx.clock.now()), 'identity-refused');
  assert.is(dir.revokedRefused, 1);
});

test('the same id with a new certificate (node replace) is believed again', async (ctx) => {
  const dir = new PeerDirectory(ctx.store, createSilentLogger(), ctx.ca.certificatePem);
  const old = await certifiedState(ctx, 'a2');
  dir.observe(old.state, ctx.clock.now());
  ctx.store.revocations.revoke(old.serial, 'a2', ctx.clock.now());
  const rebuilt = await certifiedState(ctx, 'a2');
  assert.is(dir.observe(rebuilt.state, ctx.clock.now()), 'updated');
  assert.not.ok(dir.revoked('a2'));
});

test('after a restart a node with revocations and no believed certificate is revoked', async (ctx) => {
  const first = new PeerDirectory(ctx.store, createSilentLogger(), ctx.ca.certificatePem);
  const old = await certifiedState(ctx, 'a2');
  first.observe(old.state, ctx.clock.now());
  ctx.store.revocations.revoke(old.serial, 'a2', ctx.clock.now());
  const restarted = new PeerDirectory(ctx.store, createSilentLogger(), ctx.ca.certificatePem);
  assert.ok(restarted.get('a2'), 'known from its pinned key');
  assert.ok(restarted.revoked('a2'));
  assert.not.ok(restarted.revoked('a1'));
});

test('the store knows the node keys of revoked certificates (inter-box SIP refuses them)', async (ctx) => {
  const old = await certifiedState(ctx, 'a2');
  assert.not.ok(ctx.store.revocations.keyRevoked('a2', old.state.publicKey));
  ctx.store.revocations.revoke(old.serial, 'a2', ctx.clock.now(), old.state.publicKey);
  assert.ok(ctx.store.revocations.keyRevoked('a2', old.state.publicKey));
  assert.not.ok(ctx.store.revocations.keyRevoked('a2', (await certifiedState(ctx, 'a2')).state.publicKey), 'the rebuilt box\'s new key');
  assert.not.ok(ctx.store.revocations.keyRevoked('a1', old.state.publicKey), 'another node');
});

test.run();
