/**
 * FloodGuard.admit with a vouching check (docs/config/sip-flood.md): a packet a site peer signed
 * passes although its address is rate-limited or banned; the address's other packets do not.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigSchema } from '../config/schema.ts';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import { FloodGuard } from './flood-guard.ts';

const PEER = '10.0.0.1';

function guard() {
  const config = ConfigSchema.parse({
    node: { id: 'a2', site: 'a' },
    dataDir: '/unused',
    sip: { domain: 'a.example', listen: ['udp:127.0.0.1:0'], flood: { rateLimit: { perSecond: 1, burst: 2 }, ban: { failures: 2 } } },
  });
  const store = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-flood-')) });
  return new FloodGuard(config.sip.flood, { clock: new ManualClock(), store, nodeId: 'a2', logger: createSilentLogger() });
}

const admit = suite('FloodGuard.admit');

admit('rate-limited: a packet a site peer signed passes, the address\'s other packets are dropped', () => {
  const g = guard();
  let asked = 0;
  const signed = () => (asked++, true);
  assert.is(g.admit(PEER, signed), true);
  assert.is(g.admit(PEER, signed), true);
  assert.is(asked, 0, 'not asked while the bucket has tokens');
  assert.is(g.admit(PEER), false, 'the bucket is empty');
  assert.is(g.admit(PEER, () => false), false, 'not signed by a peer');
  assert.is(g.admit(PEER, signed), true, 'signed by a peer');
  assert.is(asked, 1);
  assert.equal(g.stats, { rateLimited: 2, bannedDrops: 0, bansIssued: 0, vouched: 1 });
});

admit('banned: a packet a site peer signed passes, the address\'s other packets are dropped', () => {
  const g = guard();
  g.recordAuthFailure(PEER);
  g.recordAuthFailure(PEER);
  assert.is(g.isBanned(PEER), true);
  assert.is(g.admit(PEER), false);
  assert.is(g.admit(PEER, () => false), false);
  assert.is(g.admit(PEER, () => true), true);
  assert.equal(g.stats, { rateLimited: 0, bannedDrops: 2, bansIssued: 1, vouched: 1 });
});

admit.run();
