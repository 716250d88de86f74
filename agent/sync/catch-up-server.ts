/**
 * The answering side of catch-up (docs/replication.md): a request on a link is parsed, checked
 * against what its requester is entitled to (request-entitlement.ts, and its certificate not
 * revoked), and answered with a batch from the BatchSource on the link it came in on. A request
 * from a requester not known yet is usually one whose state is still on its way (a peer's request
 * on this box's broker, its state on the hub's): the last one per requester and stream is kept
 * (at most MAX_WAITING_REQUESTS) and answered once ReplicationCore believes that state.
 */
import type { Logger } from '../lib/logger.ts';
import { SyncRequestSchema } from '../wire/messages.ts';
import { topics } from '../wire/topics.ts';
import type { BatchSource } from './batch-source.ts';
import { SyncError } from './errors.ts';
import type { PeerDirectory } from './peer-directory.ts';
import type { Command } from './replication-commands.ts';
import { requestRefusal } from './request-entitlement.ts';
import type { SyncCounters } from './sync-counters.ts';

/** Requests of unknown requesters kept until their states arrive (the last per requester and stream). */
const MAX_WAITING_REQUESTS = 64;

export interface CatchUpServerOptions {
  directory: PeerDirectory;
  source: BatchSource;
  /** Who is answering: a node of `site`, or the hub (site ''). */
  self: { role: 'node' | 'hub'; site: string };
  counters: SyncCounters;
  logger: Logger;
}

export class CatchUpServer {
  private readonly waiting = new Map<string, { payload: Buffer; link: string }>();

  constructor(private readonly o: CatchUpServerOptions) {}

  /** Answers a catch-up request on the link it came in on; throws a SyncError on a malformed one. */
  serve(payload: Buffer, link: string, out: Command[]): void {
    const { directory, counters, logger } = this.o;
    const req = SyncRequestSchema.parse(JSON.parse(payload.toString('utf8')));
    if (req.replyTo !== topics.syncResponse(req.requester)) throw new SyncError('sync.payload', `replyTo must be ${topics.syncResponse(req.requester)}`);
    const refusal = directory.revoked(req.requester) ? 'revoked certificate' : requestRefusal(req, directory.get(req.requester), this.o.self);
    if (refusal !== undefined) {
      counters.requestsRefused++;
      const unknown = refusal === 'unknown requester';
      const key = `${req.requester} ${req.stream}`;
      if (unknown && (this.waiting.has(key) || this.waiting.size < MAX_WAITING_REQUESTS)) this.waiting.set(key, { payload, link });
      logger[unknown ? 'debug' : 'warn']({ requester: req.requester, stream: req.stream, reason: refusal }, 'catch-up request refused');
      return;
    }
    counters.requestsIn++;
    const bytes = this.o.source.reply(req);
    counters.batchesOut++;
    out.push({ kind: 'publish', link, topic: req.replyTo, payload: bytes, retain: false });
  }

  /** `nodeId`'s state is believed now: answer the requests it made while unknown. */
  believed(nodeId: string, out: Command[]): void {
    for (const [key, w] of this.waiting) {
      if (!key.startsWith(`${nodeId} `)) continue;
      this.waiting.delete(key);
      this.serve(w.payload, w.link, out);
    }
  }
}
