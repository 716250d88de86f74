import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from './cli-error.ts';
import { parseWholeNumber } from './cli-numbers.ts';

const test = suite('parseWholeNumber');

test('a whole number in range', () => {
  assert.is(parseWholeNumber('--strip', '0', 0), 0);
  assert.is(parseWholeNumber('--priority', '-5', -10, 10), -5);
  assert.is(parseWholeNumber('--priority', '+7', -10, 10), 7);
  assert.is(parseWholeNumber('--port', '65535', 0, 65535), 65535);
});

test('anything else names the option, the text and the range', () => {
  const refused = (text: string, min: number, max: number | undefined, message: string) => {
    try {
      parseWholeNumber('--n', text, min, max);
    } catch (err) {
      assert.instance(err, CliError);
      assert.is((err as Error).message, message);
      return;
    }
    assert.unreachable(`${text} should be refused`);
  };
  refused('-1', 0, undefined, 'invalid --n "-1": use a whole number of 0 or more');
  refused('0', 1, undefined, 'invalid --n "0": use a whole number of 1 or more');
  refused('70000', 0, 65535, 'invalid --n "70000": use a whole number from 0 to 65535');
  for (const text of ['', ' ', '1.5', '1e3', '0x10', 'ten', '3 ', '99999999999999999999']) {
    refused(text, 0, 100, `invalid --n "${text}": use a whole number from 0 to 100`);
  }
});

test.run();
