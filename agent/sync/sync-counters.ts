/** Counters of one replicator, for status and metrics. */
export class SyncCounters {
  batchesIn = 0;
  batchesOut = 0;
  changesApplied = 0;
  changesRejected = 0;
  /** Rejected changes per offending node. */
  readonly rejectedBy = new Map<string, number>();
  badSignature = 0;
  unknownSender = 0;
  malformed = 0;
  unexpected = 0;
  requestsIn = 0;
  requestsOut = 0;
  /** Batches whose sender is not the node of the topic they came on (docs/security.md). */
  identityRefused = 0;
  /** Catch-up requests refused: an uncertified requester, or a stream it is not entitled to. */
  requestsRefused = 0;
  /** Batches and catch-up requests refused because the sender's certificate is revoked. */
  revokedRefused = 0;

  reject(nodeId: string, count: number): void {
    this.changesRejected += count;
    this.rejectedBy.set(nodeId, (this.rejectedBy.get(nodeId) ?? 0) + count);
  }
}
