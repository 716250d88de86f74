import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPayloadTypeMap, normalizeEncoding } from './payload-type-map.ts';

const test = suite('buildPayloadTypeMap');

test('same numbers on both legs: no map', () => {
  const pts = new Map([[0, 'PCMU/8000'], [101, 'telephone-event/8000']]);
  assert.is(buildPayloadTypeMap(pts, pts), null);
});

test('telephone-event 101 on one leg, 96 on the other, case-insensitive', () => {
  const a = new Map([[0, 'PCMU/8000'], [101, 'telephone-event/8000']]);
  const b = new Map([[0, 'pcmu/8000'], [96, 'TELEPHONE-EVENT/8000']]);
  const ab = buildPayloadTypeMap(a, b)!;
  assert.is(ab[101], 96);
  assert.is(ab[0], 0);
  assert.is(ab[8], 8, 'unknown numbers stay');
  assert.is(buildPayloadTypeMap(b, a)![96], 101);
});

test('swapped numbers map both ways', () => {
  const a = new Map([[96, 'opus/48000/2'], [97, 'telephone-event/48000']]);
  const b = new Map([[97, 'opus/48000/2'], [96, 'telephone-event/48000']]);
  const ab = buildPayloadTypeMap(a, b)!;
  assert.is(ab[96], 97);
  assert.is(ab[97], 96);
});

test('encodings the other leg lacks, and other clock rates, are left alone', () => {
  const a = new Map([[101, 'telephone-event/8000'], [9, 'G722/8000']]);
  const b = new Map([[100, 'telephone-event/16000']]);
  assert.is(buildPayloadTypeMap(a, b), null);
});

const norm = suite('normalizeEncoding');

norm('lowercases and drops a single-channel suffix', () => {
  assert.is(normalizeEncoding('PCMU/8000/1'), 'pcmu/8000');
  assert.is(normalizeEncoding('opus/48000/2'), 'opus/48000/2');
  assert.is(normalizeEncoding(' G722/8000 '), 'g722/8000');
});

test.run();
norm.run();
