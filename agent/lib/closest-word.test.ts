import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closestWord, editDistance } from './closest-word.ts';

const test = suite('closestWord');

test('editDistance counts insertions, deletions, substitutions and swaps of neighbours as one edit', () => {
  assert.is(editDistance('domain', 'domain'), 0);
  assert.is(editDistance('domian', 'domain'), 1);
  assert.is(editDistance('listn', 'listen'), 1);
  assert.is(editDistance('listenn', 'listen'), 1);
  assert.is(editDistance('lisxen', 'listen'), 1);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('abc', ''), 3);
  assert.is(editDistance('kitten', 'sitting'), 3);
});

test('suggests the closest candidate, ignoring case, only when it is close enough', () => {
  const keys = ['version', 'node', 'dataDir', 'log', 'sip', 'rtp', 'calls', 'hub', 'peers', 'mqtt', 'sync', 'metrics'];
  assert.is(closestWord('datadir', keys), 'dataDir');
  assert.is(closestWord('data_dir', keys), 'dataDir');
  assert.is(closestWord('rpt', keys), 'rtp');
  assert.is(closestWord('metrcis', keys), 'metrics');
  assert.is(closestWord('peer', keys), 'peers');
  assert.is(closestWord('colour', keys), undefined);
  assert.is(closestWord('x', keys), undefined);
  assert.is(closestWord('listen', keys), undefined);
  assert.is(closestWord('anything', []), undefined);
});

test('of equally close candidates, the first wins', () => {
  assert.is(closestWord('t3', ['t1', 't2', 't4']), 't1');
});

test.run();
