// unpackPrimaryKey against packed keys that the real cr-sqlite extension produces, and against
// cr-sqlite's own decoder (crsql_unpack_columns). Malformed input must be a StoreError.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StoreError } from './errors.ts';
import { unpackPrimaryKey, type PkValue } from './pk-codec.ts';
import { DEFAULT_CRSQLITE_PATH } from './store.ts';

type DB = Database.Database;

function openDb(): DB {
  const db = new Database(':memory:');
  db.loadExtension(DEFAULT_CRSQLITE_PATH);
  return db;
}

function closeDb(db: DB): void {
  db.prepare('SELECT crsql_finalize()').get();
  db.close();
}

/** Packed pks (of the change to column `v`) in insertion order, for a CRR table `t`. */
function packedKeys(db: DB): Buffer[] {
  return db.prepare(`SELECT pk FROM crsql_changes WHERE "table" = 't' AND cid = 'v' ORDER BY db_version, seq`).pluck().all() as Buffer[];
}

function crsqlUnpack(db: DB, pk: Uint8Array): unknown[] {
  return db.prepare('SELECT cell FROM crsql_unpack_columns(?)').safeIntegers(true).pluck().all(pk);
}

/** Blobs compare as plain byte arrays whatever their class. */
const norm = (vs: readonly unknown[]) => vs.map((v) => (v instanceof Uint8Array ? [...v] : v));

function keysOf(rows: Array<[string, bigint, bigint]>): { db: DB; keys: Buffer[] } {
  const db = openDb();
  db.exec('CREATE TABLE t (a TEXT NOT NULL, b INTEGER NOT NULL, c INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b, c))');
  db.prepare(`SELECT crsql_as_crr('main', 't')`).get();
  const ins = db.prepare('INSERT INTO t (a, b, c, v) VALUES (?, ?, ?, ?)');
  for (const [a, b, c] of rows) ins.run(a, b, c, 'x');
  return { db, keys: packedKeys(db) };
}

function checkRows(rows: Array<[string, bigint, bigint]>): void {
  const { db, keys } = keysOf(rows);
  try {
    assert.is(keys.length, rows.length);
    rows.forEach((row, i) => {
      const pk = keys[i]!;
      const ours = unpackPrimaryKey(pk);
      assert.equal(ours, row, `pk ${pk.toString('hex')} should decode to ${row.map(String)} (got ${ours.map(String)})`);
      assert.equal(ours, crsqlUnpack(db, pk), `pk ${pk.toString('hex')} disagrees with crsql_unpack_columns`);
    });
  } finally {
    closeDb(db);
  }
}

const real = suite('unpackPrimaryKey: real cr-sqlite keys');

real('text and integers whose minimal width has no high bit set', () => {
  const ints = [0n, 1n, -1n, 5n, 127n, 256n, 0x7fffn, 1n << 40n, -(1n << 40n), 1n << 62n, -(1n << 62n), (1n << 63n) - 1n, -(1n << 63n), -128n, -129n];
  checkRows([
    ...ints.map((n, i): [string, bigint, bigint] => [`k${i}`, n, BigInt(i) - 7n]),
    ['', 0n, 0n],
    ['é ü 😀 中文', 7n, 1n << 40n],
    ['x'.repeat(300), 1n, 2n], // a length that needs two bytes
  ]);
});

// cr-sqlite packs an integer in the fewest bytes that hold its non-zero bytes (negatives always
// take 8), so 128 is the single byte 0x80. It is not a sign bit: crsql_unpack_columns gives 128.
real('positive integers whose minimal width has the high bit set (128, 200, 255, 2^15, 2^31, 2^47)', () => {
  const ints = [128n, 200n, 255n, 0x8000n, 0xffffn, 1n << 31n, 0xffffffffn, 1n << 47n, (1n << 56n) - 1n];
  checkRows(ints.map((n, i): [string, bigint, bigint] => [`h${i}`, n, 1n]));
});

real('float, blob and text columns match crsql_unpack_columns', () => {
  const db = openDb();
  try {
    db.exec('CREATE TABLE t (a REAL NOT NULL, b BLOB NOT NULL, c TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b, c))');
    db.prepare(`SELECT crsql_as_crr('main', 't')`).get();
    const rows: PkValue[][] = [
      [1.5, new Uint8Array([0, 1, 255]), 'a'],
      [-0.25, new Uint8Array(0), ''],
      [1e300, new Uint8Array(70_000).fill(7), 'z'.repeat(70_000)], // three-byte lengths
    ];
    const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
    for (const r of rows) ins.run(...r, 'x');
    const keys = packedKeys(db);
    assert.is(keys.length, rows.length);
    keys.forEach((pk, i) => {
      assert.equal(norm(unpackPrimaryKey(pk)), norm(rows[i]!));
      assert.equal(norm(unpackPrimaryKey(pk)), norm(crsqlUnpack(db, pk)));
    });
  } finally {
    closeDb(db);
  }
});

real('accepts a Uint8Array view at an offset inside a larger buffer', () => {
  const { db, keys } = keysOf([['abc', 42n, -3n]]);
  closeDb(db);
  const pk = keys[0]!;
  const big = new Uint8Array(pk.length + 10);
  big.set(pk, 5);
  assert.equal(unpackPrimaryKey(big.subarray(5, 5 + pk.length)), ['abc', 42n, -3n]);
});

const bad = suite('unpackPrimaryKey: malformed input');

function decodeError(input: Uint8Array): StoreError | undefined {
  try {
    unpackPrimaryKey(input);
    return undefined;
  } catch (err) {
    if (!(err instanceof StoreError)) throw new Error(`not a StoreError for ${Buffer.from(input).toString('hex')}: ${String(err)}`);
    assert.is(err.code, 'store.decode');
    return err;
  }
}

function mustFail(input: Uint8Array | number[], why: string): void {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  assert.ok(decodeError(bytes), `${why}: ${Buffer.from(bytes).toString('hex')} should be rejected`);
}

bad('empty, truncated, trailing bytes, bad types, bad widths', () => {
  mustFail([], 'empty');
  mustFail([2, 0x0b, 1, 0x61], 'one of two columns'); // 2 columns, only text 'a'
  mustFail([1, 0x0b, 5, 0x61], 'text shorter than its length');
  mustFail([1, 0x11, 0x01], 'integer shorter than its width');
  mustFail([1, 0x02, 0, 0, 0], 'float shorter than 8 bytes');
  mustFail([1, 0x09, 1, 0], 'trailing byte');
  mustFail([0, 0], 'trailing byte after zero columns');
  for (const type of [0, 6, 7]) mustFail([1, (1 << 3) | type, 0], `column type ${type}`);
  mustFail([1, (9 << 3) | 1, ...new Array(9).fill(1)], 'integer wider than 8 bytes');
  mustFail([1, (7 << 3) | 3, ...new Array(7).fill(0)], 'text length of 7 bytes');
  mustFail([1, (31 << 3) | 4, 0xff], 'blob length of 31 bytes');
});

bad('every proper prefix of a real key, and the key plus a byte, is rejected', () => {
  const { db, keys } = keysOf([['prefix-test', -5n, 1n << 40n], ['', 0n, 1n]]);
  closeDb(db);
  for (const pk of keys) {
    for (let n = 0; n < pk.length; n++) mustFail(pk.subarray(0, n), `prefix ${n}`);
    mustFail(Buffer.concat([pk, Buffer.from([0])]), 'extra byte');
  }
});

bad('random bytes decode or throw StoreError store.decode, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      decodeError(bytes);
    }),
    { numRuns: 3000 },
  );
  // Random bytes after a plausible header (count 1..4) reach the per-type paths more often.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.uint8Array({ maxLength: 30 }), (count, rest) => {
      decodeError(new Uint8Array([count, ...rest]));
    }),
    { numRuns: 3000 },
  );
});

real.run();
bad.run();
