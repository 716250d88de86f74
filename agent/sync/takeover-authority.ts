/**
 * The one exception to "a node writes only its own rows" (docs/replication.md, "CDR takeover"):
 * a box may close a call of a dead box P of its own site on P's behalf (agent/sync/cdr-takeover.ts),
 * that is, delete P's checkpoint in `dialogs` and insert P's `interrupted` CDR with the same uuid,
 * in one batch. Nothing else of P's: not another disposition, not a CDR P wrote itself, not a
 * call this replica holds no checkpoint (or taken-over CDR) of, not the columns a checkpoint
 * fixes set to other values. The hub needs no exception (it may write anything).
 */
import type { Change, SqlValue } from '../store/change-log.ts';
import { INTERRUPTED_REASON } from '../store/cdrs.ts';
import type { ColumnLookup } from './authority.ts';

const DELETE_SENTINEL = '-1';

/** The site a node belongs to, as this replica knows it (its pinned key and announced state). */
export type SiteOfNode = (nodeId: string) => string | undefined;

/** CDR columns whose value a takeover cannot choose: the checkpoint's, or a constant. */
const FROM_CHECKPOINT: Record<string, string> = { caller: 'caller', callee: 'callee', started_at: 'started_at', a_call_id: 'a_call_id' };
const CONSTANT: Record<string, SqlValue> = { disposition: 'interrupted', sip_status: 0n, sip_reason: INTERRUPTED_REASON, ended_by: 'system', media: '{}' };

const pkKey = (c: Change) => Buffer.from(c.pk).toString('hex');
const isDelete = (c: Change) => c.cid === DELETE_SENTINEL && c.cl % 2n === 0n;
const same = (a: SqlValue | undefined, b: SqlValue | undefined) => (a === null || b === null || a === undefined || b === undefined ? a === b : String(a) === String(b));

/** The uuids (packed primary keys, hex) of the CDRs the batch marks `interrupted`. */
export function interruptedInBatch(changes: readonly Change[]): Set<string> {
  return new Set(changes.filter((c) => c.table === 'cdrs' && c.cid === 'disposition' && c.val === 'interrupted').map(pkKey));
}

/**
 * undefined when `c`, a change by `signer` to a row of `owner`, is part of a takeover of the
 * owner's call; otherwise why not. `interrupted`: interruptedInBatch() of the change's batch.
 */
export function takeoverRefusal(
  c: Change,
  signer: { nodeId: string; site?: string },
  owner: SqlValue,
  lookup: ColumnLookup,
  siteOf: SiteOfNode | undefined,
  interrupted: Set<string>,
): string | undefined {
  if (c.table !== 'dialogs' && c.table !== 'cdrs') return 'not a takeover table';
  const ownerSite = typeof owner === 'string' ? siteOf?.(owner) : undefined;
  if (!signer.site || ownerSite !== signer.site) return `a takeover only by a box of ${String(owner)}'s site`;
  if (!interrupted.has(pkKey(c))) return 'a takeover writes an interrupted CDR in the same batch';
  const checkpointOwner = lookup('dialogs', c.pk, 'node_id');
  if (c.table === 'dialogs') return isDelete(c) ? undefined : `a takeover only deletes ${String(owner)}'s checkpoint`;
  if (isDelete(c)) return 'a takeover never deletes a CDR';
  // The call must be known here: by its checkpoint, or by the CDR a takeover already wrote.
  const storedDisposition = lookup('cdrs', c.pk, 'disposition');
  if (storedDisposition !== undefined && storedDisposition !== 'interrupted') return `${String(owner)} closed this call itself`;
  const source = checkpointOwner === owner ? 'dialogs' : storedDisposition !== undefined && lookup('cdrs', c.pk, 'node_id') === owner ? 'cdrs' : undefined;
  if (!source) return `no checkpoint of ${String(owner)} for this call`;
  if (c.cid in CONSTANT) return same(c.val, CONSTANT[c.cid]) ? undefined : `a takeover sets ${c.cid} to ${String(CONSTANT[c.cid])}`;
  if (c.cid in FROM_CHECKPOINT) {
    const expected = lookup(source, c.pk, source === 'dialogs' ? FROM_CHECKPOINT[c.cid]! : c.cid);
    return same(c.val, expected) ? undefined : `${c.cid} differs from the call's checkpoint`;
  }
  return undefined;
}
