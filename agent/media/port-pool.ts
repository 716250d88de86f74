/**
 * The relay's UDP ports: pairs of an even RTP port and RTP+1 for RTCP (RFC 3550 §11), all
 * inside `rtp.portRange` [lo, hi]. Free pairs wait in a FIFO ring, so allocation and release
 * are O(1) and a port that just carried a call is the last to be handed out again (late packets
 * of the old call do not reach a new one).
 *
 * The pool does not know sockets; allocate() hands each candidate pair to a bind function. When
 * the OS refuses a port because something else holds it (EADDRINUSE, EACCES), the pair goes to
 * the back of the ring and the next one is tried; after one full round it is exhaustion.
 */
import { isPortTaken, MediaError } from './errors.ts';

export interface PortPoolAllocation<T> {
  /** The RTP port; RTCP is `port + 1`. */
  port: number;
  /** What the bind function returned (the bound sockets). */
  value: T;
}

export class PortPool {
  /** First even port of the range. */
  private readonly first: number;
  /** Number of pairs in the range. */
  readonly capacity: number;
  /** Ring of free pair indexes. */
  private readonly ring: Int32Array;
  private head = 0;
  private size = 0;
  /** 1 while a pair is handed out (or being bound). */
  private readonly taken: Uint8Array;

  constructor(range: readonly [number, number]) {
    const [lo, hi] = range;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
      throw new MediaError('media.config', `invalid RTP port range [${lo}, ${hi}]`);
    }
    this.first = lo + (lo & 1);
    this.capacity = Math.max(0, Math.floor((hi + 1 - this.first) / 2));
    if (this.capacity === 0) {
      throw new MediaError('media.config', `RTP port range [${lo}, ${hi}] holds no even/odd port pair`);
    }
    this.ring = new Int32Array(this.capacity);
    this.taken = new Uint8Array(this.capacity);
    for (let i = 0; i < this.capacity; i++) this.push(i);
  }

  /** Pairs not handed out. */
  get available(): number {
    return this.size;
  }

  /**
   * Takes the next free pair and calls `bind(rtpPort)`. A pair whose bind fails with a
   * port-taken error is put back at the end and the next pair is tried; any other bind failure
   * is a MediaError('media.bind'). Throws MediaError('media.ports-exhausted') when every free
   * pair was tried once.
   */
  async allocate<T>(bind: (rtpPort: number) => Promise<T>): Promise<PortPoolAllocation<T>> {
    let refused = 0;
    for (let attempts = this.size; attempts > 0; attempts--) {
      const index = this.shift();
      const port = this.first + 2 * index;
      try {
        const value = await bind(port);
        return { port, value };
      } catch (err) {
        this.release(index);
        if (!isPortTaken(err)) {
          throw new MediaError('media.bind', `cannot bind RTP port ${port}: ${(err as Error).message}`, { cause: err });
        }
        refused++;
      }
    }
    const detail = refused > 0 ? ` (${refused} refused by the OS as in use)` : '';
    throw new MediaError('media.ports-exhausted', `no free RTP port pair of ${this.capacity}${detail}`);
  }

  /** The RTP ports of the free pairs, in the order allocate() tries them; the ring is not changed. */
  *freePorts(): Generator<number> {
    for (let k = 0; k < this.size; k++) yield this.first + 2 * this.ring[(this.head + k) % this.capacity]!;
  }

  /** Returns a pair; a port that is not handed out (already freed, foreign) is ignored. */
  free(rtpPort: number): void {
    const index = (rtpPort - this.first) / 2;
    if (!Number.isInteger(index) || index < 0 || index >= this.capacity) return;
    if (this.taken[index] === 1) this.release(index);
  }

  private shift(): number {
    const index = this.ring[this.head]!;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    this.taken[index] = 1;
    return index;
  }

  private release(index: number): void {
    this.taken[index] = 0;
    this.push(index);
  }

  private push(index: number): void {
    this.ring[(this.head + this.size) % this.capacity] = index;
    this.size++;
  }
}
