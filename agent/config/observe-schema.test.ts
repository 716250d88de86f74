import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultHttpListen } from './observe-schema.ts';

const test = suite('defaultHttpListen');

test('port 8080 on the address of the first sip.listen entry; every address when SIP listens on all', () => {
  assert.is(defaultHttpListen([{ host: '0.0.0.0' }, { host: '127.0.0.1' }]), '0.0.0.0:8080');
  assert.is(defaultHttpListen([{ host: '127.0.0.1' }]), '127.0.0.1:8080');
  assert.is(defaultHttpListen([{ host: '192.168.10.2' }]), '192.168.10.2:8080');
  assert.is(defaultHttpListen([{ host: '::1' }]), '[::1]:8080');
  assert.is(defaultHttpListen([]), '0.0.0.0:8080');
});

test.run();
