import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeHa1, computeResponse, digestHexLength, hashOf, parseAlgorithm, type DigestAlgorithm } from './digest.ts';
import { isAuthError } from './errors.ts';

// RFC 7616 §3.9.1: one HTTP request answered with MD5 and with SHA-256. The digest math is the
// same as SIP's (RFC 8760), only the method and digest-uri differ.
const RFC7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  qop: 'auth',
} as const;

function rfc7616Response(algorithm: DigestAlgorithm): string {
  const ha1 = computeHa1(RFC7616.username, RFC7616.realm, RFC7616.password, algorithm);
  return computeResponse({ ...RFC7616, ha1, algorithm });
}

const vectors = suite('computeResponse: RFC example vectors');

vectors('RFC 7616 §3.9.1 MD5', () => {
  assert.is(rfc7616Response('MD5'), '8ca523f5e9506fed4657c9700eebdbec');
});

vectors('RFC 7616 §3.9.1 SHA-256', () => {
  assert.is(rfc7616Response('SHA-256'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

vectors('RFC 2617 §3.5 MD5 with qop=auth', () => {
  const ha1 = computeHa1('Mufasa', 'testrealm@host.com', 'Circle Of Life', 'MD5');
  const response = computeResponse({
    ha1,
    method: 'GET',
    uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    nc: '00000001',
    cnonce: '0a4f113b',
    qop: 'auth',
    algorithm: 'MD5',
  });
  assert.is(response, '6629fae49393a05397450978507c4ef1');
});

vectors('RFC 2069 §2.4 form without qop (value as corrected by the RFC 2069 errata)', () => {
  const ha1 = computeHa1('Mufasa', 'testrealm@host.com', 'CircleOfLife', 'MD5');
  const response = computeResponse({
    ha1,
    method: 'GET',
    uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    algorithm: 'MD5',
  });
  assert.is(response, '1949323746fe6a43ef61f9606e7febea');
});

vectors.run();

const more = suite('computeResponse: other algorithms and argument checks');

// No RFC prints these; expected values computed separately with Python's hashlib from the
// RFC 7616 §3.9.1 inputs (RFC 7616 §3.9.2's own SHA-512-256 example is known to be inconsistent).
more('-sess variants and SHA-512-256', () => {
  assert.is(rfc7616Response('MD5-sess'), 'e783283f46242139c486a698fec7211d');
  assert.is(rfc7616Response('SHA-256-sess'), '2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7');
  assert.is(rfc7616Response('SHA-512-256'), '430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0');
  assert.is(rfc7616Response('SHA-512-256-sess'), '3f2a34f923c38b0fb26dce2fdfc2ce326c23cecf86fbb1444f3e51fbbc2cb92e');
});

more('qop other than auth is refused', () => {
  const input = { ...RFC7616, ha1: '0'.repeat(32), algorithm: 'MD5' as const, qop: 'auth-int' };
  assert.throws(() => computeResponse(input), (e: unknown) => isAuthError(e, 'sip.auth.unsupported-qop'));
});

more('qop without nc or cnonce, and -sess without cnonce, are refused', () => {
  const base = { ha1: '0'.repeat(32), method: 'REGISTER', uri: 'sip:a', nonce: 'n' };
  const invalid = (e: unknown) => isAuthError(e, 'sip.auth.invalid-argument');
  assert.throws(() => computeResponse({ ...base, algorithm: 'MD5', qop: 'auth', nc: '00000001' }), invalid);
  assert.throws(() => computeResponse({ ...base, algorithm: 'MD5', qop: 'auth', cnonce: 'c' }), invalid);
  assert.throws(() => computeResponse({ ...base, algorithm: 'MD5-sess' }), invalid);
});

more.run();

const ha1 = suite('computeHa1');

ha1('HA1 of the RFC 7616 user, per family; -sess shares its family HA1', () => {
  assert.is(computeHa1('Mufasa', 'http-auth@example.org', 'Circle of Life', 'MD5'), '3d78807defe7de2157e2b0b6573a855f');
  assert.is(
    computeHa1('Mufasa', 'http-auth@example.org', 'Circle of Life', 'SHA-256'),
    '7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232',
  );
  assert.is(
    computeHa1('Mufasa', 'http-auth@example.org', 'Circle of Life', 'SHA-256-sess'),
    computeHa1('Mufasa', 'http-auth@example.org', 'Circle of Life', 'SHA-256'),
  );
});

ha1('unknown algorithm throws a typed error', () => {
  assert.throws(
    () => computeHa1('a', 'b', 'c', 'SHA-1' as DigestAlgorithm),
    (e: unknown) => isAuthError(e, 'sip.auth.unsupported-algorithm'),
  );
});

ha1.run();

const algorithms = suite('parseAlgorithm / hashOf / digestHexLength');

algorithms('tokens compare case-insensitively and map to canonical names', () => {
  assert.is(parseAlgorithm('md5'), 'MD5');
  assert.is(parseAlgorithm('sha-256-SESS'), 'SHA-256-sess');
  assert.is(parseAlgorithm('SHA-512-256'), 'SHA-512-256');
  assert.is(parseAlgorithm('SHA-1'), undefined);
  assert.is(parseAlgorithm('AKAv1-MD5'), undefined);
});

algorithms('families and lengths', () => {
  assert.is(hashOf('MD5-sess'), 'MD5');
  assert.is(hashOf('SHA-512-256-sess'), 'SHA-512-256');
  assert.is(digestHexLength('MD5'), 32);
  assert.is(digestHexLength('SHA-256'), 64);
  assert.is(digestHexLength('SHA-512-256'), 64);
});

algorithms.run();
