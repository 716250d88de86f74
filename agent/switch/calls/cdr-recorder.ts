/**
 * Keeps every call in the store from start to end: a `dialogs` checkpoint while it rings and
 * talks, then exactly one CDR when it ends (the checkpoint's delete and the CDR's insert in one
 * group-commit transaction). At start-up, checkpoints this node left behind (a crash or a kill
 * in the middle of calls) are closed as 'interrupted', so billing never loses a call; a peer
 * that took them over while this node was down wrote the identical rows (agent/sync/cdr-takeover.ts).
 */
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { LegName, LegStats } from '../../media/relay-types.ts';
import { interruptedCdr, type CallCheckpoint, type Disposition } from '../../store/cdrs.ts';
import type { Store } from '../../store/store.ts';

export interface CallRecord {
  uuid: string;
  caller: string;
  callee: string;
  aCallId: string;
  bCallId: string;
  startedAt: number;
  answeredAt: number | null;
  codecA: string;
  codecB: string;
  /** CdrRecord.link: '' until the call crosses boxes. */
  link: string;
}

export interface CallOutcome {
  disposition: Disposition;
  sipStatus: number;
  sipReason: string;
  endedBy: 'caller' | 'callee' | 'system';
}

export class CdrRecorder {
  constructor(private readonly deps: { store: Store; nodeId: string; clock: Clock; logger: Logger }) {}

  /** Writes or updates the checkpoint of a call in progress. */
  checkpoint(call: CallRecord): Promise<void> {
    const { store, nodeId, clock } = this.deps;
    const row: CallCheckpoint = {
      callUuid: call.uuid,
      nodeId,
      caller: call.caller,
      callee: call.callee,
      aCallId: call.aCallId,
      bCallId: call.bCallId,
      state: call.answeredAt === null ? 'ringing' : 'answered',
      startedAt: call.startedAt,
      answeredAt: call.answeredAt,
      codec: call.codecA,
      updatedAt: clock.now(),
      link: call.link,
    };
    return store.writes.submit(() => store.cdrs.checkpoint(row)).catch((err: Error) => this.failed(call.uuid, err));
  }

  /** Ends a call: resolves after its CDR is committed. */
  close(call: CallRecord, outcome: CallOutcome, media: Record<LegName, LegStats> | null): Promise<void> {
    const { store, nodeId, clock } = this.deps;
    const endedAt = clock.now();
    const cdr = {
      uuid: call.uuid,
      nodeId,
      caller: call.caller,
      callee: call.callee,
      startedAt: call.startedAt,
      answeredAt: call.answeredAt,
      endedAt,
      durationMs: call.answeredAt === null ? 0 : Math.max(0, endedAt - call.answeredAt),
      disposition: outcome.disposition,
      sipStatus: outcome.sipStatus,
      sipReason: outcome.sipReason,
      endedBy: outcome.endedBy,
      codecA: call.codecA,
      codecB: call.codecB,
      aCallId: call.aCallId,
      bCallId: call.bCallId,
      media: JSON.stringify(media ?? {}),
      link: call.link,
    };
    return store.writes.submit(() => store.cdrs.close(cdr)).catch((err: Error) => this.failed(call.uuid, err));
  }

  /** Closes the checkpoints a previous run of this node left; returns how many. */
  recoverInterrupted(): Promise<number> {
    const { store, nodeId, clock } = this.deps;
    const left = store.cdrs.checkpointsOf(nodeId);
    if (left.length === 0) return Promise.resolve(0);
    return store.writes.submit(() => {
      // The same row a peer writes when it takes the calls over (store/cdrs.ts): if one did,
      // and its row arrives after this one, the two merge into one.
      for (const c of left) store.cdrs.close(interruptedCdr(c));
      this.deps.logger.warn({ count: left.length, at: clock.now() }, 'closed CDRs of calls interrupted by a restart');
      return left.length;
    });
  }

  private failed(uuid: string, err: Error): void {
    this.deps.logger.error({ call: uuid, err: err.message }, 'cannot store call record');
  }
}
