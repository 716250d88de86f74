import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigSchema } from '../config/schema.ts';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { parseAuthParams } from '../sip/auth/auth-params.ts';
import { computeHa1, computeResponse, type DigestAlgorithm } from '../sip/auth/digest.ts';
import { DigestAuthenticator } from '../sip/auth/digest-authenticator.ts';
import { SipHeaders, type SipRequest, type SipResponse } from '../sip/message/sip-message.ts';
import type { Endpoint } from '../sip/transport/transport.ts';
import { Store } from '../store/store.ts';
import { FloodGuard } from './flood-guard.ts';
import { Registrar } from './registrar.ts';

const DOMAIN = 'branch-a.example';
const SOURCE: Endpoint = { protocol: 'udp', address: '192.0.2.10', port: 5062 };

interface World {
  clock: ManualClock;
  store: Store;
  flood: FloodGuard;
  registrar: Registrar;
  cseq: number;
}

/** A registrar of box a1; `load`: the lag it sees and its random source, `registrar`: more config. */
function world(load: { lagMs?: () => number; random?: () => number } = {}, registrarConfig: Record<string, unknown> = {}): World {
  const config = ConfigSchema.parse({
    node: { id: 'a1', site: 'branch-a' },
    dataDir: '/unused',
    sip: { domain: DOMAIN, listen: ['udp:127.0.0.1:0'], registrar: { minExpires: 60, maxExpires: 3600, defaultExpires: 600, ...registrarConfig }, flood: { ban: { failures: 2 } } },
  });
  const clock = new ManualClock();
  const store = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-reg-')) });
  for (const [ext, pw] of [['1001', 'secret-1001'], ['1002', 'secret-1002']] as const) {
    store.users.upsert({ ext, displayName: '', realm: DOMAIN, site: 'branch-a', ha1Md5: computeHa1(ext, DOMAIN, pw, 'MD5'), ha1Sha256: computeHa1(ext, DOMAIN, pw, 'SHA-256') }, 0);
  }
  const logger = createSilentLogger();
  const flood = new FloodGuard(config.sip.flood, { clock, store, nodeId: 'a1', logger });
  const authenticator = new DigestAuthenticator({ realm: DOMAIN, clock, nonceLifetimeMs: 300_000, algorithms: ['SHA-256', 'MD5'] });
  const registrar = new Registrar({ store, nodeId: 'a1', domain: DOMAIN, config: config.sip.registrar, authenticator, flood, clock, logger, ...load });
  return { clock, store, flood, registrar, cseq: 1 };
}

function register(w: World, user: string, headers: Array<[string, string]>): SipRequest {
  return {
    type: 'request',
    method: 'REGISTER',
    uri: `sip:${DOMAIN}`,
    version: 'SIP/2.0',
    headers: new SipHeaders([
      { name: 'Via', value: `SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-${w.cseq}` },
      { name: 'From', value: `<sip:${user}@${DOMAIN}>;tag=f1` },
      { name: 'To', value: `<sip:${user}@${DOMAIN}>` },
      { name: 'Call-ID', value: `call-${user}` },
      { name: 'CSeq', value: `${w.cseq++} REGISTER` },
      ...headers.map(([name, value]) => ({ name, value })),
    ]),
    body: Buffer.alloc(0),
  };
}

/** REGISTER, answer the challenge with `password` using `algorithm`, return the final response. */
async function registerWithAuth(w: World, user: string, password: string, headers: Array<[string, string]>, algorithm: DigestAlgorithm = 'SHA-256'): Promise<SipResponse> {
  const challenge = await w.registrar.handle(register(w, user, headers), SOURCE);
  assert.is(challenge.status, 401);
  const offer = challenge.headers.getAll('www-authenticate').map((v) => parseAuthParams(v).params).find((p) => p.get('algorithm') === algorithm)!;
  const nonce = offer.get('nonce')!;
  const ha1 = computeHa1(user, DOMAIN, password, algorithm);
  const uri = `sip:${DOMAIN}`;
  const response = computeResponse({ ha1, method: 'REGISTER', uri, nonce, nc: '00000001', cnonce: 'c0ffee', qop: 'auth', algorithm });
  const auth = `Digest username="${user}", realm="${DOMAIN}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="c0ffee"`;
  return w.registrar.handle(register(w, user, [...headers, ['Authorization', auth]]), SOURCE);
}

const contactsOf = (res: SipResponse) => res.headers.getAll('contact').sort();

const reg = suite('Registrar.handle');

reg('without credentials: 401 with one challenge per algorithm, SHA-256 first (RFC 8760 §2.4)', async () => {
  const w = world();
  const res = await w.registrar.handle(register(w, '1001', [['Contact', '<sip:1001@192.0.2.10:5062>']]), SOURCE);
  assert.is(res.status, 401);
  const challenges = res.headers.getAll('www-authenticate');
  assert.is(challenges.length, 2);
  assert.match(challenges[0]!, 'algorithm=SHA-256');
  assert.match(challenges[1]!, 'algorithm=MD5');
  assert.match(challenges[0]!, 'qop="auth"');
  w.store.close();
});

reg('with SHA-256 and with MD5 credentials: 200, binding stored with this node as owner', async () => {
  const w = world();
  const a = await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:1001@192.0.2.10:5062>'], ['Expires', '600']]);
  assert.is(a.status, 200);
  assert.equal(contactsOf(a), ['<sip:1001@192.0.2.10:5062>;expires=600']);
  const b = await registerWithAuth(w, '1002', 'secret-1002', [['Contact', '<sip:1002@192.0.2.11>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1']], 'MD5');
  assert.is(b.status, 200);
  const rows = w.store.registrations.allLive(w.clock.now());
  assert.equal(rows.map((r) => [r.aor, r.nodeId, r.received]), [['1001', 'a1', 'udp:192.0.2.10:5062'], ['1002', 'a1', 'udp:192.0.2.10:5062']]);
  assert.is(rows[1]!.expiresAt - w.clock.now(), 600_000, 'default expiry from config');
  assert.is(rows[1]!.instanceId, '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>');
  assert.is(rows[1]!.regId, 1);
  w.store.close();
});

reg('a wrong password gets 403 and counts towards a ban', async () => {
  const w = world();
  const res = await registerWithAuth(w, '1001', 'wrong', [['Contact', '<sip:1001@h>']]);
  assert.is(res.status, 403);
  assert.not.ok(w.flood.isBanned(SOURCE.address));
  await registerWithAuth(w, '1001', 'wrong', [['Contact', '<sip:1001@h>']]);
  assert.ok(w.flood.isBanned(SOURCE.address), 'banned after 2 failures');
  assert.not.ok(w.flood.admit(SOURCE.address));
  await w.store.writes.submit(() => undefined); // the ban rides in the same group commit
  assert.equal(w.store.bans.active(w.clock.now()).map((b) => b.ip), [SOURCE.address]);
  w.store.close();
});

reg('an unknown user gets 403, and so does a user authenticating for another AoR', async () => {
  const w = world();
  assert.is((await registerWithAuth(w, '9999', 'whatever', [['Contact', '<sip:9999@h>']])).status, 403);
  const challenge = await w.registrar.handle(register(w, '1002', [['Contact', '<sip:x@h>']]), SOURCE);
  const nonce = parseAuthParams(challenge.headers.getAll('www-authenticate')[1]!).params.get('nonce')!;
  const ha1 = computeHa1('1001', DOMAIN, 'secret-1001', 'MD5');
  const response = computeResponse({ ha1, method: 'REGISTER', uri: `sip:${DOMAIN}`, nonce, nc: '00000001', cnonce: 'x', qop: 'auth', algorithm: 'MD5' });
  const auth = `Digest username="1001", realm="${DOMAIN}", nonce="${nonce}", uri="sip:${DOMAIN}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="x"`;
  const res = await w.registrar.handle(register(w, '1002', [['Contact', '<sip:x@h>'], ['Authorization', auth]]), SOURCE);
  assert.is(res.status, 403);
  assert.match(res.reason, 'does not match');
  w.store.close();
});

reg('an expired nonce gets 401 with stale=true', async () => {
  const w = world();
  const challenge = await w.registrar.handle(register(w, '1001', [['Contact', '<sip:a@h>']]), SOURCE);
  const nonce = parseAuthParams(challenge.headers.getAll('www-authenticate')[0]!).params.get('nonce')!;
  w.clock.advance(301_000);
  const ha1 = computeHa1('1001', DOMAIN, 'secret-1001', 'SHA-256');
  const response = computeResponse({ ha1, method: 'REGISTER', uri: `sip:${DOMAIN}`, nonce, nc: '00000001', cnonce: 'x', qop: 'auth', algorithm: 'SHA-256' });
  const auth = `Digest username="1001", realm="${DOMAIN}", nonce="${nonce}", uri="sip:${DOMAIN}", response="${response}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x"`;
  const res = await w.registrar.handle(register(w, '1001', [['Contact', '<sip:a@h>'], ['Authorization', auth]]), SOURCE);
  assert.is(res.status, 401);
  assert.match(res.headers.get('www-authenticate')!, /stale=(true|TRUE)/);
  w.store.close();
});

reg('expires below the minimum: 423 with Min-Expires; above the maximum: clamped', async () => {
  const w = world();
  const brief = await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:a@h>;expires=30']]);
  assert.is(brief.status, 423);
  assert.is(brief.headers.get('min-expires'), '60');
  const long = await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:a@h>'], ['Expires', '999999']]);
  assert.is(long.status, 200);
  assert.equal(contactsOf(long), ['<sip:a@h>;expires=3600']);
  w.store.close();
});

reg('several contacts per AoR; expires=0 removes one; * with Expires: 0 removes all', async () => {
  const w = world();
  const two = await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:a@h>'], ['Contact', '<sip:b@h>;expires=120']]);
  assert.equal(contactsOf(two), ['<sip:a@h>;expires=600', '<sip:b@h>;expires=120']);
  const one = await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:a@h>;expires=0']]);
  assert.equal(contactsOf(one), ['<sip:b@h>;expires=120']);
  const badStar = await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '*']]);
  assert.is(badStar.status, 400);
  const none = await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '*'], ['Expires', '0']]);
  assert.is(none.status, 200);
  assert.equal(contactsOf(none), []);
  assert.is(w.store.registrations.allLive(w.clock.now()).length, 0);
  w.store.close();
});

reg('a REGISTER without Contact lists the current bindings', async () => {
  const w = world();
  await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:a@h>']]);
  w.clock.advance(100_000);
  const query = await registerWithAuth(w, '1001', 'secret-1001', []);
  assert.is(query.status, 200);
  assert.equal(contactsOf(query), ['<sip:a@h>;expires=500']);
  w.store.close();
});

reg('a foreign domain gets 404; a To that is not a SIP URI gets 400', async () => {
  const w = world();
  const isbn = register(w, '1001', []);
  isbn.headers.set('To', 'isbn:2983792873');
  assert.is((await w.registrar.handle(isbn, SOURCE)).status, 400);
  const foreign = register(w, '1001', []);
  foreign.headers.set('To', '<sip:1001@elsewhere.example>');
  assert.is((await w.registrar.handle(foreign, SOURCE)).status, 404);
  w.store.close();
});

const sweep = suite('Registrar.sweep');

sweep('expired bindings are deleted', async () => {
  const w = world();
  await registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:a@h>;expires=60'], ['Contact', '<sip:b@h>;expires=600']]);
  w.clock.advance(61_000);
  assert.is(await w.registrar.sweep(), 1);
  assert.equal(w.store.registrations.allLive(0).map((b) => b.contact), ['sip:b@h']);
  w.store.close();
});

reg.run();
sweep.run();

const shed = suite('Registrar.handle under load (sip.registrar.shedLag, shedPending, retryAfter)');

shed('the loop lags past shedLag: a new REGISTER gets 503 with a Retry-After from the random source, before any work; back under it: 401', async () => {
  let lag = 450;
  const w = world({ lagMs: () => lag, random: () => 0.5 }, { shedLag: 300, retryAfter: [1, 10] });
  const res = await w.registrar.handle(register(w, '1001', [['Contact', '<sip:1001@192.0.2.10:5062>']]), SOURCE);
  assert.is(res.status, 503);
  assert.is(res.headers.get('retry-after'), '6', '1 + floor(0.5 * 10)');
  assert.is(res.headers.get('www-authenticate'), undefined, 'no challenge computed');
  assert.equal([w.registrar.stats.shed, w.registrar.stats.challenged], [1, 0]);
  lag = 20;
  assert.is((await w.registrar.handle(register(w, '1001', [['Contact', '<sip:1001@192.0.2.10:5062>']]), SOURCE)).status, 401);
  w.store.close();
});

shed('under load, a REGISTER answering our challenge still completes; twice over the limit, it is shed too', async () => {
  let lag = 0;
  const w = world({ lagMs: () => lag }, { shedLag: 300 });
  // The challenge is fetched while the box is calm, the answer arrives when it lags.
  const challenged = register(w, '1001', [['Contact', '<sip:1001@192.0.2.10:5062>']]);
  const challenge = await w.registrar.handle(challenged, SOURCE);
  const nonce = parseAuthParams(challenge.headers.getAll('www-authenticate')[1]!).params.get('nonce')!;
  const answer = (nc: string) => {
    const ha1 = computeHa1('1001', DOMAIN, 'secret-1001', 'MD5');
    const response = computeResponse({ ha1, method: 'REGISTER', uri: `sip:${DOMAIN}`, nonce, nc, cnonce: 'c0ffee', qop: 'auth', algorithm: 'MD5' });
    return register(w, '1001', [['Contact', '<sip:1001@192.0.2.10:5062>'], ['Authorization', `Digest username="1001", realm="${DOMAIN}", nonce="${nonce}", uri="sip:${DOMAIN}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="c0ffee"`]]);
  };
  lag = 450;
  assert.is((await w.registrar.handle(answer('00000001'), SOURCE)).status, 200, 'work already started completes');
  lag = 700;
  assert.is((await w.registrar.handle(answer('00000002'), SOURCE)).status, 503, 'severe: everything waits');
  w.store.close();
});

shed('shedPending REGISTERs waiting for their commit: the next new one is shed', async () => {
  const w = world({}, { shedPending: 1 });
  const ok = registerWithAuth(w, '1001', 'secret-1001', [['Contact', '<sip:1001@192.0.2.10:5062>']]);
  // registerWithAuth's first step (the challenge) is answered before its write is submitted.
  let refused: SipResponse | undefined;
  for (let i = 0; i < 100 && !refused; i++) {
    await new Promise((r) => setImmediate(r));
    const res = await w.registrar.handle(register(w, '1002', [['Contact', '<sip:1002@192.0.2.11>']]), SOURCE);
    if (res.status === 503) refused = res;
    else assert.is(res.status, 401);
  }
  assert.ok(refused, 'shed while the first write was pending');
  assert.ok(Number(refused!.headers.get('retry-after')) >= 1 && Number(refused!.headers.get('retry-after')) <= 10, 'default range 1-10 s');
  assert.is((await ok).status, 200);
  w.store.close();
});

shed.run();
