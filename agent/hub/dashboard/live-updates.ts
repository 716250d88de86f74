/**
 * Server-Sent Events of the dashboard (`GET /events`, `GET /events?box=ID`): the fleet feed
 * says which boxes changed; once a second the changed rows and the totals go to every overview
 * page, and a box's series and row to the pages of that box. A comment line every 15 s keeps
 * idle connections open through proxies.
 */
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { FleetFeed } from '../fleet-feed.ts';

interface Client {
  res: ServerResponse;
  /** The box a box page follows; undefined for the overview. */
  box: string | undefined;
}

export class LiveUpdates {
  private readonly clients = new Set<Client>();
  private readonly dirty = new Set<string>();
  private timer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private ticks = 0;

  constructor(
    private readonly feed: FleetFeed,
    private readonly clock: Clock,
    private readonly flushMs = 1000,
  ) {}

  start(): void {
    this.unsubscribe = this.feed.onUpdate((ids) => {
      for (const id of ids) this.dirty.add(id);
    });
    this.schedule();
  }

  stop(): void {
    this.unsubscribe?.();
    this.clock.clearTimeout(this.timer);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over a response as an event stream. */
  attach(res: ServerResponse, box: string | undefined): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    const client = { res, box };
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.flush();
      this.schedule();
    }, this.flushMs);
  }

  private flush(): void {
    this.ticks++;
    if (this.clients.size === 0) {
      this.dirty.clear();
      return;
    }
    const keepAlive = this.ticks % Math.max(1, Math.round(15_000 / this.flushMs)) === 0;
    if (this.dirty.size === 0) {
      if (keepAlive) for (const c of this.clients) c.res.write(': keep-alive\n\n');
      return;
    }
    const ids = [...this.dirty];
    this.dirty.clear();
    const now = this.clock.now();
    const view = this.feed.view;
    let overview: string | undefined;
    for (const c of this.clients) {
      if (c.box === undefined) {
        overview ??= JSON.stringify({
          rows: ids.map((id) => view.row(id, this.feed.fact(id), now)),
          totals: view.overview(this.feed.facts(), now).totals,
          counters: view.counters,
        });
        c.res.write(`event: boxes\ndata: ${overview}\n\n`);
      } else if (ids.includes(c.box)) {
        const d = view.detail(c.box, this.feed.fact(c.box), now);
        if (d) c.res.write(`event: box\ndata: ${JSON.stringify(d)}\n\n`);
      }
    }
  }
}
