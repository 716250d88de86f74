import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'node:dgram';
import { hasCode } from '../lib/errors.ts';
import { isRetryable, MediaError } from './errors.ts';
import { findFreePortRange } from './fake-phone.ts';
import { PortPool } from './port-pool.ts';
import { bindSocketPair, bindUdp } from './socket-pair.ts';

const fakeBind = (port: number) => Promise.resolve(port);

function busy(): Promise<never> {
  return Promise.reject(Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE' }));
}

const test = suite('PortPool');

test('hands out even RTP ports with RTP+1 inside the range', async () => {
  const pool = new PortPool([30001, 30010]);
  assert.is(pool.capacity, 4); // 30002/3, 30004/5, 30006/7, 30008/9
  const ports: number[] = [];
  for (let i = 0; i < 4; i++) ports.push((await pool.allocate(fakeBind)).port);
  assert.equal(ports, [30002, 30004, 30006, 30008]);
  assert.is(pool.available, 0);
});

test('a range whose last port is even keeps the pair inside it', async () => {
  const pool = new PortPool([20000, 20004]);
  assert.is(pool.capacity, 2); // 20004 has no 20005
});

test('exhaustion is MediaError media.ports-exhausted, retryable', async () => {
  const pool = new PortPool([30000, 30003]);
  await pool.allocate(fakeBind);
  await pool.allocate(fakeBind);
  try {
    await pool.allocate(fakeBind);
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, MediaError);
    assert.ok(hasCode(err, 'media.ports-exhausted'));
    assert.ok(isRetryable(err));
  }
});

test('a port the OS refuses is skipped and retried after the others', async () => {
  const pool = new PortPool([30000, 30005]);
  let calls = 0;
  const first = await pool.allocate((port) => (++calls === 1 ? busy() : Promise.resolve(port)));
  assert.is(first.port, 30002);
  assert.is((await pool.allocate(fakeBind)).port, 30004);
  assert.is((await pool.allocate(fakeBind)).port, 30000, 'the refused pair went to the back');
});

test('every pair refused: exhaustion names the refusals', async () => {
  const pool = new PortPool([30000, 30003]);
  try {
    await pool.allocate(busy);
    assert.unreachable('should throw');
  } catch (err) {
    assert.ok(hasCode(err, 'media.ports-exhausted'));
    assert.match((err as Error).message, /2 refused/);
  }
  assert.is(pool.available, 2);
});

test('another bind failure is media.bind and returns the pair', async () => {
  const pool = new PortPool([30000, 30003]);
  try {
    await pool.allocate(() => Promise.reject(Object.assign(new Error('nope'), { code: 'EADDRNOTAVAIL' })));
    assert.unreachable('should throw');
  } catch (err) {
    assert.ok(hasCode(err, 'media.bind'));
    assert.not.ok(isRetryable(err));
  }
  assert.is(pool.available, 2);
});

test('free() returns a pair for reuse, FIFO; double and foreign frees are ignored', async () => {
  const pool = new PortPool([30000, 30005]);
  const a = await pool.allocate(fakeBind);
  await pool.allocate(fakeBind);
  pool.free(a.port);
  pool.free(a.port);
  pool.free(12345);
  pool.free(30001);
  assert.is(pool.available, 2);
  assert.is((await pool.allocate(fakeBind)).port, 30004, 'least recently freed first');
  assert.is((await pool.allocate(fakeBind)).port, 30000);
});

test('a range without a pair is media.config', () => {
  assert.throws(() => new PortPool([30001, 30001]), (err: unknown) => hasCode(err, 'media.config'));
  assert.throws(() => new PortPool([30010, 30000]), (err: unknown) => hasCode(err, 'media.config'));
});

test('real sockets: a pair whose RTCP port we occupy is skipped, and its RTP port is not left bound', async () => {
  const [lo, hi] = await findFreePortRange(6);
  const blocker = await bindUdp('127.0.0.1', lo + 1);
  const held: Socket[] = [];
  try {
    const pool = new PortPool([lo, hi]);
    const got = await pool.allocate((port) => bindSocketPair('127.0.0.1', port));
    held.push(got.value.rtp, got.value.rtcp);
    assert.is(got.port, lo + 2);
    assert.is(got.value.rtp.address().port, lo + 2);
    assert.is(got.value.rtcp.address().port, lo + 3);
    // The RTP half of the refused pair was closed again.
    held.push(await bindUdp('127.0.0.1', lo));
  } finally {
    blocker.close();
    for (const s of held) s.close();
  }
});

test.run();
