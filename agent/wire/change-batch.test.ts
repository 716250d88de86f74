import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DirectSqlPool } from '../store/direct-sql.ts';
import { Store } from '../store/store.ts';
import { WireError } from './binary.ts';
import { decodeBatch, decodeBatchHeader, encodeBatch, type ChangeBatch, type WireChange, type WireValue } from './change-batch.ts';
import type { StreamName } from './topics.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const ed25519 = (bytes: Buffer) => sign(null, bytes, privateKey);
const MAX = (1n << 63n) - 1n;

const opened: Store[] = [];
/** Rows of every storage class, written as local writes (a connection of its own). */
const direct = new DirectSqlPool({ durable: false });
function open(): Store {
  const s = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-batch-')) });
  opened.push(s);
  return s;
}

/** Writes rows holding every SQLite storage class and returns the store's changes. */
function realChanges(s: Store): WireChange[] {
  const sql = direct.of(s).db;
  const user = sql.prepare('INSERT INTO users (ext, display_name, realm, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
  sql.transaction(() => {
    user.run('1001', 'Zoë 📞 中文', Buffer.from([0, 1, 2, 255]), -42n, 2n ** 53n + 1n); // blob in a TEXT column stays a blob
    user.run('1002', '', Buffer.alloc(0), MAX, -(1n << 63n));
    user.run('1003', 'x'.repeat(5000), randomBytes(100_000), 1.5, 0n); // a REAL in an INTEGER column stays REAL
  })();
  const reg = sql.prepare(`INSERT INTO registrations (aor, contact, node_id, q, expires_at) VALUES ('1001', ?, 'n1', ?, ?)`);
  reg.run('sip:a@h', null, 0n);
  reg.run('sip:b@h', -0.125, 1n);
  reg.run('sip:c@h', 1e-300, 2n);
  sql.prepare(`INSERT INTO dialogs (call_uuid, node_id, answered_at) VALUES ('c1', 'n1', NULL)`).run();
  sql.prepare(`DELETE FROM users WHERE ext = '1002'`).run();
  return s.changes.page(0n, {}, 100_000).changes;
}

function batchOf(changes: WireChange[], over: Partial<ChangeBatch> = {}): ChangeBatch {
  return { kind: 'reply', sender: 'node-a1', stream: 'site/hq', requestId: 'req-1', schema: 3, from: 0n, to: 17n, more: true, changes, ...over };
}

/** Comparable form: byte arrays as hex whatever their class, floats by their bits (keeps -0). */
function norm(b: ChangeBatch): unknown {
  const v = (x: WireValue): unknown =>
    x instanceof Uint8Array ? `b:${Buffer.from(x).toString('hex')}` : typeof x === 'number' ? `f:${Buffer.from(new Float64Array([x]).buffer).toString('hex')}` : x;
  return { ...b, changes: b.changes.map((c) => ({ ...c, pk: v(c.pk), siteId: v(c.siteId), val: v(c.val) })) };
}

function isMalformed(err: unknown): boolean {
  return err instanceof WireError && err.code === 'wire.malformed';
}

/** Decodes or throws WireError; any other exception fails the test. */
function decodeOrWireError(bytes: Uint8Array): ReturnType<typeof decodeBatch> | undefined {
  try {
    return decodeBatch(bytes);
  } catch (err) {
    if (!isMalformed(err)) throw new Error(`decodeBatch threw ${String(err)} for ${Buffer.from(bytes).toString('hex').slice(0, 200)}`);
    return undefined;
  }
}

const rt = suite('change batch round trip');
rt.after.each(() => {
  direct.closeAll();
  while (opened.length > 0) opened.pop()!.close();
});

rt('real changes of every SQLite type survive encode/decode and merge into another store', () => {
  const a = open();
  const changes = realChanges(a);
  const kinds = new Set(changes.map((c) => (c.val === null ? 'null' : c.val instanceof Uint8Array ? 'blob' : typeof c.val)));
  assert.equal([...kinds].sort(), ['bigint', 'blob', 'null', 'number', 'string']);
  assert.ok(changes.some((c) => typeof c.val === 'bigint' && c.val < 0n));
  assert.ok(changes.some((c) => typeof c.val === 'bigint' && c.val > 2n ** 53n));
  const batch = batchOf(changes, { from: 0n, to: a.changes.head(), more: false });
  const bytes = encodeBatch(batch, ed25519);
  const decoded = decodeBatch(bytes);
  assert.equal(norm(decoded.batch), norm(batch));
  const b = open();
  b.changes.apply(decoded.batch.changes);
  assert.equal(b.digests(), a.digests());
});

rt('header fields, incl. versions up to 2^63-1', () => {
  const cases: Array<Partial<ChangeBatch>> = [
    { kind: 'push', more: false, from: 0n, to: 0n, stream: 'own', requestId: '', schema: 0 },
    { kind: 'reply', more: true, from: MAX - 1n, to: MAX, stream: 'global', requestId: 'r-ü', schema: 2 ** 31 },
    { kind: 'reply', more: false, from: 2n ** 53n - 1n, to: 2n ** 53n, stream: 'site/branch-7', schema: Number.MAX_SAFE_INTEGER },
    { kind: 'push', more: true, from: 127n, to: 128n, sender: '', schema: 127 },
  ];
  for (const over of cases) {
    const batch = batchOf([], over);
    const bytes = encodeBatch(batch, ed25519);
    const { changes: _none, ...header } = batch;
    assert.equal(decodeBatchHeader(bytes), header);
    assert.equal(decodeBatch(bytes).batch, batch);
  }
});

rt('signature: sign sees exactly the signed bytes; verifies over `signed`', () => {
  const a = open();
  const batch = batchOf(realChanges(a));
  let seen: Buffer | undefined;
  const bytes = encodeBatch(batch, (b) => {
    seen = Buffer.from(b);
    return ed25519(b);
  });
  const d = decodeBatch(bytes);
  assert.is(d.signature.length, 64);
  assert.equal(d.signed, seen);
  assert.equal(d.signed, bytes.subarray(0, bytes.length - 66)); // node signature (1 + 64) and an empty admin signature (1)
  assert.is(d.adminSignature, undefined);
  assert.ok(verify(null, d.signed, publicKey, d.signature));
  const tampered = Buffer.from(bytes);
  tampered[20]! ^= 1;
  const t = decodeOrWireError(tampered);
  if (t) assert.not.ok(verify(null, t.signed, publicKey, t.signature), 'a flipped byte must break the signature');
  // An empty signature is carried as such.
  assert.is(decodeBatch(encodeBatch(batch, () => new Uint8Array(0))).signature.length, 0);
});

rt('property: random change lists round-trip', () => {
  const sites = [randomBytes(16), randomBytes(16), randomBytes(16)];
  const u63 = fc.bigInt({ min: 0n, max: MAX });
  const value: fc.Arbitrary<WireValue> = fc.oneof(
    fc.constant(null),
    fc.bigInt({ min: -(1n << 63n), max: MAX }),
    fc.constantFrom(0n, -1n, 1n, 63n, -64n, 64n, MAX, -(1n << 63n)),
    fc.double(),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }),
  );
  const change: fc.Arbitrary<WireChange> = fc.record({
    table: fc.constantFrom('users', 'registrations', 'bans', ''),
    pk: fc.uint8Array({ maxLength: 30 }),
    cid: fc.string({ unit: 'grapheme', maxLength: 12 }),
    val: value,
    colVersion: u63,
    dbVersion: u63,
    // Same object, equal copies and odd lengths: the encoder's site table must cope with all.
    siteId: fc.oneof(fc.constantFrom(...sites), fc.constantFrom(...sites).map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 20 })),
    cl: u63,
    seq: u63,
  });
  const stream = fc.oneof(fc.constantFrom<StreamName>('own', 'global'), fc.string({ maxLength: 10 }).map((s): StreamName => `site/${s}`));
  const batch: fc.Arbitrary<ChangeBatch> = fc
    .record({
      kind: fc.constantFrom<'push' | 'reply'>('push', 'reply'),
      sender: fc.string({ unit: 'grapheme', maxLength: 20 }),
      stream,
      requestId: fc.string({ maxLength: 20 }),
      schema: fc.oneof(fc.nat(1000), fc.maxSafeNat()),
      a: u63,
      b: u63,
      more: fc.boolean(),
      changes: fc.array(change, { maxLength: 25 }),
    })
    .map(({ a, b, ...rest }) => ({ ...rest, from: a < b ? a : b, to: a < b ? b : a }));
  fc.assert(
    fc.property(batch, (x) => {
      const d = decodeBatch(encodeBatch(x, ed25519));
      assert.equal(norm(d.batch), norm(x));
      assert.ok(verify(null, d.signed, publicKey, d.signature));
    }),
    { numRuns: 400 },
  );
});

const bad = suite('malformed change batches');

function sampleBytes(): Buffer {
  const s = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-batch-')) });
  try {
    const changes = realChanges(s).map((c) => (c.val instanceof Uint8Array && c.val.length > 64 ? { ...c, val: c.val.subarray(0, 64) } : c));
    return encodeBatch(batchOf(changes.filter((c) => typeof c.val !== 'string' || c.val.length < 100)), ed25519);
  } finally {
    s.close();
  }
}

bad('every proper prefix throws WireError; the header decoder gives the header or WireError', () => {
  const bytes = sampleBytes();
  const header = decodeBatchHeader(bytes);
  for (let n = 0; n < bytes.length; n++) {
    const prefix = bytes.subarray(0, n);
    try {
      decodeBatch(prefix);
      assert.unreachable(`prefix of ${n}/${bytes.length} bytes decoded`);
    } catch (err) {
      assert.ok(isMalformed(err), `prefix ${n}: ${String(err)}`);
    }
    try {
      assert.equal(decodeBatchHeader(prefix), header, `header from prefix ${n}`);
    } catch (err) {
      if ((err as Error).name === 'Assertion') throw err;
      assert.ok(isMalformed(err), `header prefix ${n}: ${String(err)}`);
    }
  }
  assert.ok(isMalformedThrow(() => decodeBatch(Buffer.concat([bytes, Buffer.from([0])]))), 'a trailing byte');
});

function isMalformedThrow(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return isMalformed(err);
  }
}

bad('structural errors: magic, kind, backwards range, value tag', () => {
  const good = encodeBatch(batchOf([], { from: 5n, to: 9n }), ed25519);
  const at = (i: number, v: number) => {
    const b = Buffer.from(good);
    b[i] = v;
    return b;
  };
  assert.ok(isMalformedThrow(() => decodeBatch(at(0, 0x50))), 'magic');
  assert.ok(isMalformedThrow(() => decodeBatch(at(3, 2))), 'version');
  assert.ok(isMalformedThrow(() => decodeBatch(at(4, 3))), 'kind');
  assert.ok(isMalformedThrow(() => decodeBatchHeader(at(4, 0))), 'kind in header');
  assert.ok(isMalformedThrow(() => decodeBatch(encodeBatch(batchOf([], { from: 9n, to: 5n }), ed25519))), 'from > to');
  assert.ok(isMalformedThrow(() => decodeBatch(new Uint8Array(0))), 'empty');
});

bad('random byte flips and random tails decode or throw WireError, nothing else', () => {
  const bytes = sampleBytes();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
      const b = Buffer.from(bytes);
      for (const [i, x] of flips) b[i]! ^= x;
      const started = Date.now();
      decodeOrWireError(b);
      assert.ok(Date.now() - started < 1000, 'decode took too long');
    }),
    { numRuns: 3000 },
  );
  const head = bytes.subarray(0, 40);
  fc.assert(
    fc.property(fc.nat(40), fc.uint8Array({ maxLength: 200 }), (cut, tail) => {
      decodeOrWireError(Buffer.concat([head.subarray(0, cut), tail]));
    }),
    { numRuns: 3000 },
  );
});

rt.run();
bad.run();
