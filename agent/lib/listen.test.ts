import { createServer, type Server } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentError, BindError, findCause } from './errors.ts';
import { listenOn, listenFailureReason } from './listen.ts';

const test = suite('listenOn and BindError');

const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

test('a taken port: BindError with the address, the OS code and a short reason', async () => {
  const holder = createServer();
  await listenOn(holder, '127.0.0.1', 0);
  const port = (holder.address() as { port: number }).port;
  const second = createServer();
  try {
    await listenOn(second, '127.0.0.1', port);
    assert.unreachable('the port is taken');
  } catch (err) {
    assert.instance(err, BindError);
    const b = err as BindError;
    assert.equal([b.code, b.protocol, b.host, b.ports, b.errno, b.reason], ['bind.failed', 'tcp', '127.0.0.1', [port, port], 'EADDRINUSE', 'address in use']);
    assert.is(b.message, `cannot listen on tcp:127.0.0.1:${port}: address in use`);
    assert.is(listenFailureReason(b), 'address in use');
  } finally {
    await close(holder);
  }
});

test('an address that is not on this host: EADDRNOTAVAIL', async () => {
  try {
    await listenOn(createServer(), '192.0.2.7', 0);
    assert.unreachable('192.0.2.7 (TEST-NET-1) is not on this host');
  } catch (err) {
    assert.is((err as BindError).errno, 'EADDRNOTAVAIL');
    assert.is((err as BindError).reason, 'address not available on this host');
  }
});

test('a range, an IPv6 host, and a BindError as the cause of another keeps the OS code', () => {
  const inner = new BindError('udp', '::1', 5070, Object.assign(new Error('bind EACCES'), { code: 'EACCES' }));
  assert.is(inner.message, 'cannot listen on udp:[::1]:5070: permission denied');
  const range = new BindError('udp', '10.0.0.1', [20000, 29999], inner, 'every port pair of the range is in use');
  assert.is(range.message, 'cannot listen on udp:10.0.0.1:20000-29999: every port pair of the range is in use');
  assert.is(range.errno, 'EACCES');
  const outer = new AgentError('layer.listen', 'wrapped', { cause: new AgentError('middle', 'x', { cause: range }) });
  assert.is(findCause(outer, BindError), range);
  assert.is(findCause(new Error('plain'), BindError), undefined);
});

test.run();
