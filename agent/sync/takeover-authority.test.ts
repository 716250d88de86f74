import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { interruptedCdr, type CallCheckpoint, type CdrRecord } from '../store/cdrs.ts';
import type { Change } from '../store/change-log.ts';
import { DirectSqlPool } from '../store/direct-sql.ts';
import { Store } from '../store/store.ts';
import { checkAuthority, type Signer } from './authority.ts';

const opened: Store[] = [];
const open = () => opened[opened.push(Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-takeover-auth-')), durable: false })) - 1]!;
const direct = new DirectSqlPool({ durable: false });
/** n1, n2 are boxes of site a; n3 of site b. */
const SITES: Record<string, string> = { n1: 'a', n2: 'a', n3: 'b' };
const siteOf = (n: string) => SITES[n];

const checkpoint: CallCheckpoint = {
  callUuid: 'call-1', nodeId: 'n1', caller: '2001', callee: '2002', aCallId: 'a-1', bCallId: 'b-1',
  state: 'answered', startedAt: 1_000, answeredAt: 3_000, codec: 'PCMU', updatedAt: 33_000, link: '',
};

/** The changes of whatever `write` does on `store`, in one transaction (one batch). */
function changesOf(store: Store, write: () => void): Change[] {
  const before = store.changes.head();
  store.changes.inTransaction(write);
  return store.changes.page(before, {}, 10_000).changes;
}

/** A replica of node `id` holding n1's checkpoint, as replication brought it. */
function replicaWithCheckpoint(): Store {
  const s = open();
  s.cdrs.checkpoint(checkpoint);
  return s;
}

const signer = (store: Store, nodeId: string, extra: Partial<Signer> = {}): Signer => ({
  nodeId, siteId: store.changes.siteId().toString('hex'), isHub: false, site: siteOf(nodeId)!, ...extra,
});
const lookupOf = (recv: Store) => (t: string, pk: Uint8Array, col: string) => recv.changes.column(t, pk, col);
/** n2's takeover of n1's call: the checkpoint's delete and the interrupted CDR, in one batch. */
const takeover = (by: Store, cdr: CdrRecord = interruptedCdr(checkpoint)) => changesOf(by, () => by.cdrs.takeOver(cdr) || assert.unreachable('not taken over'));

const test = suite('checkAuthority: CDR takeover');
test.after.each(() => {
  direct.closeAll();
  opened.splice(0).forEach((s) => s.close());
});

test("a site peer's takeover of a checkpointed call is accepted whole", () => {
  const n2 = replicaWithCheckpoint();
  const changes = takeover(n2);
  assert.ok(changes.some((c) => c.table === 'dialogs') && changes.some((c) => c.table === 'cdrs'));
  const v = checkAuthority(changes, signer(n2, 'n2'), lookupOf(replicaWithCheckpoint()), siteOf);
  assert.equal(v.rejected.map((r) => r.reason), []);
});

test('a racing duplicate is accepted where the first takeover already closed the call', () => {
  const recv = replicaWithCheckpoint();
  recv.changes.apply(takeover(replicaWithCheckpoint()));
  assert.is(recv.cdrs.get('call-1')?.disposition, 'interrupted');
  const n2 = replicaWithCheckpoint();
  const v = checkAuthority(takeover(n2), signer(n2, 'n2'), lookupOf(recv), siteOf);
  assert.equal(v.rejected.map((r) => r.reason), []);
});

test('refused: a box of another site, an unknown site, a receiver without the checkpoint, a call its owner closed', () => {
  const n3 = replicaWithCheckpoint();
  const fromOtherSite = checkAuthority(takeover(n3), signer(n3, 'n3'), lookupOf(replicaWithCheckpoint()), siteOf);
  assert.is(fromOtherSite.accepted.length, 0);
  assert.match(fromOtherSite.rejected[0]!.reason, /belongs to n1, not n3 \(takeover: a takeover only by a box of n1's site\)/);
  const n2 = replicaWithCheckpoint();
  const changes = takeover(n2);
  assert.is(checkAuthority(changes, signer(n2, 'n2'), lookupOf(replicaWithCheckpoint())).accepted.length, 0, 'no site lookup');
  const noCheckpoint = checkAuthority(changes, signer(n2, 'n2'), lookupOf(open()), siteOf);
  assert.ok(noCheckpoint.rejected.some((r) => /no checkpoint of n1/.test(r.reason)));
  assert.ok(noCheckpoint.accepted.every((c) => c.table === 'dialogs'), 'only the harmless delete of a row it never had');
  const ownerClosed = replicaWithCheckpoint();
  ownerClosed.cdrs.close({ ...interruptedCdr(checkpoint), disposition: 'answered', sipStatus: 200, sipReason: 'caller hung up', endedBy: 'caller' });
  const v = checkAuthority(changes, signer(n2, 'n2'), lookupOf(ownerClosed), siteOf);
  assert.ok(v.rejected.some((r) => /n1 closed this call itself/.test(r.reason)));
  assert.ok(v.accepted.every((c) => c.table === 'dialogs'));
});

test('refused: another disposition, chosen caller or reason, a lone delete, an update of the checkpoint, a CDR delete', () => {
  const recv = replicaWithCheckpoint();
  const refusedWhole = (changes: Change[], by: Store, reason: RegExp) => {
    const v = checkAuthority(changes, signer(by, 'n2'), lookupOf(recv), siteOf);
    assert.ok(v.rejected.some((r) => reason.test(r.reason)), v.rejected.map((r) => r.reason).join('; '));
    return v;
  };
  const forged = (over: Partial<CdrRecord>) => {
    const s = replicaWithCheckpoint();
    return { s, changes: changesOf(s, () => s.cdrs.close({ ...interruptedCdr(checkpoint), ...over })) };
  };
  const answered = forged({ disposition: 'answered' });
  assert.is(refusedWhole(answered.changes, answered.s, /interrupted CDR in the same batch/).accepted.length, 0);
  const caller = forged({ caller: '9999' });
  assert.equal(refusedWhole(caller.changes, caller.s, /caller differs from the call's checkpoint/).rejected.length, 1);
  const reason = forged({ sipReason: 'mine' });
  refusedWhole(reason.changes, reason.s, /sets sip_reason to node stopped/);
  const lone = replicaWithCheckpoint();
  refusedWhole(changesOf(lone, () => direct.run(lone, `DELETE FROM dialogs WHERE call_uuid = 'call-1'`)), lone, /same batch/);
  const update = replicaWithCheckpoint();
  const updated = [
    ...changesOf(update, () => direct.run(update, `UPDATE dialogs SET updated_at = 99 WHERE call_uuid = 'call-1'`)),
    ...takeover(update).filter((c) => c.table === 'cdrs'),
  ];
  refusedWhole(updated, update, /only deletes n1's checkpoint/);
  const eraser = replicaWithCheckpoint();
  eraser.cdrs.close(interruptedCdr(checkpoint));
  const erase = changesOf(eraser, () => direct.run(eraser, `DELETE FROM cdrs WHERE uuid = 'call-1'`));
  const withCdr = replicaWithCheckpoint();
  withCdr.cdrs.close(interruptedCdr(checkpoint));
  assert.is(checkAuthority(erase, signer(eraser, 'n2'), lookupOf(withCdr), siteOf).accepted.length, 0);
});

test("the rule covers dialogs and cdrs only: a site peer's registrations stay refused", () => {
  const n2 = open();
  const changes = changesOf(n2, () => direct.run(n2, `INSERT INTO registrations (aor, contact, node_id) VALUES ('2001', 'sip:x@h', 'n1')`));
  const v = checkAuthority(changes, signer(n2, 'n2'), lookupOf(open()), siteOf);
  assert.is(v.accepted.length, 0);
  assert.match(v.rejected[0]!.reason, /^row of registrations belongs to n1, not n2$/);
});

test.run();
