import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { formatAuthParams, parseAuthParams, type ParamEncoding } from './auth-params.ts';
import { computeHa1, computeResponse, hashOf, parseAlgorithm, type DigestAlgorithm, type HashAlgorithm } from './digest.ts';
import {
  DigestAuthenticator,
  type DigestAuthenticatorOptions,
  type Ha1Lookup,
  type VerifyResult,
} from './digest-authenticator.ts';
import { isAuthError } from './errors.ts';

const REALM = 'branch-7.example.net';
const URI = 'sip:branch-7.example.net';
const PASSWORDS: Record<string, string> = { alice: 'correct horse', bob: 'Tr0ub4dor&3' };
const ALL: DigestAlgorithm[] = ['SHA-512-256', 'SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** The users table: HA1 per hash family, never the password (DESIGN.md §9). */
const HA1 = new Map<string, Record<HashAlgorithm, string>>(
  Object.entries(PASSWORDS).map(([user, pw]) => [
    user,
    {
      MD5: computeHa1(user, REALM, pw, 'MD5'),
      'SHA-256': computeHa1(user, REALM, pw, 'SHA-256'),
      'SHA-512-256': computeHa1(user, REALM, pw, 'SHA-512-256'),
    },
  ]),
);

function setup(options: Partial<DigestAuthenticatorOptions> = {}) {
  const clock = new ManualClock();
  const auth = new DigestAuthenticator({ realm: REALM, clock, ...options });
  const lookups: string[] = [];
  const lookupHa1: Ha1Lookup = (user, realm, alg) => {
    lookups.push(`${user}/${realm}/${alg}`);
    return HA1.get(user)?.[alg];
  };
  const verify = (credentials: string | string[] | undefined, method = 'REGISTER'): VerifyResult =>
    auth.verify({ method, credentials, lookupHa1 });
  return { clock, auth, lookups, verify };
}

interface AnswerOptions {
  username?: string;
  password?: string;
  method?: string;
  nc?: number;
  cnonce?: string;
  /** null: RFC 2069 form without qop, nc and cnonce. */
  qop?: string | null;
  /** Extra or replacement parameters, written as given. */
  override?: Record<string, [string, ParamEncoding] | null>;
}

/** What a UA does with one challenge value: the Authorization header it sends back. */
function answer(challengeValue: string, o: AnswerOptions = {}): string {
  const c = parseAuthParams(challengeValue).params;
  const algorithm = parseAlgorithm(c.get('algorithm')!)!;
  const username = o.username ?? 'alice';
  const qop = o.qop === null ? undefined : (o.qop ?? 'auth');
  const nc = qop ? (o.nc ?? 1).toString(16).padStart(8, '0') : undefined;
  const cnonce = qop || algorithm.endsWith('-sess') ? (o.cnonce ?? 'c0ffee42') : undefined;
  const ha1 = computeHa1(username, c.get('realm')!, o.password ?? PASSWORDS[username] ?? 'x', algorithm);
  const response = computeResponse({
    ha1,
    method: o.method ?? 'REGISTER',
    uri: URI,
    nonce: c.get('nonce')!,
    nc,
    cnonce,
    qop,
    algorithm,
  });
  const params = new Map<string, [string, ParamEncoding]>([
    ['username', [username, 'quoted']],
    ['realm', [c.get('realm')!, 'quoted']],
    ['nonce', [c.get('nonce')!, 'quoted']],
    ['uri', [URI, 'quoted']],
    ['response', [response, 'quoted']],
    ['algorithm', [algorithm, 'token']],
  ]);
  if (cnonce !== undefined) params.set('cnonce', [cnonce, 'quoted']);
  if (qop !== undefined) params.set('qop', [qop, 'token']);
  if (nc !== undefined) params.set('nc', [nc, 'token']);
  if (c.has('opaque')) params.set('opaque', [c.get('opaque')!, 'quoted']);
  for (const [name, v] of Object.entries(o.override ?? {})) {
    if (v === null) params.delete(name);
    else params.set(name, v);
  }
  return formatAuthParams('Digest', [...params].map(([name, [value, enc]]) => [name, value, enc] as const));
}

/** The challenge value for `algorithm` from a 401's list. */
function pick(challenges: string[], algorithm: string): string {
  const found = challenges.find((c) => parseAuthParams(c).params.get('algorithm') === algorithm);
  assert.ok(found, `no ${algorithm} challenge`);
  return found!;
}

const failed = (reason: string, username?: string) =>
  username === undefined ? { result: 'failed', reason } : { result: 'failed', reason, username };

// ---------------------------------------------------------------------------------------------

const challenge = suite('DigestAuthenticator.challenge');

challenge('defaults: MD5 only, qop="auth", realm; SHA-256 then MD5 share one nonce', () => {
  const { auth } = setup();
  const only = auth.challenge().map((v) => parseAuthParams(v).params);
  assert.is(only.length, 1);
  assert.is(only[0]!.get('algorithm'), 'MD5');
  const values = setup({ algorithms: ['SHA-256', 'MD5'] }).auth.challenge();
  assert.is(values.length, 2);
  const [sha, md5] = values.map((v) => parseAuthParams(v).params);
  assert.is(sha!.get('algorithm'), 'SHA-256');
  assert.is(md5!.get('algorithm'), 'MD5');
  assert.is(sha!.get('nonce'), md5!.get('nonce'));
  for (const p of [sha!, md5!, only[0]!]) {
    assert.is(p.get('realm'), REALM);
    assert.is(p.get('qop'), 'auth');
    assert.not.ok(p.has('stale'));
    assert.not.ok(p.has('opaque'));
  }
  assert.is.not(parseAuthParams(auth.challenge()[0]!).params.get('nonce'), only[0]!.get('nonce'));
});

challenge('stale=true, opaque, and the configured order', () => {
  const { auth } = setup({ algorithms: ['md5', 'SHA-512-256'] as DigestAlgorithm[], opaque: 'op-1' });
  const values = auth.challenge(true);
  assert.equal(values.map((v) => parseAuthParams(v).params.get('algorithm')), ['MD5', 'SHA-512-256']);
  for (const v of values) {
    assert.is(parseAuthParams(v).params.get('stale'), 'true');
    assert.is(parseAuthParams(v).params.get('opaque'), 'op-1');
  }
});

challenge('bad configuration fails at construction', () => {
  assert.throws(() => setup({ algorithms: [] }), (e: unknown) => isAuthError(e, 'sip.auth.invalid-argument'));
  assert.throws(
    () => setup({ algorithms: ['SHA-1' as DigestAlgorithm] }),
    (e: unknown) => isAuthError(e, 'sip.auth.unsupported-algorithm'),
  );
  assert.throws(() => setup({ realm: 'bad\r\nrealm' }), (e: unknown) => isAuthError(e, 'sip.auth.invalid-argument'));
  assert.throws(
    () => setup({ algorithms: ['MD5', 'md5' as DigestAlgorithm] }),
    (e: unknown) => isAuthError(e, 'sip.auth.invalid-argument'),
  );
});

challenge.run();

// ---------------------------------------------------------------------------------------------

const roundTrip = suite('DigestAuthenticator.verify: round trips');

for (const algorithm of ALL) {
  roundTrip(`challenge -> credentials -> ok with ${algorithm}`, () => {
    const { auth, verify, lookups } = setup({ algorithms: ALL });
    const ch = pick(auth.challenge(), algorithm);
    assert.equal(verify(answer(ch)), { result: 'ok', username: 'alice', uri: URI, algorithm });
    assert.equal(lookups, [`alice/${REALM}/${hashOf(algorithm)}`]);
    assert.equal(verify(answer(ch, { nc: 2, method: 'INVITE' }), 'INVITE').result, 'ok');
  });
}

roundTrip('RFC 2069 form without qop is accepted by default, refused when disabled', () => {
  const { auth, verify } = setup({ algorithms: ['SHA-256', 'MD5'] });
  assert.is(verify(answer(auth.challenge()[1]!, { qop: null })).result, 'ok');
  const strict = setup({ algorithms: ['SHA-256', 'MD5'], allowNoQop: false });
  assert.equal(strict.verify(answer(strict.auth.challenge()[1]!, { qop: null })), failed('malformed', 'alice'));
});

roundTrip('absent algorithm means MD5; tokens and hex are case-insensitive', () => {
  const { auth, verify } = setup({ algorithms: ['SHA-256', 'MD5'] });
  const [sha, md5] = auth.challenge();
  assert.equal(verify(answer(md5!, { override: { algorithm: null } })).result, 'ok');
  const upper = answer(sha!, { nc: 2 }).replace(/response="([0-9a-f]+)"/, (_, r: string) => `response="${r.toUpperCase()}"`);
  assert.is(verify(upper.replace('algorithm=SHA-256', 'algorithm=sha-256')).result, 'ok');
});

roundTrip('a folded header value (CRLF + whitespace after the scheme) is read', () => {
  const { auth, verify } = setup();
  const folded = answer(auth.challenge()[0]!).replace('Digest ', 'Digest\r\n  ').replace(', uri=', ',\r\n\turi=');
  assert.is(verify(folded).result, 'ok');
});

roundTrip('picks the credentials for our realm among several', () => {
  const { auth, verify } = setup();
  const ours = answer(auth.challenge()[0]!);
  const foreign = 'Digest username="x", realm="carrier.example", nonce="n", uri="sip:a", response="00"';
  assert.is(verify([foreign, 'Bearer abc.def', ours]).result, 'ok');
  const again = answer(auth.challenge()[0]!);
  assert.is(verify(['Digest username=', again]).result, 'ok'); // a broken value does not hide ours
  assert.equal(verify(foreign), failed('realm-mismatch', 'x'));
  assert.equal(verify([foreign]), failed('realm-mismatch', 'x'));
});

roundTrip.run();

// ---------------------------------------------------------------------------------------------

const rejects = suite('DigestAuthenticator.verify: rejections');

rejects('stale nonce after the lifetime (right password) -> stale; wrong password -> bad-response', () => {
  const { auth, verify, clock } = setup({ nonceLifetimeMs: 60_000 });
  const ch = auth.challenge()[0]!;
  assert.is(verify(answer(ch)).result, 'ok');
  clock.advance(60_001);
  assert.equal(verify(answer(ch, { nc: 2 })), { result: 'stale' });
  assert.equal(verify(answer(ch, { nc: 3, password: 'guess' })), failed('bad-response', 'alice'));
  assert.is(verify(answer(auth.challenge(true)[0]!)).result, 'ok'); // the retry with a fresh nonce
});

rejects('replay: the same request (same nc) twice, or a lower nc', () => {
  const { auth, verify } = setup();
  const ch = auth.challenge()[0]!;
  const first = answer(ch, { nc: 5 });
  assert.is(verify(first).result, 'ok');
  assert.equal(verify(first), failed('replay', 'alice'));
  assert.equal(verify(answer(ch, { nc: 4, cnonce: 'other' })), failed('replay', 'alice'));
  assert.is(verify(answer(ch, { nc: 6 })).result, 'ok');
});

rejects('a forged request cannot burn the client\'s nonce-counts', () => {
  const { auth, verify } = setup();
  const ch = auth.challenge()[0]!;
  assert.equal(verify(answer(ch, { nc: 99, password: 'guess' })), failed('bad-response', 'alice'));
  assert.is(verify(answer(ch, { nc: 1 })).result, 'ok');
});

rejects('forged or altered nonce -> bad-nonce, before any user lookup', () => {
  const { auth, verify, lookups } = setup();
  const ch = auth.challenge()[0]!;
  const nonce = parseAuthParams(ch).params.get('nonce')!;
  const forged = ch.replace(nonce, `${nonce[0] === 'A' ? 'B' : 'A'}${nonce.slice(1)}`);
  assert.equal(verify(answer(forged)), failed('bad-nonce', 'alice'));
  assert.equal(verify(answer(ch.replace(nonce, 'dcd98b7102dd2f0e8b11d0f600bfb0c093'))), failed('bad-nonce', 'alice'));
  const otherBox = setup();
  assert.equal(otherBox.verify(answer(ch)), failed('bad-nonce', 'alice'));
  assert.equal(lookups, []);
});

rejects('wrong password -> bad-response; unknown user -> unknown-user', () => {
  const { auth, verify } = setup();
  const ch = auth.challenge()[0]!;
  assert.equal(verify(answer(ch, { password: 'nope' })), failed('bad-response', 'alice'));
  assert.equal(verify(answer(ch, { username: 'mallory' })), failed('unknown-user', 'mallory'));
  assert.equal(verify(answer(ch, { method: 'INVITE' })), failed('bad-response', 'alice')); // signed another method
});

rejects('realm mismatch', () => {
  const { auth, verify } = setup();
  const ch = auth.challenge()[0]!;
  assert.equal(verify(answer(ch, { override: { realm: ['other.example', 'quoted'] } })), failed('realm-mismatch', 'alice'));
});

rejects('algorithm not offered or unknown -> unsupported-algorithm', () => {
  const { auth, verify } = setup({ algorithms: ['SHA-256'] });
  const ch = auth.challenge()[0]!;
  const asMd5 = answer(ch.replace('algorithm=SHA-256', 'algorithm=MD5'));
  assert.equal(verify(asMd5), failed('unsupported-algorithm', 'alice'));
  assert.equal(verify(answer(ch, { override: { algorithm: ['SHA-1', 'token'] } })), failed('unsupported-algorithm', 'alice'));
  assert.equal(verify(answer(ch, { override: { algorithm: null } })), failed('unsupported-algorithm', 'alice'));
});

rejects('opaque must come back unchanged when configured', () => {
  const { auth, verify } = setup({ opaque: 'op-1' });
  const ch = auth.challenge()[0]!;
  assert.equal(verify(answer(ch, { override: { opaque: ['op-2', 'quoted'] } })), failed('bad-nonce', 'alice'));
  assert.equal(verify(answer(ch, { override: { opaque: null } })), failed('bad-nonce', 'alice'));
  assert.is(verify(answer(ch)).result, 'ok');
});

rejects('missing credentials', () => {
  const { verify } = setup();
  assert.equal(verify(undefined), { result: 'missing' });
  assert.equal(verify([]), { result: 'missing' });
  assert.equal(verify('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='), { result: 'missing' });
});

rejects('malformed credentials', () => {
  const { auth, verify } = setup();
  const ch = auth.challenge()[0]!;
  const m = failed('malformed', 'alice');
  assert.equal(verify('Digest username='), failed('malformed'));
  assert.equal(verify('Digest username="alice", realm="x'), failed('malformed'));
  assert.equal(verify(answer(ch, { override: { username: null } })), failed('malformed'));
  for (const field of ['uri', 'nonce', 'response']) {
    assert.equal(verify(answer(ch, { override: { [field]: null } })), m, `without ${field}`);
  }
  assert.equal(verify(answer(ch, { override: { cnonce: null } })), m);
  assert.equal(verify(answer(ch, { override: { nc: null } })), m);
  assert.equal(verify(answer(ch, { override: { nc: ['1', 'token'] } })), m);
  assert.equal(verify(answer(ch, { override: { nc: ['0000000g', 'token'] } })), m);
  assert.equal(verify(answer(ch, { nc: 0 })), m);
  assert.equal(verify(answer(ch, { override: { qop: ['auth-int', 'token'] } })), m);
  assert.equal(verify(answer(ch, { override: { response: ['abc', 'quoted'] } })), m);
  assert.equal(verify(answer(ch, { override: { response: ['z'.repeat(64), 'quoted'] } })), m);
  assert.equal(verify(answer(ch, { qop: null, override: { nc: ['00000001', 'token'] } })), m);
});

rejects('never throws on hostile input', () => {
  const { auth, verify } = setup();
  const ch = answer(auth.challenge()[0]!);
  for (let i = 0; i < 2000; i++) {
    const at = (i * 7919) % ch.length;
    const junk = String.fromCharCode((i * 31) % 128);
    const mutated = ch.slice(0, at) + junk + ch.slice(at + 1 + (i % 3));
    const r = verify(mutated);
    assert.ok(['ok', 'failed', 'missing', 'stale'].includes(r.result));
  }
});

rejects.run();
