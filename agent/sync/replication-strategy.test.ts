import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { peerLinkPlan } from './replication-strategy.ts';

const P = 'outpost/v1';
const plan = suite('peerLinkPlan');

plan('subscribes to the peer\'s pushes and state and to replies for this box', () => {
  assert.equal(peerLinkPlan('a1', 'a2', 'mqtt://a2:1'), { name: 'peer:a2', url: 'mqtt://a2:1', subscriptions: [`${P}/node/a2/changes`, `${P}/node/a2/state`, `${P}/node/a1/sync/response`] });
});

plan.run();
