import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSilentLogger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import type { NodeState } from '../wire/messages.ts';
import type { PeerChange } from './cdr-takeover.ts';
import { PeerDirectory } from './peer-directory.ts';

const opened: Store[] = [];
const open = () => opened[opened.push(Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-directory-')), durable: false })) - 1]!;

function stateOf(nodeId: string, online: boolean): NodeState {
  return { nodeId, role: 'node', site: 'site-a', online, publicKey: `${nodeId}-key-`.padEnd(44, 'k'), siteId: 'a'.repeat(32), schema: 1, head: '0', at: 0 };
}

const directory = suite('PeerDirectory.onChange');
directory.after.each(() => {
  opened.splice(0).forEach((s) => s.close());
});

directory("reports a node's first state and each flip of its online flag, not repeats", () => {
  const dir = new PeerDirectory(open(), createSilentLogger());
  const seen: PeerChange[] = [];
  const off = dir.onChange((c) => seen.push(c));
  dir.observe(stateOf('a1', true), 10);
  dir.observe(stateOf('a1', true), 20);
  dir.observe(stateOf('a1', false), 30);
  dir.observe(stateOf('a1', true), 40);
  off();
  dir.observe(stateOf('a1', false), 50);
  assert.equal(seen.map((c) => [c.peer, c.state, c.at, c.site, c.role]), [
    ['a1', 'up', 10, 'site-a', 'node'],
    ['a1', 'down', 30, 'site-a', 'node'],
    ['a1', 'up', 40, 'site-a', 'node'],
  ]);
});

directory.run();

