import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aclTopics, mayPublish, mayReceive, maySubscribe, type AclIdentity, type SiteLookup } from './broker-acl.ts';

const P = 'outpost/v1';
const hub: AclIdentity = { nodeId: 'hub', site: '', role: 'hub' };
const a1: AclIdentity = { nodeId: 'a1', site: 'a', role: 'node' };
const a2: AclIdentity = { nodeId: 'a2', site: 'a', role: 'node' };
const b1: AclIdentity = { nodeId: 'b1', site: 'b', role: 'node' };
const fleet = [hub, a1, a2, b1];
const siteOf: SiteLookup = (id) => fleet.find((n) => n.nodeId === id);

const publish = suite('mayPublish');

publish('telemetry: a box publishes only its own, and only the hub receives it', () => {
  assert.ok(mayPublish(a1, `${P}/node/a1/telemetry`, siteOf));
  assert.not.ok(mayPublish(a1, `${P}/node/a2/telemetry`, siteOf), 'a peer\'s telemetry');
  assert.not.ok(mayReceive(a2, `${P}/node/a1/telemetry`, siteOf), 'a peer reads none');
  assert.not.ok(maySubscribe(a2, `${P}/node/+/telemetry`, siteOf));
  assert.ok(mayReceive(hub, `${P}/node/a1/telemetry`, siteOf));
});

publish('a box publishes its own changes and state, never another node\'s (retained states only from their node)', () => {
  assert.ok(mayPublish(a1, `${P}/node/a1/changes`, siteOf));
  assert.ok(mayPublish(a1, `${P}/node/a1/state`, siteOf));
  assert.not.ok(mayPublish(a1, `${P}/node/a2/state`, siteOf), 'a peer\'s retained state');
  assert.not.ok(mayPublish(a1, `${P}/node/hub/state`, siteOf), 'the hub\'s retained state');
  assert.not.ok(mayPublish(a1, `${P}/node/a2/changes`, siteOf));
});

publish('catch-up requests and replies only to the hub and the boxes of its site', () => {
  assert.ok(mayPublish(a1, `${P}/node/hub/sync/request`, siteOf));
  assert.ok(mayPublish(a1, `${P}/node/a2/sync/request`, siteOf));
  assert.ok(mayPublish(a1, `${P}/node/a2/sync/response`, siteOf));
  assert.ok(mayPublish(a1, `${P}/node/hub/sync/response`, siteOf));
  assert.not.ok(mayPublish(a1, `${P}/node/b1/sync/request`, siteOf), 'another site');
  assert.not.ok(mayPublish(a1, `${P}/node/ghost/sync/request`, siteOf), 'an unknown node');
});

publish('a box never publishes the hub\'s scopes or outside the topic map; the hub publishes anything', () => {
  assert.not.ok(mayPublish(a1, `${P}/hub/changes/site/a`, siteOf));
  assert.not.ok(mayPublish(a1, `${P}/hub/changes/global`, siteOf));
  assert.not.ok(mayPublish(a1, 'other/topic', siteOf));
  assert.ok(mayPublish(hub, `${P}/hub/changes/site/a`, siteOf));
  assert.ok(mayPublish(hub, 'anything', siteOf));
});

const receive = suite('mayReceive');

receive('a box receives the global scope and its own site\'s, never another site\'s (users, HA1)', () => {
  assert.ok(mayReceive(a1, `${P}/hub/changes/global`, siteOf));
  assert.ok(mayReceive(a1, `${P}/hub/changes/site/a`, siteOf));
  assert.not.ok(mayReceive(a1, `${P}/hub/changes/site/b`, siteOf));
});

receive('states and changes of its site\'s boxes and the hub\'s state; its own request and response topics only', () => {
  assert.ok(mayReceive(a1, `${P}/node/a2/state`, siteOf));
  assert.ok(mayReceive(a1, `${P}/node/a2/changes`, siteOf));
  assert.ok(mayReceive(a1, `${P}/node/hub/state`, siteOf));
  assert.not.ok(mayReceive(a1, `${P}/node/b1/state`, siteOf));
  assert.not.ok(mayReceive(a1, `${P}/node/b1/changes`, siteOf));
  assert.ok(mayReceive(a1, `${P}/node/a1/sync/request`, siteOf));
  assert.ok(mayReceive(a1, `${P}/node/a1/sync/response`, siteOf));
  assert.not.ok(mayReceive(a1, `${P}/node/a2/sync/response`, siteOf), 'a peer\'s replies');
  assert.not.ok(mayReceive(a1, `${P}/node/hub/sync/request`, siteOf));
});

const subscribe = suite('maySubscribe');

subscribe('concrete topics it may receive, and the two filtered wildcards; never # or another site', () => {
  assert.ok(maySubscribe(a1, `${P}/hub/changes/site/a`, siteOf));
  assert.ok(maySubscribe(a1, `${P}/node/+/state`, siteOf));
  assert.ok(maySubscribe(a1, `${P}/node/+/changes`, siteOf));
  assert.not.ok(maySubscribe(a1, '#', siteOf));
  assert.not.ok(maySubscribe(a1, `${P}/#`, siteOf));
  assert.not.ok(maySubscribe(a1, `${P}/hub/changes/+`, siteOf));
  assert.not.ok(maySubscribe(a1, `${P}/node/+/sync/response`, siteOf));
  assert.not.ok(maySubscribe(a1, `${P}/hub/changes/site/b`, siteOf));
  assert.ok(maySubscribe(hub, '#', siteOf));
});

const topicsFor = suite('aclTopics');

topicsFor('the concrete topics of a box for a broker without per-message filtering (Mosquitto); the hub gets #', () => {
  const t = aclTopics(a1, fleet);
  assert.equal(t.write, [
    `${P}/node/a1/changes`, `${P}/node/a1/state`, `${P}/node/a1/telemetry`,
    `${P}/node/a2/sync/request`, `${P}/node/a2/sync/response`,
    `${P}/node/hub/sync/request`, `${P}/node/hub/sync/response`,
  ]);
  assert.equal(t.read, [
    `${P}/hub/changes/global`, `${P}/hub/changes/site/a`,
    `${P}/node/a1/state`, `${P}/node/a1/sync/request`, `${P}/node/a1/sync/response`,
    `${P}/node/a2/changes`, `${P}/node/a2/state`,
    `${P}/node/hub/state`,
  ]);
  assert.equal(aclTopics(hub, fleet), { write: [`${P}/#`], read: [`${P}/#`] });
});

const admin = suite('admin role');
const ann: AclIdentity = { nodeId: 'ann', site: '', role: 'admin' };

admin('an admin publishes admin requests only, and receives only its own responses', () => {
  assert.ok(mayPublish(ann, `${P}/admin/request/user.add`, siteOf));
  assert.not.ok(mayPublish(ann, `${P}/admin/request/+`, siteOf), 'no wildcard publish');
  assert.not.ok(mayPublish(ann, `${P}/admin/response/ann/user.add`, siteOf), 'not a response, even its own');
  for (const t of [`${P}/node/a1/changes`, `${P}/node/ann/state`, `${P}/node/hub/sync/request`, `${P}/hub/changes/global`]) assert.not.ok(mayPublish(ann, t, siteOf), t);
  assert.ok(mayReceive(ann, `${P}/admin/response/ann/user.add`, siteOf));
  assert.not.ok(mayReceive(ann, `${P}/admin/response/bob/user.add`, siteOf), 'another admin\'s response');
  assert.not.ok(mayReceive(ann, `${P}/admin/request/user.add`, siteOf), 'requests go to the hub only');
  for (const t of [`${P}/node/a1/changes`, `${P}/node/a1/state`, `${P}/hub/changes/global`, `${P}/node/a1/telemetry`]) assert.not.ok(mayReceive(ann, t, siteOf), t);
  assert.ok(maySubscribe(ann, `${P}/admin/response/ann/+`, siteOf));
  assert.not.ok(maySubscribe(ann, `${P}/admin/response/+/+`, siteOf));
  assert.not.ok(maySubscribe(ann, `${P}/#`, siteOf));
  assert.not.ok(maySubscribe(ann, `${P}/node/+/state`, siteOf), 'the wildcards boxes hold are not an admin\'s');
});

admin('no box may publish or read an admin topic; the hub may', () => {
  for (const box of [a1, b1]) {
    assert.not.ok(mayPublish(box, `${P}/admin/request/user.add`, siteOf));
    assert.not.ok(mayPublish(box, `${P}/admin/response/ann/user.add`, siteOf));
    assert.not.ok(mayReceive(box, `${P}/admin/response/ann/user.add`, siteOf));
    assert.not.ok(mayReceive(box, `${P}/admin/request/user.add`, siteOf));
    assert.not.ok(maySubscribe(box, `${P}/admin/request/+`, siteOf));
  }
  assert.ok(mayReceive(hub, `${P}/admin/request/user.add`, siteOf));
  assert.ok(mayPublish(hub, `${P}/admin/response/ann/user.add`, siteOf));
});

admin('an admin is never a sibling: a box named like it gains nothing', () => {
  const lookup: SiteLookup = (id) => (id === 'ann' ? ann : siteOf(id));
  assert.not.ok(mayPublish(a1, `${P}/node/ann/sync/request`, lookup));
  assert.not.ok(mayReceive(a1, `${P}/node/ann/state`, lookup));
  assert.equal(aclTopics(ann, fleet), { write: [`${P}/admin/request/+`], read: [`${P}/admin/response/ann/+`] });
});

publish.run();
admin.run();
receive.run();
subscribe.run();
topicsFor.run();
