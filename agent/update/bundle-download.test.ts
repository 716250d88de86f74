import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import type { Credentials } from '../trust/credentials.ts';
import { ensureHubCredentials } from '../trust/hub-credentials.ts';
import { spkiOfKey } from '../trust/x509.ts';
import { downloadBundle } from './bundle-download.ts';
import { UpdateError } from './errors.ts';

interface World {
  dir: string;
  hub: Credentials;
  server: https.Server;
  url: string;
  body: Buffer;
  clientCerts: number;
}
const test = suite<World>('bundle download (mutual TLS)');

test.before.each(async (w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-bundle-download-'));
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: join(w.dir, 'hub'), hubId: 'hub', caDays: 3650, clock: new ManualClock(Date.now()) });
  const nodeKey = spkiOfKey(generateKeyPairSync('ed25519').publicKey).toString('base64');
  w.hub = await ensureHubCredentials(ca, { dataDir: join(w.dir, 'hub'), hubId: 'hub', nodeKey, serverNames: ['127.0.0.1'], days: 90 });
  w.body = Buffer.alloc(300_000, 7);
  w.clientCerts = 0;
  w.server = https.createServer({ ...w.hub, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    if ((req.socket as import('node:tls').TLSSocket).getPeerCertificate().raw) w.clientCerts++;
    if (req.url !== '/updates/2.0.raucb') return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': w.body.length }).end(w.body);
  });
  await new Promise<void>((r) => w.server.listen(0, '127.0.0.1', r));
  w.url = `https://127.0.0.1:${(w.server.address() as AddressInfo).port}`;
});

test.after.each((w) => {
  w.server.close();
  rmSync(w.dir, { recursive: true, force: true });
});

test('streams the bundle to the file with its sha256, over mutual TLS', async (w) => {
  // The hub's own credentials stand in for a box's: any certificate of the fleet CA.
  const got = await downloadBundle(`${w.url}/updates/2.0.raucb`, join(w.dir, 'b.raucb'), w.hub, 10_000);
  assert.is(got.bytes, w.body.length);
  assert.is(got.sha256, createHash('sha256').update(w.body).digest('hex'));
  assert.ok(readFileSync(join(w.dir, 'b.raucb')).equals(w.body));
  assert.is(w.clientCerts, 1);
});

test('a 404 is an UpdateError and leaves no file', async (w) => {
  try {
    await downloadBundle(`${w.url}/updates/none.raucb`, join(w.dir, 'n.raucb'), w.hub, 10_000);
    assert.unreachable('should have failed');
  } catch (err) {
    assert.instance(err, UpdateError);
    assert.match((err as Error).message, /answered 404/);
  }
  assert.not.ok(existsSync(join(w.dir, 'n.raucb')) || existsSync(join(w.dir, 'n.raucb.part')));
});

test('a box without a certificate of the fleet CA is refused by the hub', async (w) => {
  const other = await CertificateAuthority.loadOrCreate({ dataDir: join(w.dir, 'other'), hubId: 'other', caDays: 3650, clock: new ManualClock(Date.now()) });
  const nodeKey = spkiOfKey(generateKeyPairSync('ed25519').publicKey).toString('base64');
  const stranger = await ensureHubCredentials(other, { dataDir: join(w.dir, 'other'), hubId: 'x', nodeKey, serverNames: [], days: 90 });
  try {
    await downloadBundle(`${w.url}/updates/2.0.raucb`, join(w.dir, 's.raucb'), { ...stranger, ca: w.hub.ca }, 10_000);
    assert.unreachable('should have failed');
  } catch (err) {
    assert.instance(err, UpdateError);
  }
  assert.is(w.clientCerts, 0);
});

test.run();
