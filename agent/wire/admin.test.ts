import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminTopics, canonicalJson, canonicalRequest, parseAdminTopic } from './admin.ts';

const canonical = suite('canonicalJson');

canonical('sorts keys at every level, keeps array order, drops undefined members', () => {
  assert.is(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: 'é' }, u: undefined }), '{"a":{"c":"é","d":[3,{"x":2,"y":1}]},"b":1}');
  assert.is(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  assert.is(canonicalJson(undefined), 'null');
});

canonical('the signed bytes change with the op, transaction, admin, time or body', () => {
  const base = { transaction: 't-000001', admin: 'ann', ts: 5, body: { ext: '1001' } };
  const bytes = canonicalRequest('user.add', base).toString();
  for (const other of [
    canonicalRequest('user.remove', base),
    canonicalRequest('user.add', { ...base, transaction: 't-000002' }),
    canonicalRequest('user.add', { ...base, admin: 'bob' }),
    canonicalRequest('user.add', { ...base, ts: 6 }),
    canonicalRequest('user.add', { ...base, body: { ext: '1002' } }),
  ]) assert.is.not(other.toString(), bytes);
});

const topic = suite('parseAdminTopic');

topic('requests and per-admin responses; anything else is not an admin topic', () => {
  assert.equal(parseAdminTopic(adminTopics.request('user.add')), { kind: 'adminRequest', op: 'user.add' });
  assert.equal(parseAdminTopic(adminTopics.response('ann', 'batch')), { kind: 'adminResponse', admin: 'ann', op: 'batch' });
  for (const t of [adminTopics.allRequests, adminTopics.responsesOf('ann'), 'outpost/v1/admin/request/user.add/x', 'outpost/v1/admin/response/ann', 'outpost/v1/node/a1/state', 'outpost/v1/admin/request/User.Add']) {
    assert.is(parseAdminTopic(t), undefined, t);
  }
});

canonical.run();
topic.run();
