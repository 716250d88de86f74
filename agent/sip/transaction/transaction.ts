/**
 * The common core of the four transaction state machines (RFC 3261 §17): the current state,
 * named timers on the injected Clock, fire-and-forget sends whose failures come back as
 * TransactionError, and termination listeners (the TransactionLayer uses one to drop the
 * transaction from its maps, so nothing outlives the "Terminated" state).
 */
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SipMessage, SipRequest } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { TransactionError } from './errors.ts';
import type { TransactionTimers } from './timers.ts';

export type TransactionKind = 'ict' | 'nict' | 'ist' | 'nist';

/** Timer names as in RFC 3261 Table 4 and RFC 6026; `Trying` is the 200 ms 100-Trying delay. */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';

/** What the TransactionLayer hands every transaction it creates. */
export interface TransactionContext {
  clock: Clock;
  logger: Logger;
  /** Values already resolved for this transaction's transport (reliable or not). */
  timers: TransactionTimers;
}

export abstract class Transaction<S extends string> {
  /** The key the layer matches on (RFC 3261 §17.1.3 / §17.2.3). */
  readonly id: string;
  readonly kind: TransactionKind;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  readonly transport: Transport;
  protected readonly clock: Clock;
  protected readonly timers: TransactionTimers;
  protected readonly log: Logger;
  private current: S;
  private readonly handles = new Map<TimerName, TimerHandle>();
  private readonly terminatedListeners: Array<() => void> = [];

  protected constructor(kind: TransactionKind, id: string, request: SipRequest, transport: Transport, context: TransactionContext, initial: S) {
    this.kind = kind;
    this.id = id;
    this.request = request;
    this.transport = transport;
    this.clock = context.clock;
    this.timers = context.timers;
    this.log = context.logger.child({ txn: id, kind });
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  get isTerminated(): boolean {
    return this.current === 'Terminated';
  }

  /** Registers a callback run once when the transaction reaches "Terminated". */
  onTerminated(listener: () => void): void {
    if (this.isTerminated) listener();
    else this.terminatedListeners.push(listener);
  }

  /**
   * Stops every timer and marks the transaction terminated without telling anyone (layer
   * shutdown). No TU callback and no termination listener runs.
   */
  dispose(): void {
    this.stopAllTimers();
    this.current = 'Terminated' as S;
    this.terminatedListeners.length = 0;
  }

  /** Moves to `to`; entering "Terminated" stops all timers and runs the listeners. */
  protected transition(to: S, reason: string): void {
    if (this.isTerminated) return;
    this.log.debug({ from: this.current, to, reason }, 'transaction state');
    this.current = to;
    if (to === 'Terminated') {
      this.stopAllTimers();
      const listeners = this.terminatedListeners.splice(0);
      for (const listener of listeners) listener();
    }
  }

  protected terminate(reason: string): void {
    this.transition('Terminated' as S, reason);
  }

  /**
   * Enters "Terminated" after `ms`, or at once when `ms` is 0 (Timers D, I, J, K on reliable
   * transports, RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
   */
  protected terminateAfter(name: TimerName, ms: number): void {
    if (ms <= 0) this.terminate(`timer ${name} (0 on reliable transport)`);
    else this.startTimer(name, ms, () => this.terminate(`timer ${name} fired`));
  }

  protected startTimer(name: TimerName, ms: number, fire: () => void): void {
    this.stopTimer(name);
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(name);
      if (!this.isTerminated) fire();
    }, ms);
    this.handles.set(name, handle);
  }

  protected stopTimer(...names: TimerName[]): void {
    for (const name of names) {
      const handle = this.handles.get(name);
      if (handle) {
        this.clock.clearTimeout(handle);
        this.handles.delete(name);
      }
    }
  }

  /** True while the named timer is scheduled (for tests and assertions). */
  hasTimer(name: TimerName): boolean {
    return this.handles.has(name);
  }

  private stopAllTimers(): void {
    for (const handle of this.handles.values()) this.clock.clearTimeout(handle);
    this.handles.clear();
  }

  /** Passes a message to the transport; a rejection becomes onTransportFailure. */
  protected send(message: SipMessage, dest: Endpoint): void {
    let sending: Promise<void>;
    try {
      sending = this.transport.send(message, dest);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.catch((err: unknown) => {
      if (this.isTerminated) return;
      const what = message.type === 'request' ? message.method : String(message.status);
      this.onTransportFailure(new TransactionError('transaction.transport', `could not send ${what}`, { cause: err }));
    });
  }

  /** RFC 3261 §17.1.4 (client) and RFC 6026 §8.8 (server) decide what a failed send means. */
  protected abstract onTransportFailure(error: TransactionError): void;

  /** Runs a TU callback; a throwing TU must not break the state machine. */
  protected notify(what: string, callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.log.error({ err, callback: what }, 'transaction user callback threw');
    }
  }
}
