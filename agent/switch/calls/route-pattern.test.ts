import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePattern } from './dial-plan.ts';
import { patternProblem } from './route-pattern.ts';

const test = suite('patternProblem');

test('says which character, where, and what is allowed', () => {
  assert.is(patternProblem('9.1'), 'character 2 is "." but "." is allowed only as the last character (one or more of anything)');
  assert.match(patternProblem('12a4')!, /^character 3 "a" is not allowed; a pattern may hold digits, \* # \+, X \(0-9\), Z \(1-9\), N \(2-9\), a set such as \[1-5\]/);
  assert.match(patternProblem('')!, /^a pattern cannot be empty/);
  assert.is(patternProblem('9[15'), 'the set opened at character 2 has no closing "]"');
  assert.is(patternProblem('9[]X'), 'the set "[]" at character 2 is empty: list digits or ranges, e.g. [1-5] or [135]');
  assert.is(patternProblem('[a]5'), 'the set "[a]" at character 1 may hold only digits and ranges of two digits such as 1-5');
  assert.is(patternProblem('[0-35-1]XX'), 'the set "[0-35-1]" at character 1 has the range 5-1, which goes downwards: write it low to high (1-5)');
});

test('agrees with compilePattern on what is valid', () => {
  const patterns = [
    '', '1', '1XXX', 'NXXNXXXXXX', '9.', '*XX', '#1', '+49.', 'xzn', '[135]', '[1-5]', '[0-36-9]X', '[5-1]XX', '1.2', '[a]5', '[15',
    'abc', '1(2)', '9[]', '[-1]', '[1-]', '[1--2]', '..', '.', '[1-5].', '1 2', '[1]]', ']', '[[1]]',
  ];
  for (const p of patterns) assert.is(patternProblem(p) === undefined, compilePattern(p) !== null, JSON.stringify(p));
});

test.run();
