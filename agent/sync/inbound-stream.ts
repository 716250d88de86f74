/**
 * What a receiver tracks for one stream of one source: the watermark (everything of the stream
 * up to this version of the source is merged, persisted with the merge), whether a catch-up is
 * running, and since when it has been behind the source's announced head.
 */
import type { StreamName } from '../wire/topics.ts';

export class InboundStream {
  readonly source: string;
  readonly stream: StreamName;
  watermark: bigint;
  /** The current catch-up request, if one is running. */
  requestId: string | undefined;
  requestedAt = 0;
  /** A batch from a newer schema is kept: nothing more is merged until a migration. */
  blocked = false;
  behindSince: number | undefined;
  lastAppliedAt = 0;
  batches = 0;
  applied = 0;
  rejected = 0;
  duplicates = 0;
  gaps = 0;

  constructor(source: string, stream: StreamName, watermark: bigint) {
    this.source = source;
    this.stream = stream;
    this.watermark = watermark;
  }

  get key(): string {
    return streamKey(this.source, this.stream);
  }

  get pulling(): boolean {
    return this.requestId !== undefined;
  }

  /** Updates the behind-since clock against the source's head. */
  track(head: bigint, now: number): void {
    if (head > this.watermark) this.behindSince ??= now;
    else this.behindSince = undefined;
  }

  lagSeconds(now: number): number {
    return this.behindSince === undefined ? 0 : Math.round((now - this.behindSince) / 100) / 10;
  }
}

export function streamKey(source: string, stream: string): string {
  return `${source} ${stream}`;
}
