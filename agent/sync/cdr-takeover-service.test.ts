import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import type { NodeState } from '../wire/messages.ts';
import { CdrTakeoverService, TAKEOVER_TICK_MS } from './cdr-takeover-service.ts';
import { PeerDirectory } from './peer-directory.ts';

const opened: Store[] = [];
const open = () => opened[opened.push(Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-takeover-svc-')), durable: false })) - 1]!;

function stateOf(nodeId: string, online: boolean, site = 'site-a'): NodeState {
  return { nodeId, role: 'node', site, online, publicKey: `${nodeId}-key-`.padEnd(44, 'k'), siteId: '0'.repeat(31) + nodeId.length, schema: 1, head: '0', at: 0 };
}

const service = suite('CdrTakeoverService');
service.after.each(() => {
  opened.splice(0).forEach((s) => s.close());
});

service("closes a dead peer's calls from the directory's states the moment the grace period is over", async () => {
  const clock = new ManualClock();
  const store = open();
  store.cdrs.checkpoint({ callUuid: 'c1', nodeId: 'a1', caller: '1', callee: '2', aCallId: 'x', bCallId: 'y', state: 'ringing', startedAt: 5, answeredAt: null, codec: 'PCMU', updatedAt: 5, link: '' });
  const dir = new PeerDirectory(store, createSilentLogger());
  const svc = new CdrTakeoverService({ store, self: 'b1', site: 'site-a', graceSeconds: 2, clock, logger: createSilentLogger() });
  svc.start(dir);
  clock.advance(300); // declared dead between two ticks
  dir.observe(stateOf('a1', false), clock.now());
  clock.advance(TAKEOVER_TICK_MS + 500);
  // The write queue commits in order: a write submitted now settles after any takeover begun before it.
  const barrier = () => store.writes.submit(() => undefined);
  await barrier();
  assert.is(store.cdrs.get('c1'), undefined, 'within the grace period');
  // Due at 2300 ms: checked then, not at the next tick (3000 ms).
  clock.advance(500);
  await barrier();
  assert.is(svc.closed, 1);
  assert.is(store.cdrs.get('c1')!.disposition, 'interrupted');
  svc.stop();
  dir.observe(stateOf('a1', true), clock.now());
  assert.ok(svc.core.dueAt('a1') !== undefined, 'stopped: the state saying it is back is no longer heard');
});

service.run();
