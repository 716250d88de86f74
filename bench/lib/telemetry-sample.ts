/**
 * A telemetry payload (agent/wire/telemetry.ts) as a simulated box would publish it, for the
 * fleet view's tests, the dashboard test and the telemetry bench. `seq` varies the numbers so
 * that consecutive samples differ.
 */
import type { Telemetry } from '../../agent/wire/telemetry.ts';

export function sampleTelemetry(node: string, site: string, at: number, seq = 0, over: Partial<Telemetry> = {}): Telemetry {
  return {
    v: 1,
    node,
    site,
    at,
    version: '0.1.0',
    uptimeS: 60 + seq * 10,
    cpu: { load1: 0.2 + (seq % 5) / 10, load5: 0.3, load15: 0.25, usedPct: 5 + (seq % 20) },
    mem: { totalB: 2_000_000_000, availableB: 1_200_000_000 - (seq % 10) * 1_000_000 },
    disk: { totalB: 30_000_000_000, freeB: 20_000_000_000 },
    tempsC: [41.5],
    net: { rxBps: 1200 + seq, txBps: 900 + seq },
    proc: { rssB: 90_000_000 + seq * 1000, loopDelayMs: 1.5 },
    sip: { registrations: 4 + (seq % 3), activeCalls: seq % 2 },
    sync: { hubLagMs: 120 + (seq % 7) * 30, hubLinked: true, peers: [] },
    alarms: [],
    ...over,
  };
}
