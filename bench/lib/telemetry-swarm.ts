/**
 * A child process of bench/telemetry-hub.ts holding many simulated certified boxes
 * (sim-box.ts): it connects its share over mutual TLS, `concurrency` at a time, each publishing
 * its retained online state; on `publish` every box sends a telemetry sample every
 * `intervalMs` (each at its own phase, spread over the interval) for `durationMs`, then it
 * answers with what it sent. The connections stay open until `close` (or the parent dies).
 * Started with fork(): node --import tsx bench/lib/telemetry-swarm.ts
 */
import { HarnessError } from './harness-error.ts';
import { SimBox, type SimBoxIdentity } from './sim-box.ts';
import { sampleTelemetry } from './telemetry-sample.ts';

export interface TelemetrySwarmConnect {
  url: string;
  ca: string;
  boxes: SimBoxIdentity[];
  concurrency: number;
  state: boolean;
}

export interface TelemetrySwarmConnected {
  connected: number;
  failed: number;
  errors: string[];
  wallMs: number;
}

export interface TelemetrySwarmPublished {
  published: number;
  failed: number;
  /** Timer lateness of the sends, ms (this process's own load). */
  lateP99Ms: number;
}

const open: SimBox[] = [];

async function connect(r: TelemetrySwarmConnect): Promise<TelemetrySwarmConnected> {
  const t0 = performance.now();
  const reply: TelemetrySwarmConnected = { connected: 0, failed: 0, errors: [], wallMs: 0 };
  let next = 0;
  const worker = async () => {
    while (next < r.boxes.length) {
      const box = new SimBox(r.boxes[next++]!, r.url, r.ca);
      try {
        await box.connect({ state: r.state });
        open.push(box);
        reply.connected++;
      } catch (err) {
        reply.failed++;
        if (reply.errors.length < 5) reply.errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, r.concurrency) }, worker));
  reply.wallMs = Math.round(performance.now() - t0);
  return reply;
}

function publish(intervalMs: number, durationMs: number): Promise<TelemetrySwarmPublished> {
  const end = Date.now() + durationMs;
  const late: number[] = [];
  let published = 0;
  let failed = 0;
  return new Promise((resolve) => {
    let pending = open.length;
    if (pending === 0) resolve({ published, failed, lateP99Ms: 0 });
    open.forEach((box, i) => {
      let seq = 0;
      const tick = (due: number) => {
        if (due > end) {
          if (--pending === 0) {
            late.sort((a, b) => a - b);
            resolve({ published, failed, lateP99Ms: late.length ? Math.round(late[Math.floor(late.length * 0.99)]!) : 0 });
          }
          return;
        }
        setTimeout(() => {
          late.push(Date.now() - due);
          const b = box.identity;
          box.publishTelemetry(sampleTelemetry(b.id, b.site, Date.now(), seq++)).then(
            () => published++,
            () => failed++,
          );
          tick(due + intervalMs);
        }, Math.max(0, due - Date.now()));
      };
      tick(Date.now() + Math.floor((i / open.length) * intervalMs));
    });
  });
}

process.on('message', (msg: { connect?: TelemetrySwarmConnect; publish?: { intervalMs: number; durationMs: number }; close?: true }) => {
  if (msg.connect) void connect(msg.connect).then((connected) => process.send!({ connected }));
  if (msg.publish) void publish(msg.publish.intervalMs, msg.publish.durationMs).then((published) => process.send!({ published }));
  if (msg.close) {
    void Promise.all(open.map((b) => b.close().catch(() => undefined))).then(() => process.send!({ closed: open.length }, () => process.exit(0)));
  }
});
process.on('disconnect', () => process.exit(0));
if (!process.send) throw new HarnessError('telemetry-swarm.ts runs as a child of bench/telemetry-hub.ts (fork)');
