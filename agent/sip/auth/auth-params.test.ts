import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatAuthParams, formatChallenge, parseAuthParams, quoteString } from './auth-params.ts';
import { AuthError, isAuthError, isPeerInputError } from './errors.ts';

function malformedAt(value: string): number | undefined {
  try {
    parseAuthParams(value);
  } catch (err) {
    assert.ok(isAuthError(err, 'sip.auth.malformed-header'), String(err));
    assert.ok(isPeerInputError(err));
    return (err as AuthError).offset;
  }
  assert.unreachable(`expected ${JSON.stringify(value)} to be rejected`);
  return undefined;
}

const parse = suite('parseAuthParams');

parse('RFC 3261 §22.4 style credentials', () => {
  const { scheme, params } = parseAuthParams(
    'Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
      'uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", ' +
      'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  assert.is(scheme, 'Digest');
  assert.is(params.size, 9);
  assert.is(params.get('username'), 'bob');
  assert.is(params.get('uri'), 'sip:bob@biloxi.com');
  assert.is(params.get('qop'), 'auth');
  assert.is(params.get('nc'), '00000001');
  assert.is(params.get('response'), '6629fae49393a05397450978507c4ef1');
});

parse('escaped quotes and backslashes are unescaped', () => {
  const { params } = parseAuthParams('Digest username="a\\"b\\\\c", realm="x\\yz"');
  assert.is(params.get('username'), 'a"b\\c');
  assert.is(params.get('realm'), 'xyz');
});

parse('commas and equals signs inside quotes are data', () => {
  const { params } = parseAuthParams('Digest realm="Office, 2nd floor", qop="auth,auth-int", opaque="a=b"');
  assert.is(params.get('realm'), 'Office, 2nd floor');
  assert.is(params.get('qop'), 'auth,auth-int');
  assert.is(params.get('opaque'), 'a=b');
});

parse('parameter names are case-insensitive, values keep their case', () => {
  const { scheme, params } = parseAuthParams('DIGEST UserName="Bob", REALM="Biloxi.com", Algorithm=sha-256');
  assert.is(scheme, 'DIGEST');
  assert.is(params.get('username'), 'Bob');
  assert.is(params.get('realm'), 'Biloxi.com');
  assert.is(params.get('algorithm'), 'sha-256');
});

parse('LWS around = and , including tabs and a CRLF fold', () => {
  const { params } = parseAuthParams('  Digest\tusername = "bob"\t,\r\n  realm=\r\n "biloxi.com" ,nc =00000001  ');
  assert.equal([...params], [
    ['username', 'bob'],
    ['realm', 'biloxi.com'],
    ['nc', '00000001'],
  ]);
});

parse('a fold inside a quoted string keeps the whitespace, drops the CRLF', () => {
  assert.is(parseAuthParams('Digest realm="a\r\n b"').params.get('realm'), 'a b');
});

parse('empty quoted string and UTF-8 text are accepted', () => {
  const { params } = parseAuthParams('Digest username="", realm="Zürich ☎"');
  assert.is(params.get('username'), '');
  assert.is(params.get('realm'), 'Zürich ☎');
});

parse('rejects malformed values with the offset', () => {
  assert.is(malformedAt(''), 0);
  assert.is(malformedAt('Digest'), 6);
  assert.is(malformedAt('Digest   '), 9);
  assert.is(malformedAt('Digest username="bob'), 16); // unterminated: points at the opening quote
  assert.is(malformedAt('Digest username'), 15);
  assert.is(malformedAt('Digest username='), 16);
  assert.is(malformedAt('Digest username="bob" realm="x"'), 22); // missing comma
  assert.is(malformedAt('Digest username="bob",'), 22); // trailing comma
  assert.is(malformedAt('Digest ,username="bob"'), 7); // empty element
  assert.is(malformedAt('Digest username=sip:bob@x'), 19); // ':' is not a token character
  assert.is(malformedAt('Digest u="a\\'), 11); // backslash at the end
  assert.is(malformedAt('Digest u="a\nb"'), 11); // bare LF inside quotes
  assert.is(malformedAt('Digest u="a\r\nb"'), 11); // CRLF not followed by whitespace
  assert.is(malformedAt('Digest\r\nu=1'), 6);
  assert.is(malformedAt('Digest u=1, U=2'), 15); // duplicate, case-insensitively
  assert.is(malformedAt('Digest u=ä'), 9);
});

parse('enforces the length and parameter-count limits', () => {
  const many = Array.from({ length: 5 }, (_, i) => `p${i}=1`).join(', ');
  assert.is(parseAuthParams(`Digest ${many}`, { maxParams: 5 }).params.size, 5);
  assert.throws(() => parseAuthParams(`Digest ${many}`, { maxParams: 4 }), isAuthError);
  assert.throws(() => parseAuthParams(`Digest realm="${'x'.repeat(5000)}"`), isAuthError);
});

parse.run();

const format = suite('formatAuthParams / formatChallenge');

format('quoteString escapes and refuses control characters', () => {
  assert.is(quoteString('a"b\\c'), '"a\\"b\\\\c"');
  assert.throws(() => quoteString('a\r\nb'), (e: unknown) => isAuthError(e, 'sip.auth.invalid-argument'));
  assert.ok(!isPeerInputError(new AuthError('sip.auth.invalid-argument', 'x')));
});

format('formatChallenge writes RFC 3261 quoting and round-trips through the parser', () => {
  const value = formatChallenge({ realm: 'Acme "HQ"', nonce: 'n0/+=', algorithm: 'SHA-256', opaque: 'op', stale: true });
  assert.is(value, 'Digest realm="Acme \\"HQ\\"", nonce="n0/+=", algorithm=SHA-256, qop="auth", opaque="op", stale=true');
  const { scheme, params } = parseAuthParams(value);
  assert.is(scheme, 'Digest');
  assert.equal(Object.fromEntries(params), {
    realm: 'Acme "HQ"',
    nonce: 'n0/+=',
    algorithm: 'SHA-256',
    qop: 'auth',
    opaque: 'op',
    stale: 'true',
  });
});

format('formatChallenge omits opaque and stale when not given', () => {
  assert.is(
    formatChallenge({ realm: 'r', nonce: 'n', algorithm: 'MD5' }),
    'Digest realm="r", nonce="n", algorithm=MD5, qop="auth"',
  );
});

format('formatAuthParams refuses a non-token where a token is required', () => {
  assert.throws(() => formatAuthParams('Digest', [['algorithm', 'SHA 256', 'token']]), isAuthError);
  assert.throws(() => formatAuthParams('Digest', [['bad name', 'x', 'quoted']]), isAuthError);
  assert.throws(() => formatAuthParams('Dig est', []), isAuthError);
});

format.run();
