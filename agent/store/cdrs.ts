/**
 * Call detail records (node-owned CRR rows, one per call, written once at call end) and the
 * `dialogs` checkpoints of calls in progress. Ending a call deletes its checkpoint and inserts
 * its CDR in the same transaction, so a call is always in exactly one of the two tables.
 * A call whose node stopped without ending it is closed from its checkpoint alone
 * (`interruptedCdr`), by the node itself when it starts again or by a peer that takes over
 * (`takeOver`): every replica that does it writes the identical row (docs/calls.md, section 8).
 */
import type { Database, Statement } from 'better-sqlite3';

export type Disposition = 'answered' | 'busy' | 'no-answer' | 'cancelled' | 'failed' | 'rejected' | 'interrupted';

export interface CdrRecord {
  uuid: string;
  nodeId: string;
  caller: string;
  callee: string;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number;
  /** Talk time: end minus answer, 0 when never answered. */
  durationMs: number;
  disposition: Disposition;
  sipStatus: number;
  sipReason: string;
  /** 'caller' | 'callee' | 'system' (timeouts, restarts). */
  endedBy: string;
  codecA: string;
  codecB: string;
  aCallId: string;
  bCallId: string;
  /** JSON of the relay's per-leg packet/byte/loss counters. */
  media: string;
  /**
   * The same value on the CDRs a call left on each box of the site it passed through: the uuid
   * of the CDR of the box where it entered the site; '' for a call that stayed on one box.
   */
  link: string;
}

export interface CallCheckpoint {
  callUuid: string;
  nodeId: string;
  caller: string;
  callee: string;
  aCallId: string;
  bCallId: string;
  state: 'ringing' | 'answered';
  startedAt: number;
  answeredAt: number | null;
  codec: string;
  updatedAt: number;
  /** The call's CdrRecord.link. */
  link: string;
}

/** Why an `interrupted` CDR ended, the same whoever closes it. */
export const INTERRUPTED_REASON = 'node stopped during the call';

/**
 * The CDR of a call its node left in progress, computed from the checkpoint only (never from
 * the clock or the identity of whoever closes it), so replicas that close the same call write
 * the same row. The last checkpoint is the last moment the call is known to have been up.
 * Every value that depends on the checkpoint's version grows with it (ended_at, duration_ms,
 * answered_at from NULL), so two closers holding different versions merge to the newer values.
 */
export function interruptedCdr(c: CallCheckpoint): CdrRecord {
  return {
    uuid: c.callUuid,
    nodeId: c.nodeId,
    caller: c.caller,
    callee: c.callee,
    startedAt: c.startedAt,
    answeredAt: c.answeredAt,
    endedAt: Math.max(c.updatedAt, c.answeredAt ?? c.startedAt),
    durationMs: c.answeredAt === null ? 0 : Math.max(0, c.updatedAt - c.answeredAt),
    disposition: 'interrupted',
    sipStatus: 0,
    sipReason: INTERRUPTED_REASON,
    endedBy: 'system',
    codecA: c.codec,
    codecB: c.codec,
    aCallId: c.aCallId,
    bCallId: c.bCallId,
    media: '{}',
    link: c.link,
  };
}

/** A row that differs from `c` in every column but the key and the node (see CdrRepository.close). */
function placeholderOf(c: CdrRecord): CdrRecord {
  const other = (v: string) => `${v}\u0001`;
  return {
    ...c,
    caller: other(c.caller), callee: other(c.callee), startedAt: c.startedAt + 1, answeredAt: c.answeredAt === null ? 0 : c.answeredAt + 1,
    endedAt: c.endedAt + 1, durationMs: c.durationMs + 1, disposition: 'interrupted', sipStatus: c.sipStatus + 1, sipReason: other(c.sipReason),
    endedBy: other(c.endedBy), codecA: other(c.codecA), codecB: other(c.codecB), aCallId: other(c.aCallId), bCallId: other(c.bCallId), media: other(c.media), link: other(c.link),
  };
}

const cdrColumns = `uuid, node_id AS nodeId, caller, callee, started_at AS startedAt, answered_at AS answeredAt,
  ended_at AS endedAt, duration_ms AS durationMs, disposition, sip_status AS sipStatus, sip_reason AS sipReason,
  ended_by AS endedBy, codec_a AS codecA, codec_b AS codecB, a_call_id AS aCallId, b_call_id AS bCallId, media, link`;
const checkpointColumns = `call_uuid AS callUuid, node_id AS nodeId, caller, callee, a_call_id AS aCallId,
  b_call_id AS bCallId, state, started_at AS startedAt, answered_at AS answeredAt, codec, updated_at AS updatedAt, link`;

export class CdrRepository {
  private readonly insertCdr: Statement;
  private readonly overwriteCdr: Statement;
  private readonly sinceStmt: Statement<[number, number], CdrRecord>;
  private readonly getStmt: Statement<[string], CdrRecord>;
  private readonly saveCheckpoint: Statement;
  private readonly deleteCheckpoint: Statement<[string]>;
  private readonly ownCheckpoints: Statement<[string], CallCheckpoint>;
  private readonly deleteCheckpointOf: Statement<[string, string]>;
  private readonly searchStmt: Statement<[{ text: string; like: string; from: number; to: number; limit: number; offset: number }], CdrRecord>;

  constructor(db: Database) {
    this.insertCdr = db.prepare(`INSERT INTO cdrs (uuid, node_id, caller, callee, started_at, answered_at, ended_at,
      duration_ms, disposition, sip_status, sip_reason, ended_by, codec_a, codec_b, a_call_id, b_call_id, media, link)
      VALUES (@uuid, @nodeId, @caller, @callee, @startedAt, @answeredAt, @endedAt, @durationMs, @disposition,
      @sipStatus, @sipReason, @endedBy, @codecA, @codecB, @aCallId, @bCallId, @media, @link)
      ON CONFLICT (uuid) DO NOTHING`);
    this.overwriteCdr = db.prepare(`UPDATE cdrs SET caller = @caller, callee = @callee, started_at = @startedAt,
      answered_at = @answeredAt, ended_at = @endedAt, duration_ms = @durationMs, disposition = @disposition,
      sip_status = @sipStatus, sip_reason = @sipReason, ended_by = @endedBy, codec_a = @codecA, codec_b = @codecB,
      a_call_id = @aCallId, b_call_id = @bCallId, media = @media, link = @link WHERE uuid = @uuid AND node_id = @nodeId`);
    this.sinceStmt = db.prepare(`SELECT ${cdrColumns} FROM cdrs WHERE started_at >= ? ORDER BY started_at, uuid LIMIT ?`);
    this.getStmt = db.prepare(`SELECT ${cdrColumns} FROM cdrs WHERE uuid = ?`);
    this.saveCheckpoint = db.prepare(`INSERT INTO dialogs (call_uuid, node_id, caller, callee, a_call_id, b_call_id,
      state, started_at, answered_at, codec, updated_at, link) VALUES (@callUuid, @nodeId, @caller, @callee, @aCallId,
      @bCallId, @state, @startedAt, @answeredAt, @codec, @updatedAt, @link)
      ON CONFLICT (call_uuid) DO UPDATE SET b_call_id = excluded.b_call_id, state = excluded.state,
      answered_at = excluded.answered_at, codec = excluded.codec, updated_at = excluded.updated_at, link = excluded.link`);
    this.deleteCheckpoint = db.prepare('DELETE FROM dialogs WHERE call_uuid = ?');
    this.ownCheckpoints = db.prepare(`SELECT ${checkpointColumns} FROM dialogs WHERE node_id = ? ORDER BY started_at`);
    this.deleteCheckpointOf = db.prepare('DELETE FROM dialogs WHERE call_uuid = ? AND node_id = ?');
    this.searchStmt = db.prepare(`SELECT ${cdrColumns} FROM cdrs WHERE (@text = '' OR caller LIKE @like ESCAPE '\\' OR callee LIKE @like ESCAPE '\\')
      AND started_at >= @from AND started_at < @to ORDER BY started_at DESC, uuid LIMIT @limit OFFSET @offset`);
  }

  /** Records a call in progress (insert or update). */
  checkpoint(c: CallCheckpoint): void {
    this.saveCheckpoint.run(c);
  }

  /**
   * Ends a call: its checkpoint goes, its CDR is written (once; a repeat is ignored).
   *
   * A call its node ended itself (any disposition but `interrupted`) must beat the
   * `interrupted` row that a peer or the hub writes when it takes the call over because the
   * node was cut off from it, alive (docs/partition-drills.md). cr-sqlite merges a column by
   * the larger column version first, then the larger value, and a takeover writes each column
   * once (version 1): without more, the two rows merged column by column into a mix
   * (`interrupted`, sip status 200, the node's duration, no media). So the node writes its own
   * row over a placeholder that differs in every column, in the same transaction: every column
   * gets version 2 and the node's values win everywhere. An `interrupted` row already here (a
   * takeover merged before the call ended) is overwritten the same way.
   */
  close(cdr: CdrRecord): void {
    this.deleteCheckpoint.run(cdr.uuid);
    if (cdr.disposition === 'interrupted') {
      this.insertCdr.run(cdr);
      return;
    }
    const held = this.getStmt.get(cdr.uuid);
    if (held && held.disposition !== 'interrupted') return;
    if (!held) this.insertCdr.run(placeholderOf(cdr));
    this.overwriteCdr.run(cdr);
  }

  /**
   * Closes a call of another node as `interrupted` on its behalf (a takeover), only if its
   * checkpoint is still here and still that node's: a call already closed (by its node, or by
   * another replica whose row has arrived) is left alone. Returns whether it closed it.
   */
  takeOver(cdr: CdrRecord): boolean {
    if (cdr.disposition !== 'interrupted') return false;
    if (this.deleteCheckpointOf.run(cdr.uuid, cdr.nodeId).changes === 0) return false;
    this.insertCdr.run(cdr);
    return true;
  }

  /** Checkpoints of a node (its own: calls in progress when it stopped; a peer's: for a takeover). */
  checkpointsOf(nodeId: string): CallCheckpoint[] {
    return this.ownCheckpoints.all(nodeId);
  }

  since(startedAt: number, limit = 1000): CdrRecord[] {
    return this.sinceStmt.all(startedAt, limit);
  }

  /**
   * CDRs whose caller or callee contains `text` (any, when empty) and that started in
   * [from, to), newest first, one page of `limit` after `offset` (the hub's dashboard search).
   */
  search(q: { text: string; from: number; to: number; limit: number; offset: number }): CdrRecord[] {
    const like = `%${q.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.searchStmt.all({ ...q, like });
  }

  get(uuid: string): CdrRecord | undefined {
    return this.getStmt.get(uuid);
  }
}
