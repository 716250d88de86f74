import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { Store } from '../../store/store.ts';
import type { TrunkRecord } from '../../store/trunks.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import type { Binding } from '../../store/registrations.ts';
import { CallRouter, dialledNumber, endpointOf, forksOf, type SitePeerView } from './call-router.ts';

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

const site = suite('CallRouter.route: users registered on other boxes of the site');

/** Box a1 of branch-a with user 2002; peers a2 (udp) and a3 (tcp, IPv6) announced SIP addresses, a4 none. */
function siteRouter(peers: Partial<SitePeerView> = {}) {
  const store = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-router-site-')) });
  const clock = new ManualClock();
  store.users.upsert({ ext: '2002', displayName: '', realm: 'branch-a.example', site: 'branch-a', ha1Md5: '', ha1Sha256: '' }, 0);
  const addresses: Record<string, Endpoint> = {
    a2: { protocol: 'udp', address: '10.0.0.2', port: 5060 },
    a3: { protocol: 'tcp', address: '2001:db8::3', port: 5070 },
  };
  const r = new CallRouter({
    store, nodeId: 'a1', site: 'branch-a', clock, codecs: { available: ['PCMA'], boxDefault: ['PCMA'] }, busy: () => false,
    peers: { sipOf: (id) => addresses[id], ...peers },
  });
  const bind = (node: string, phone: string, instanceId = '') =>
    store.registrations.upsert({
      aor: '2002', contact: `sip:2002@${phone}:5062`, nodeId: node, expiresAt: clock.now() + 3_600_000, q: 1, callId: `reg-${node}-${phone}`, cseq: 1,
      path: '', userAgent: 'test', received: `udp:${phone}:5062`, instanceId, regId: 0, updatedAt: clock.now(),
    });
  const targets = (fromPeer = false) => {
    const out = r.route('sip:2002@branch-a.example', fromPeer);
    return 'status' in out ? `${out.status} ${out.reason}` : out.targets;
  };
  return { store, bind, targets, clock };
}

const phone = (ip: string) => ({ target: `sip:2002@${ip}:5062`, dest: { protocol: 'udp', address: ip, port: 5062 } });

site('bindings on this box only: its phones, as before', () => {
  const { store, bind, targets } = siteRouter();
  bind('a1', '192.0.2.1');
  assert.equal(targets(), [phone('192.0.2.1')]);
  store.close();
});

site('bindings owned by another box only: one fork to that box\'s SIP address (TCP and IPv6 written in the URI)', () => {
  const { store, bind, targets } = siteRouter();
  bind('a2', '192.0.2.2');
  bind('a2', '192.0.2.22');
  assert.equal(targets(), [{ target: 'sip:2002@10.0.0.2:5060', dest: { protocol: 'udp', address: '10.0.0.2', port: 5060 }, peer: 'a2' }], 'one branch per box, not per phone');
  store.close();
  const other = siteRouter();
  other.bind('a3', '192.0.2.3');
  assert.equal(other.targets(), [{ target: 'sip:2002@[2001:db8::3]:5070;transport=tcp', dest: { protocol: 'tcp', address: '2001:db8::3', port: 5070 }, peer: 'a3' }]);
  other.store.close();
});

site('bindings here and on two other boxes: fork to this box\'s phone and to each box', () => {
  const { store, bind, targets } = siteRouter();
  bind('a3', '192.0.2.3');
  bind('a1', '192.0.2.1');
  bind('a2', '192.0.2.2');
  const out = targets() as Array<{ target: string; peer?: string }>;
  assert.equal(out.map((t) => [t.target, t.peer]), [['sip:2002@192.0.2.1:5062', undefined], ['sip:2002@10.0.0.2:5060', 'a2'], ['sip:2002@[2001:db8::3]:5070;transport=tcp', 'a3']]);
  store.close();
});

site('owner up: one fork to the owner box; the same binding once the owner is down: straight to the phone from here', () => {
  let up = true;
  const { store, bind, targets } = siteRouter({ isUp: () => up });
  bind('a2', '192.0.2.2');
  assert.equal(targets(), [{ target: 'sip:2002@10.0.0.2:5060', dest: { protocol: 'udp', address: '10.0.0.2', port: 5060 }, peer: 'a2' }]);
  up = false;
  assert.equal(targets(), [{ ...phone('192.0.2.2'), ownerDown: 'a2' }], 'the contact, at the address the dead box saw (received)');
  store.close();
});

site('an owner without an announced address: its phones straight from here, next to this box\'s own', () => {
  const { store, bind, targets } = siteRouter();
  bind('a4', '192.0.2.4');
  assert.equal(targets(), [{ ...phone('192.0.2.4'), ownerDown: 'a4' }]);
  bind('a1', '192.0.2.1');
  const byUri = (ts: unknown) => (ts as Array<{ target: string }>).sort((x, y) => x.target.localeCompare(y.target));
  assert.equal(byUri(targets()), [phone('192.0.2.1'), { ...phone('192.0.2.4'), ownerDown: 'a4' }]);
  store.close();
});

site('a phone bound at the dead owner and again, later, here (re-registered): one fork, here', () => {
  const { store, bind, targets, clock } = siteRouter({ isUp: (id) => id !== 'a2' });
  bind('a2', '192.0.2.2');
  clock.advance(5_000);
  bind('a1', '192.0.2.2');
  assert.equal(targets(), [phone('192.0.2.2')]);
  store.close();
});

site('the owner back up with its older binding of a phone that moved here: one fork, here, not to the owner', () => {
  const { store, bind, targets, clock } = siteRouter();
  bind('a2', '192.0.2.2');
  clock.advance(5_000);
  bind('a1', '192.0.2.2');
  assert.equal(targets(), [phone('192.0.2.2')]);
  store.close();
});

site('one phone is its +sip.instance: bound with two contacts at two boxes, it rings at the newest', () => {
  const { store, bind, targets, clock } = siteRouter({ isUp: (id) => id !== 'a2' });
  bind('a2', '192.0.2.2', 'urn:uuid:00000000-0000-0000-0000-000000000001');
  clock.advance(5_000);
  bind('a1', '192.0.2.9', 'urn:uuid:00000000-0000-0000-0000-000000000001');
  assert.equal(targets(), [phone('192.0.2.9')]);
  store.close();
});

site('an expired binding of a dead owner is ignored: 480', () => {
  const { store, bind, targets, clock } = siteRouter({ isUp: () => false });
  bind('a2', '192.0.2.2');
  clock.advance(3_600_001);
  assert.is(targets(), '480 2002 is not registered');
  store.close();
});

site('a call a peer forwarded does not ring the phones of a dead owner (the forwarding box did)', () => {
  const { store, bind, targets } = siteRouter({ isUp: () => false });
  bind('a3', '192.0.2.3');
  assert.is(targets(true), '480 2002 is not registered');
  store.close();
});

site('a call a peer box forwarded rings only this box\'s phones (no second hop, no loop)', () => {
  const { store, bind, targets } = siteRouter();
  bind('a2', '192.0.2.2');
  assert.is(targets(true), '480 2002 is not registered');
  bind('a1', '192.0.2.1');
  assert.equal(targets(true), [phone('192.0.2.1')]);
  store.close();
});

const forks = suite('forksOf');

const binding = (nodeId: string, contact: string, updatedAt: number, expiresAt = 10_000): Binding => ({
  aor: '2002', contact, nodeId, expiresAt, q: 1, callId: 'c', cseq: 1, path: '', userAgent: '', received: 'udp:192.0.2.1:5062', instanceId: '', regId: 0, updatedAt,
});
const at = (id: string): Endpoint => ({ protocol: 'udp', address: `10.0.0.${id.slice(1)}`, port: 5060 });

forks('phones (own and of dead owners) first, in the bindings\' order, then one fork per live owner by id', () => {
  const peers: SitePeerView = { sipOf: at, isUp: (id) => id !== 'a9' };
  const out = forksOf([binding('a3', 'sip:x', 1), binding('a9', 'sip:y', 1), binding('a2', 'sip:z', 1), binding('a1', 'sip:w', 1), binding('a2', 'sip:v', 1)], { self: 'a1', fromPeer: false, now: 0, peers });
  assert.equal(out.map((f) => (f.kind === 'peer' ? `peer ${f.owner}` : `${f.kind} ${f.binding.contact}`)), ['direct sip:y', 'local sip:w', 'peer a2', 'peer a3']);
});

forks('one contact refreshed at the same ms at this box and a peer: this box\'s binding; expired ones do not count', () => {
  const peers: SitePeerView = { sipOf: at };
  const out = forksOf([binding('a2', 'sip:x', 5), binding('a1', 'sip:x', 5), binding('a3', 'sip:x', 9, 100)], { self: 'a1', fromPeer: false, now: 100, peers });
  assert.equal(out.map((f) => f.kind), ['local']);
});

forks('without a view of the peers (a box that does not replicate): only this box\'s bindings', () => {
  assert.equal(forksOf([binding('a2', 'sip:x', 1), binding('a1', 'sip:y', 1)], { self: 'a1', fromPeer: false, now: 0 }).map((f) => f.kind), ['local']);
});

dialled.run();
endpoint.run();
route.run();
site.run();
forks.run();
