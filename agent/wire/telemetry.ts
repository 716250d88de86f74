/**
 * What a box publishes every few seconds on `node/{id}/telemetry` (QoS 0, not retained;
 * docs/mqtt/telemetry.md): the health of the machine and of the switch, for the hub's fleet
 * view. Sampled by the box (agent/control/), kept in a bounded window by the hub. The broker's
 * ACL lets only the box itself publish under its `node/{id}/`; the hub validates every payload
 * with this schema and drops one whose `node` disagrees with the topic.
 */
import { z } from 'zod';
import { topics } from './topics.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const count = z.number().int().min(0);
const bytes = z.number().min(0);

/** A condition an operator should look at, as the box sees it now (docs/alarms in the status page). */
export const AlarmSchema = z.object({
  /** Stable code, e.g. `sync.rejected-change`, `sync.key-mismatch`, `peer.down`, `hub.unreachable`. */
  code: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/),
  severity: z.enum(['warning', 'critical']),
  message: z.string().max(300),
  /** Epoch ms when the condition began. */
  since: z.number().int(),
});
export type Alarm = z.infer<typeof AlarmSchema>;

export const TelemetrySchema = z.object({
  v: z.literal(1),
  node: id,
  site: z.string().max(63),
  /** Epoch ms of the sample. */
  at: z.number().int(),
  version: z.string().max(64),
  uptimeS: z.number().min(0),
  cpu: z.object({ load1: z.number().min(0), load5: z.number().min(0), load15: z.number().min(0), usedPct: z.number().min(0).max(100) }),
  mem: z.object({ totalB: bytes, availableB: bytes }),
  /** The file system of the data directory. */
  disk: z.object({ totalB: bytes, freeB: bytes }),
  /** Temperatures in °C where the machine has sensors (empty elsewhere). */
  tempsC: z.array(z.number()).max(32),
  /** Sum over the interfaces other than loopback, bytes per second since the previous sample. */
  net: z.object({ rxBps: bytes, txBps: bytes }),
  proc: z.object({ rssB: bytes, loopDelayMs: z.number().min(0) }),
  sip: z.object({ registrations: count, activeCalls: count }),
  sync: z.object({
    /** How far the box's streams from the hub are behind the hub's head (ms, the largest; 0 when caught up), null without a `hub`. */
    hubLagMs: z.number().min(0).nullable(),
    hubLinked: z.boolean(),
    peers: z.array(z.object({ id, up: z.boolean() })).max(64),
  }),
  alarms: z.array(AlarmSchema).max(64),
});
export type Telemetry = z.infer<typeof TelemetrySchema>;

export const telemetryTopics = { of: topics.nodeTelemetry, all: topics.allNodeTelemetry } as const;
