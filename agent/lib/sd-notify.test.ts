import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemdNotifier, socketAddress } from './sd-notify.ts';

const address = suite('socketAddress');

address('a path: AF_UNIX, the path, a terminating NUL', () => {
  const a = socketAddress('/run/systemd/notify');
  assert.ok(a);
  assert.is(a.readUInt16LE(0), 1);
  assert.is(a.subarray(2).toString(), '/run/systemd/notify\0');
});

address('an abstract name: a leading NUL, no terminator', () => {
  const a = socketAddress('@sd-notify');
  assert.ok(a);
  assert.equal([...a.subarray(2, 3)], [0]);
  assert.is(a.subarray(3).toString(), 'sd-notify');
});

address('unset, relative or too long: none', () => {
  assert.is(socketAddress(undefined), undefined);
  assert.is(socketAddress('notify'), undefined);
  assert.is(socketAddress(`/${'x'.repeat(107)}`), undefined);
});

address.run();

const notifier = suite('SystemdNotifier');

notifier('without NOTIFY_SOCKET: disabled, ready() does nothing', () => {
  const n = new SystemdNotifier({ env: {}, pid: process.pid });
  assert.not.ok(n.enabled);
  n.ready('x');
  n.stop();
});

// A real AF_UNIX datagram socket, bound by python3 (Node has none), receives what ready() sends.
notifier('ready() sends READY=1 and the watchdog pings to the socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sd-notify-'));
  const path = join(dir, 'notify');
  const receiver = spawn('python3', ['-c', [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("bound", flush=True)',
    'while True: print(s.recv(4096).decode().replace("\\n", "|"), flush=True)',
  ].join('\n'), path]);
  try {
    const lines = createInterface({ input: receiver.stdout })[Symbol.asyncIterator]();
    assert.is((await lines.next()).value, 'bound');
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '40000' }, pid: process.pid });
    assert.ok(n.enabled);
    n.ready('serving');
    assert.is((await lines.next()).value, 'READY=1|STATUS=serving');
    assert.is((await lines.next()).value, 'WATCHDOG=1');
    n.stop();
  } finally {
    receiver.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

notifier('WATCHDOG_PID of another process: no pings', () => {
  const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/notify', WATCHDOG_USEC: '1000', WATCHDOG_PID: '1' }, pid: process.pid, onError: () => undefined });
  n.ready('x');
  n.stop();
});

notifier.run();
