import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { Store } from '../../store/store.ts';
import type { TrunkRecord } from '../../store/trunks.ts';
import { CallRouter, dialledNumber, endpointOf } from './call-router.ts';

const dialled = suite('dialledNumber');

dialled('the user part of a sip: or sips: URI, unescaped once (RFC 3261 §19.1.2)', () => {
  assert.is(dialledNumber('sip:1002@branch-a.example'), '1002');
  assert.is(dialledNumber('sips:%2A97@branch-a.example;user=phone'), '*97');
  assert.is(dialledNumber('sip:branch-a.example'), '', 'no user part');
});

dialled('the number of a tel: URI without visual separators (RFC 3966 §5.1.1)', () => {
  assert.is(dialledNumber('tel:+1-212-555-0100'), '+12125550100');
  assert.is(dialledNumber('tel:(0)30.1234;phone-context=+49'), '0301234');
});

dialled('an unreadable URI: undefined (400)', () => {
  assert.is(dialledNumber('sip:%zz@host'), undefined);
});

const endpoint = suite('endpointOf');

endpoint('a binding\'s received source, as the registrar writes it (a listen address)', () => {
  assert.equal(endpointOf('udp:192.0.2.20:5062'), { protocol: 'udp', address: '192.0.2.20', port: 5062 });
  assert.equal(endpointOf('tcp:[2001:db8::1]:5070'), { protocol: 'tcp', address: '2001:db8::1', port: 5070 });
});

endpoint('rows written before IPv6 was bracketed, and anything unreadable', () => {
  assert.equal(endpointOf('udp:2001:db8::1:5070'), { protocol: 'udp', address: '2001:db8::1', port: 5070 });
  assert.equal(endpointOf('192.0.2.20'), { protocol: 'udp', address: '192.0.2.20', port: 5060 });
});

const route = suite('CallRouter.route');

function router(trunk: Partial<TrunkRecord> = {}) {
  const store = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-router-')) });
  store.trunks.upsert({ id: 'pstn', host: '198.51.100.7', port: 5080, transport: 'udp', codecs: ['PCMA'], site: 'branch-a', enabled: true, ...trunk }, 0);
  store.routes.upsert({ id: 'out', pattern: '0.', priority: 10, action: 'trunk', target: 'pstn', strip: 1, prefix: '', site: '', enabled: true }, 0);
  const r = new CallRouter({ store, nodeId: 'a1', site: 'branch-a', clock: new ManualClock(), codecs: { available: ['PCMA', 'PCMU'], boxDefault: ['PCMU'] }, busy: () => false });
  return { r, store };
}

route('a trunk route: the rewritten number at the trunk\'s address, escaped in the user part, the trunk\'s codecs', () => {
  const { r, store } = router({ host: '2001:db8::7', transport: 'tcp' });
  assert.equal(r.route('sip:0123%23@branch-a.example'), {
    callee: '123#',
    targets: [{ target: 'sip:123%23@[2001:db8::7]:5080;transport=tcp', dest: { protocol: 'tcp', address: '2001:db8::7', port: 5080 } }],
    codecs: ['PCMA'],
  });
  store.close();
});

route('a disabled trunk, or one of another site: 503', () => {
  for (const trunk of [{ enabled: false }, { site: 'branch-b' }]) {
    const { r, store } = router(trunk);
    assert.equal(r.route('sip:0123@branch-a.example'), { status: 503, reason: 'Trunk pstn is not available' });
    store.close();
  }
});

dialled.run();
endpoint.run();
route.run();
