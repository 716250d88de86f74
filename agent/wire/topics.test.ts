import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeIdOfTopic, parseTopic, siteStream, topics } from './topics.ts';

const parse = suite('parseTopic');

parse('reads back every topic the map builds', () => {
  assert.equal(parseTopic(topics.nodeChanges('a1')), { kind: 'nodeChanges', nodeId: 'a1' });
  assert.equal(parseTopic(topics.nodeState('a-2')), { kind: 'nodeState', nodeId: 'a-2' });
  assert.equal(parseTopic(topics.syncRequest('hub')), { kind: 'syncRequest', nodeId: 'hub' });
  assert.equal(parseTopic(topics.syncResponse('b1')), { kind: 'syncResponse', nodeId: 'b1' });
  assert.equal(parseTopic(topics.hubChanges('global')), { kind: 'hubChanges', stream: 'global' });
  assert.equal(parseTopic(topics.hubChanges(siteStream('branch-a'))), { kind: 'hubChanges', stream: 'site/branch-a' });
});

parse('refuses topics outside the map', () => {
  for (const t of [
    'outpost/v1/node/a1/telemetry/x',
    'outpost/v1/node/a1/changes/extra',
    'outpost/v1/node/a1',
    'outpost/v1/node//changes',
    'outpost/v1/node/+/changes',
    'outpost/v1/hub/changes/',
    'outpost/v1/hub/changes/site/',
    'outpost/v1/hub/changes/site/a/b',
    'outpost/v1/hub/changes/local',
    'outpost/v2/node/a1/changes',
    'other/node/a1/state',
  ]) {
    assert.is(parseTopic(t), undefined, t);
  }
});

const nodeId = suite('nodeIdOfTopic');

nodeId('gives the id of a node topic, nothing for others', () => {
  assert.is(nodeIdOfTopic(topics.syncRequest('n7')), 'n7');
  assert.is(nodeIdOfTopic(topics.hubChanges('global')), undefined);
});

parse.run();
nodeId.run();
