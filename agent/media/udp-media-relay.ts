/**
 * The RTP/RTCP relay (DESIGN.md §8, docs/media-relay.md): implements MediaRelay for the switch.
 * Every call gets a session with two legs; each leg binds an even RTP port and the next RTCP
 * port from `rtp.portRange` on `rtp.address`. Packets are relayed without decoding (same codec on
 * both sides); the media timeout is checked once a second for all sessions with one timer.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { MediaError } from './errors.ts';
import { PortPool } from './port-pool.ts';
import { RelayLeg } from './relay-leg.ts';
import { UdpRelaySession } from './relay-session.ts';
import type { MediaRelay, RelayCallbacks } from './relay-types.ts';
import { bindSocketPair, type SocketPair } from './socket-pair.ts';

export interface UdpMediaRelayOptions {
  /** `rtp.address`: bound by every socket and written into SDP. */
  address: string;
  /** `rtp.portRange`: [lo, hi], inclusive. */
  portRange: readonly [number, number];
  /** `rtp.timeout` in milliseconds. */
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  /** How often the media timeout is checked; 1000 ms unless a test wants otherwise. */
  checkIntervalMs?: number;
}

export class UdpMediaRelay implements MediaRelay {
  private readonly options: UdpMediaRelayOptions;
  private readonly pool: PortPool;
  private readonly sessions = new Set<UdpRelaySession>();
  private readonly checkIntervalMs: number;
  private running = false;
  private timer: TimerHandle | undefined;
  private nextId = 1;

  constructor(options: UdpMediaRelayOptions) {
    if (!(options.timeoutMs > 0)) throw new MediaError('media.config', `media timeout must be positive, got ${options.timeoutMs}`);
    this.options = options;
    this.pool = new PortPool(options.portRange);
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Port pairs free (two per session). */
  get freePortPairs(): number {
    return this.pool.available;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  async allocate(callId: string, callbacks: RelayCallbacks): Promise<UdpRelaySession> {
    if (!this.running) throw new MediaError('media.stopped', 'the media relay is not running');
    const id = `${callId}#${this.nextId++}`;
    const logger = this.options.logger.child({ relay: id });
    const first = await this.pool.allocate((port) => bindSocketPair(this.options.address, port));
    let second: { port: number; value: SocketPair };
    try {
      second = await this.pool.allocate((port) => bindSocketPair(this.options.address, port));
    } catch (err) {
      first.value.rtp.close();
      first.value.rtcp.close();
      this.pool.free(first.port);
      throw err;
    }
    const legA = new RelayLeg('a', this.options.address, first.port, first.value, logger);
    const legB = new RelayLeg('b', this.options.address, second.port, second.value, logger);
    const session = new UdpRelaySession({
      id,
      legA,
      legB,
      callbacks,
      timeoutMs: this.options.timeoutMs,
      now: () => this.options.clock.now(),
      logger,
      onRelease: (s) => {
        this.pool.free(legA.local.rtpPort);
        this.pool.free(legB.local.rtpPort);
        this.sessions.delete(s);
      },
    });
    if (!this.running) {
      // stop() ran while the ports were being bound.
      session.release();
      throw new MediaError('media.stopped', 'the media relay was stopped');
    }
    this.sessions.add(session);
    logger.debug({ a: legA.local.rtpPort, b: legB.local.rtpPort }, 'relay allocated');
    return session;
  }

  /** Releases every session and stops the timeout check. */
  async stop(): Promise<void> {
    this.running = false;
    this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const session of [...this.sessions]) session.release();
  }

  private schedule(): void {
    this.timer = this.options.clock.setTimeout(this.tick, this.checkIntervalMs);
  }

  private readonly tick = (): void => {
    if (!this.running) return;
    const now = this.options.clock.now();
    for (const session of [...this.sessions]) session.checkTimeout(now);
    this.schedule();
  };
}
