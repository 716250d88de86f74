/**
 * The dashboard server off loopback: HTTPS with the hub's certificate (from its CA), HSTS, a
 * Secure session cookie, the CSP on every answer; and isLoopback. Real sockets on 0.0.0.0,
 * reached at 127.0.0.1 (a name in the hub's certificate).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DashboardSection } from '../../config/dashboard-schema.ts';
import { createSystemClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import type { CdrRepository } from '../../store/cdrs.ts';
import { CertificateAuthority } from '../../trust/ca.ts';
import { ensureHubCredentials } from '../../trust/hub-credentials.ts';
import { FleetFeed } from '../fleet-feed.ts';
import { FleetView } from '../fleet-view.ts';
import { CSP, DashboardServer, isLoopback } from './dashboard-server.ts';
import { setPassword } from './passwd.ts';

const test = suite('DashboardServer over HTTPS');

function request(url: string, ca: string, o: { method?: string; body?: string; cookie?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: o.method ?? 'GET', ca, headers: { ...(o.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...(o.cookie ? { cookie: o.cookie } : {}) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

test('off loopback it speaks HTTPS with the hub certificate; the cookie is Secure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-dash-https-'));
  const clock = createSystemClock();
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 1, clock });
  const nodeKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const credentials = await ensureHubCredentials(ca, { dataDir: dir, hubId: 'hub', nodeKey, serverNames: ['localhost', '127.0.0.1'], days: 1 });
  const view = new FleetView({ samples: 10, maxAge: 60, staleAfter: 30 });
  const feed = new FleetFeed({ hubId: 'hub', brokerUrl: 'mqtts://127.0.0.1:1', tls: credentials, view, facts: () => undefined, clock, logger: createSilentLogger() });
  const cdrs = { search: () => [] } as unknown as CdrRepository;
  const server = new DashboardServer({ config: DashboardSection.parse({ listen: '0.0.0.0:0' }), dataDir: dir, feed, cdrs, credentials, clock, logger: createSilentLogger() });
  setPassword(dir, 'admin', 'long-enough-password');
  await server.start();
  try {
    assert.is(server.secure, true);
    const base = server.url.replace('0.0.0.0', '127.0.0.1');
    assert.match(base, /^https:\/\//);
    const login = await request(`${base}login`, credentials.ca);
    assert.is(login.status, 200);
    assert.is(login.headers['content-security-policy'], CSP);
    assert.match(String(login.headers['strict-transport-security']), /max-age=/);
    const ok = await request(`${base}login`, credentials.ca, { method: 'POST', body: 'user=admin&password=long-enough-password' });
    assert.is(ok.status, 303);
    const cookie = String(ok.headers['set-cookie']);
    assert.match(cookie, /HttpOnly; SameSite=Strict; Max-Age=\d+; Secure/);
    const page = await request(base, credentials.ca, { cookie: cookie.split(';')[0]! });
    assert.is(page.status, 200);
    assert.match(page.body, /No box has been heard of yet/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('isLoopback', () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('127.1.2.3') && isLoopback('::1') && isLoopback('localhost'));
  assert.not.ok(isLoopback('0.0.0.0') || isLoopback('192.168.1.10') || isLoopback('::'));
});

test.run();
