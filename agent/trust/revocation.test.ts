import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeRevoked, revocationReason, type RevokedEntry } from './revocation.ts';

const list = new Map<string, RevokedEntry>([['4a01', { nodeId: 'a2', revokedAt: Date.UTC(2026, 11, 7) }]]);
const lookup = (s: string) => list.get(s);

const reason = suite('revocationReason');
reason('a listed serial is refused, whatever its case', () => {
  assert.equal(revocationReason('4A01', lookup), 'certificate 4a01 of a2 revoked at 2026-12-07T00:00:00.000Z');
});
reason('an unlisted serial or none passes', () => {
  assert.is(revocationReason('4a02', lookup), undefined);
  assert.is(revocationReason(undefined, lookup), undefined);
});
reason.run();

const node = suite('nodeRevoked');
node('a node whose believed certificate is revoked', () => {
  assert.ok(nodeRevoked('4a01', 1, lookup));
});
node('a node with a newer certificate after a revocation (replaced box) passes', () => {
  assert.not.ok(nodeRevoked('4a02', 1, lookup));
});
node('a node known only from its pinned key: refused when it has revocations', () => {
  assert.ok(nodeRevoked(undefined, 1, lookup));
  assert.not.ok(nodeRevoked(undefined, 0, lookup));
});
node.run();
