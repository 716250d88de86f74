/** HubRenewer with a real CA on a ManualClock: the hub's certificate is renewed in its window, live. */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { BACKDATE_MS, CertificateAuthority } from './ca.ts';
import { newTlsKey, readCredentials, writeCredentials, type Credentials } from './credentials.ts';
import { HubRenewer } from './hub-renewer.ts';
import { parseCertificate } from './identity.ts';
import { LiveCredentials } from './live-credentials.ts';
import { spkiOfKey } from './x509.ts';

const MIN = 60_000;
const VALIDITY = 90 * MIN;

interface Ctx {
  dir: string;
  clock: ManualClock;
  ca: CertificateAuthority;
  live: LiveCredentials;
  seen: Credentials[];
  renewer: HubRenewer;
}

const test = suite<Ctx>('HubRenewer');

test.before.each(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-hub-renew-'));
  ctx.clock = new ManualClock(Date.now());
  ctx.ca = await CertificateAuthority.loadOrCreate({ dataDir: ctx.dir, hubId: 'hub', caDays: 30, clock: ctx.clock });
  const key = newTlsKey();
  const nodeKey = spkiOfKey(generateKeyPairSync('ed25519').publicKey).toString('base64');
  const cert = await ctx.ca.issue({ identity: { nodeId: 'hub', site: '', role: 'hub', nodeKey }, publicKey: spkiOfKey(createPrivateKey(key)), validityMs: VALIDITY, serverNames: ['127.0.0.1'] });
  const credentials = { key, cert, ca: ctx.ca.certificatePem };
  writeCredentials(ctx.dir, credentials);
  ctx.live = new LiveCredentials(credentials);
  ctx.seen = [];
  ctx.live.onChange((c) => ctx.seen.push(c));
  ctx.renewer = new HubRenewer({
    ca: ctx.ca, dataDir: ctx.dir, live: ctx.live, validityMs: VALIDITY, serverNames: ['127.0.0.1'],
    policy: { window: 1 / 3, retryMinMs: 30_000, retryMaxMs: 3_600_000 }, clock: ctx.clock, logger: createSilentLogger(),
  });
});

test.after.each((ctx) => {
  ctx.renewer.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

test('nothing happens before the window (the last third of the validity)', (ctx) => {
  ctx.renewer.start();
  ctx.clock.advance(60 * MIN - BACKDATE_MS - 1000);
  assert.is(ctx.renewer.renewed, 0);
  assert.is(ctx.seen.length, 0);
});

test('in the window: a new key and certificate for the same identity, written and handed to the live parts', async (ctx) => {
  const first = parseCertificate(ctx.live.current.cert);
  ctx.renewer.start();
  ctx.clock.advance(61 * MIN);
  await waitFor(() => ctx.renewer.renewed === 1, 'the renewal', 5000);
  assert.is(ctx.seen.length, 1);
  const renewed = parseCertificate(ctx.seen[0]!.cert);
  assert.is.not(renewed.serial, first.serial);
  assert.equal([renewed.nodeId, renewed.role, renewed.site, renewed.nodeKey], [first.nodeId, first.role, first.site, first.nodeKey]);
  assert.ok(renewed.notAfter.getTime() > first.notAfter.getTime());
  assert.is(readFileSync(join(ctx.dir, 'node-tls.key'), 'utf8').trim(), ctx.seen[0]!.key.trim(), 'the new key is on disk');
  assert.is(readCredentials(ctx.dir).cert.trim(), ctx.seen[0]!.cert.trim(), 'node.crt is the renewed one');
  assert.ok(ctx.ca.signed(ctx.seen[0]!.cert));
});

test('it renews again in the next window, not before', async (ctx) => {
  ctx.renewer.start();
  ctx.clock.advance(61 * MIN);
  await waitFor(() => ctx.renewer.renewed === 1, 'the first renewal', 5000);
  ctx.clock.advance(30 * MIN);
  assert.is(ctx.renewer.renewed, 1, 'the new certificate is not in its window yet');
  ctx.clock.advance(35 * MIN);
  await waitFor(() => ctx.renewer.renewed === 2, 'the second renewal', 5000);
});

test('an expired hub certificate (the hub was off) is renewed at start', async (ctx) => {
  ctx.clock.advance(VALIDITY + MIN);
  ctx.renewer.start();
  await waitFor(() => ctx.renewer.renewed === 1, 'the renewal', 5000);
  assert.ok(parseCertificate(ctx.live.current.cert).notAfter.getTime() > ctx.clock.now());
});

test.run();
