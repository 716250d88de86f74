import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hasCode } from '../lib/errors.ts';
import { ensureDataDir } from './data-dir.ts';
import { DataDirError } from './errors.ts';
import { Store } from './store.ts';

const test = suite('ensureDataDir');

function refusal(fn: () => unknown): DataDirError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, DataDirError);
    return err as DataDirError;
  }
  assert.unreachable('expected a DataDirError');
  return undefined as never;
}

test('creates the folder with its parents, mode 0700; an existing folder is fine', () => {
  const root = mkdtempSync(join(tmpdir(), 'outpost-datadir-'));
  const dir = join(root, 'a', 'b', 'data');
  ensureDataDir(dir, false);
  assert.ok(statSync(dir).isDirectory());
  assert.is(statSync(dir).mode & 0o777, 0o700);
  ensureDataDir(dir, true);
});

test('a regular file above the folder is named, as Store.open reports it', () => {
  const root = mkdtempSync(join(tmpdir(), 'outpost-datadir-'));
  writeFileSync(join(root, 'file'), 'not a folder');
  const dir = join(root, 'file', 'sub', 'data');
  const err = refusal(() => Store.open({ dataDir: dir }));
  assert.is(err.code, 'store.data-dir');
  assert.is(err.dir, dir);
  assert.is(err.reason, `cannot create it: ${join(root, 'file')} is a file, not a folder`);
  assert.is(err.message, `data directory ${dir}: cannot create it: ${join(root, 'file')} is a file, not a folder`);
});

test('a dataDir that is itself a file is refused, with or without mustExist', () => {
  const root = mkdtempSync(join(tmpdir(), 'outpost-datadir-'));
  const file = join(root, 'data');
  writeFileSync(file, '');
  for (const mustExist of [false, true]) assert.is(refusal(() => ensureDataDir(file, mustExist)).reason, 'it is a file, not a folder');
});

test('mustExist: a missing folder is still "does not exist" (store.open)', () => {
  const root = mkdtempSync(join(tmpdir(), 'outpost-datadir-'));
  mkdirSync(join(root, 'x'));
  try {
    ensureDataDir(join(root, 'x', 'data'), true);
    assert.unreachable();
  } catch (err) {
    assert.ok(hasCode(err, 'store.open'));
    assert.match((err as Error).message, /does not exist$/);
  }
});

test.run();
