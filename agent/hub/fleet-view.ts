/**
 * The hub's fleet view (docs/dashboard.md): the core that takes box telemetry as it arrives
 * and what the hub knows of each node from its state (online flag, site, when last seen), and
 * answers the per-site, per-box model the dashboard shows. No sockets, no timers: the shell
 * (fleet-feed.ts) feeds it messages and the clock's time.
 *
 * A payload is kept only if it parses as JSON, validates with TelemetrySchema and names the
 * node of its topic (the broker's ACL already lets a box publish only its own; the check keeps
 * a misconfigured broker from mixing boxes up). Everything else is dropped and counted.
 */
import type { TelemetryWindowConfig } from '../config/dashboard-schema.ts';
import { parseTopic } from '../wire/topics.ts';
import { TelemetrySchema, type Alarm, type Telemetry } from '../wire/telemetry.ts';
import { pointOf, TelemetryWindow, type WindowSeries } from './fleet-window.ts';

/** What the hub knows of a node from its replicated state (agent/sync/peer-directory.ts). */
export interface NodeFact {
  nodeId: string;
  site: string;
  online: boolean;
  /** When its state was last seen (ms); 0 when known only from its pinned key. */
  seenAt: number;
}

export type BoxState = 'online' | 'partitioned' | 'offline';

export type IngestResult = { kind: 'accepted'; node: string } | { kind: 'dropped'; reason: DropReason };
export type DropReason = 'invalid' | 'wrong-topic' | 'too-many-boxes';

export interface FleetCounters {
  accepted: number;
  invalid: number;
  wrongTopic: number;
  tooManyBoxes: number;
}

/** One box as the overview shows it. */
export interface BoxRow {
  nodeId: string;
  site: string;
  state: BoxState;
  /** Why the box is partitioned or offline, for people. */
  reason: string;
  /** When the hub last heard of it: its last telemetry or its last state (ms; 0: never). */
  lastSeen: number;
  version: string | null;
  registrations: number | null;
  activeCalls: number | null;
  hubLagMs: number | null;
  alarms: FleetAlarm[];
}

export interface FleetAlarm extends Alarm {
  nodeId: string;
  site: string;
  /** `box`: raised by the box itself (its telemetry); `hub`: the hub's view of the box. */
  source: 'box' | 'hub';
}

export interface FleetOverview {
  at: number;
  sites: Array<{ site: string; boxes: BoxRow[] }>;
  totals: { boxes: number; online: number; partitioned: number; offline: number; registrations: number; activeCalls: number; alarms: number };
  counters: FleetCounters;
}

export interface BoxDetail {
  row: BoxRow;
  /** The newest sample as the box sent it, or null before the first. */
  latest: Telemetry | null;
  series: WindowSeries | null;
}

interface BoxTelemetry {
  window: TelemetryWindow;
  latest: Telemetry;
  receivedAt: number;
}

export interface FleetViewOptions extends TelemetryWindowConfig {
  /** Boxes the view keeps telemetry of; a new box beyond it is dropped and counted. */
  maxBoxes?: number;
}

export class FleetView {
  readonly counters: FleetCounters = { accepted: 0, invalid: 0, wrongTopic: 0, tooManyBoxes: 0 };
  private readonly boxes = new Map<string, BoxTelemetry>();
  private readonly maxBoxes: number;

  constructor(private readonly o: FleetViewOptions) {
    this.maxBoxes = o.maxBoxes ?? 5000;
  }

  /** A message on `node/<id>/telemetry`, received at `now`. */
  ingest(topic: string, payload: Buffer | string, now: number): IngestResult {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.kind !== 'nodeTelemetry') return this.drop('wrongTopic', 'wrong-topic');
    let json: unknown;
    try {
      json = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch {
      return this.drop('invalid', 'invalid');
    }
    const result = TelemetrySchema.safeParse(json);
    if (!result.success) return this.drop('invalid', 'invalid');
    const t = result.data;
    if (t.node !== parsed.nodeId) return this.drop('wrongTopic', 'wrong-topic');
    let box = this.boxes.get(t.node);
    if (!box) {
      if (this.boxes.size >= this.maxBoxes) return this.drop('tooManyBoxes', 'too-many-boxes');
      box = { window: new TelemetryWindow(this.o.samples), latest: t, receivedAt: now };
      this.boxes.set(t.node, box);
    }
    box.window.push(pointOf(t, now));
    box.latest = t;
    box.receivedAt = now;
    this.counters.accepted++;
    return { kind: 'accepted', node: t.node };
  }

  private drop(counter: 'invalid' | 'wrongTopic' | 'tooManyBoxes', reason: DropReason): IngestResult {
    this.counters[counter]++;
    return { kind: 'dropped', reason };
  }

  /** Drops samples older than `telemetry.maxAge`, and boxes left with none. */
  prune(now: number): void {
    const oldest = now - this.o.maxAge * 1000;
    for (const [id, box] of this.boxes) {
      box.window.prune(oldest);
      if (box.window.size === 0) this.boxes.delete(id);
    }
  }

  /** Boxes with telemetry in the window. */
  get boxCount(): number {
    return this.boxes.size;
  }

  /** One box as the overview shows it, merging its state (if known) with its telemetry. */
  row(nodeId: string, fact: NodeFact | undefined, now: number): BoxRow {
    const box = this.boxes.get(nodeId);
    const { state, reason } = classify(fact, box && { receivedAt: box.receivedAt, hubLinked: box.latest.sync.hubLinked }, now, this.o.staleAfter * 1000);
    const site = fact?.site || box?.latest.site || '';
    const alarms: FleetAlarm[] = (box?.latest.alarms ?? []).map((a) => ({ ...a, nodeId, site, source: 'box' as const }));
    const since = Math.max(box?.receivedAt ?? 0, fact?.seenAt ?? 0);
    if (state === 'partitioned') alarms.unshift({ code: 'hub.partitioned', severity: 'warning', message: reason, since, nodeId, site, source: 'hub' });
    if (state === 'offline' && fact) alarms.unshift({ code: 'hub.offline', severity: 'critical', message: reason, since, nodeId, site, source: 'hub' });
    return {
      nodeId,
      site,
      state,
      reason,
      lastSeen: since,
      version: box?.latest.version ?? null,
      registrations: box?.latest.sip.registrations ?? null,
      activeCalls: box?.latest.sip.activeCalls ?? null,
      hubLagMs: box?.latest.sync.hubLagMs ?? null,
      alarms,
    };
  }

  /** Every box the hub knows of (states and telemetry), grouped by site, both sorted. */
  overview(facts: readonly NodeFact[], now: number): FleetOverview {
    const byId = new Map(facts.map((f) => [f.nodeId, f]));
    const ids = new Set([...byId.keys(), ...this.boxes.keys()]);
    const sites = new Map<string, BoxRow[]>();
    const totals = { boxes: 0, online: 0, partitioned: 0, offline: 0, registrations: 0, activeCalls: 0, alarms: 0 };
    for (const id of [...ids].sort()) {
      const row = this.row(id, byId.get(id), now);
      const list = sites.get(row.site) ?? [];
      list.push(row);
      sites.set(row.site, list);
      totals.boxes++;
      totals[row.state]++;
      totals.registrations += row.registrations ?? 0;
      totals.activeCalls += row.activeCalls ?? 0;
      totals.alarms += row.alarms.length;
    }
    return {
      at: now,
      sites: [...sites].sort(([a], [b]) => a.localeCompare(b)).map(([site, boxes]) => ({ site, boxes })),
      totals,
      counters: { ...this.counters },
    };
  }

  detail(nodeId: string, fact: NodeFact | undefined, now: number): BoxDetail | undefined {
    const box = this.boxes.get(nodeId);
    if (!box && !fact) return undefined;
    return { row: this.row(nodeId, fact, now), latest: box?.latest ?? null, series: box?.window.series() ?? null };
  }

  /** Every alarm of the fleet, critical first, then the oldest first. */
  alarms(facts: readonly NodeFact[], now: number): FleetAlarm[] {
    const all = this.overview(facts, now).sites.flatMap((s) => s.boxes.flatMap((b) => b.alarms));
    return all.sort((a, b) => (a.severity === b.severity ? a.since - b.since : a.severity === 'critical' ? -1 : 1));
  }
}

/**
 * A box's state. offline: its state says so (its will fired, or it stopped), and no telemetry
 * came after; or nothing at all was heard for `staleMs`. partitioned: its state says online
 * but its telemetry stopped for `staleMs`, or its newest sample says it has no link to the hub.
 * online: otherwise (a box that never sent telemetry is judged by its state alone).
 */
export function classify(
  fact: NodeFact | undefined,
  telemetry: { receivedAt: number; hubLinked: boolean } | undefined,
  now: number,
  staleMs: number,
): { state: BoxState; reason: string } {
  const fresh = telemetry !== undefined && now - telemetry.receivedAt <= staleMs;
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  if (!fact) {
    if (!fresh) return { state: 'offline', reason: telemetry ? `no telemetry for ${secs(now - telemetry.receivedAt)}, no state` : 'never heard of' };
    return telemetry.hubLinked ? { state: 'online', reason: 'telemetry (no state yet)' } : { state: 'partitioned', reason: 'the box reports no link to the hub' };
  }
  const after = telemetry !== undefined && telemetry.receivedAt > fact.seenAt;
  if (!fact.online && !(fresh && after)) return { state: 'offline', reason: fact.seenAt === 0 ? 'no state since the hub started' : 'its state says offline' };
  if (telemetry === undefined) return { state: 'online', reason: 'state online (no telemetry)' };
  if (!fresh) return { state: 'partitioned', reason: `state online but no telemetry for ${secs(now - telemetry.receivedAt)}` };
  if (!telemetry.hubLinked) return { state: 'partitioned', reason: 'the box reports no link to the hub' };
  return { state: 'online', reason: 'state online, telemetry fresh' };
}
