import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { claimKey, formatClaimCode, newClaimCode, parseClaimCode, parseClaimId } from './claim-code.ts';
import { TrustError } from './errors.ts';

const parse = suite('parseClaimCode');

parse('reads a printed code back, in any case, with dashes or spaces, and with look-alikes', () => {
  const code = newClaimCode();
  const printed = formatClaimCode(code);
  assert.match(printed, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.equal(parseClaimCode(printed), code);
  assert.equal(parseClaimCode(printed.toLowerCase()), code);
  assert.equal(parseClaimCode(` ${printed.replace(/-/g, ' ')} `), code);
  assert.equal(parseClaimCode(printed.replace(/-/g, '')), code);
  assert.equal(parseClaimCode('oo11-ilAB-CDEF'), { id: '0011', normalised: '001111ABCDEF' });
});

parse('refuses a wrong length or a letter that is not in the alphabet, with a one-line reason', () => {
  for (const [typed, words] of [['7KQ2-M9XD-4HR', 'has 11'], ['7KQ2-M9XD-4HRTX', 'has 13'], ['7KQ2-M9XD-4HRU', '"U" is not'], ['7KQ2_M9XD_4HRT', '"_" is not']] as const) {
    try {
      parseClaimCode(typed);
      assert.unreachable(typed);
    } catch (err) {
      assert.instance(err, TrustError);
      assert.is((err as TrustError).code, 'trust.claim-format');
      assert.ok((err as Error).message.includes(words), (err as Error).message);
      assert.not.ok((err as Error).message.includes('\n'));
    }
  }
});

parse('codes are drawn at random: 60 bits, no two alike in 1000', () => {
  const seen = new Set(Array.from({ length: 1000 }, () => newClaimCode().normalised));
  assert.is(seen.size, 1000);
});

const id = suite('parseClaimId');

id('normalises the first group as typed', () => {
  assert.is(parseClaimId('7kq2'), '7KQ2');
  assert.is(parseClaimId('o1l2'), '0112');
  assert.throws(() => parseClaimId('7KQ'), (e: unknown) => e instanceof TrustError && e.code === 'trust.claim-format');
});

const key = suite('claimKey');

key('is the same for the same code however it was typed, and differs for another code', () => {
  const code = parseClaimCode('7KQ2-M9XD-4HRT');
  assert.ok(claimKey(code).equals(claimKey(parseClaimCode('7kq2 m9xd 4hrt'))));
  assert.not.ok(claimKey(code).equals(claimKey(parseClaimCode('7KQ2-M9XD-4HRV'))));
  assert.is(claimKey(code).length, 32);
});

parse.run();
id.run();
key.run();
