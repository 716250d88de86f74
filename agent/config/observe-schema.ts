/**
 * The box's operator view (docs/config/http.md, docs/config/telemetry.md): `http`, its one HTTP
 * server for the status page, `/healthz` and `/metrics`; `telemetry`, the sample it publishes to
 * the hub. On a box, `metrics.listen` moved to `http.listen` (BoxMetricsSection says so).
 */
import { z } from 'zod';

/** The port of the box's HTTP server unless `http.listen` says otherwise. */
export const DEFAULT_HTTP_PORT = 8080;

/**
 * Where the box's HTTP server listens unless `http.listen` says otherwise: port 8080 on the
 * address of the box's first `sip.listen` entry, where its phones (and a technician on the same
 * LAN) reach it; `0.0.0.0` when SIP listens on every address.
 */
export function defaultHttpListen(sipListen: ReadonlyArray<{ host: string }>): string {
  const host = sipListen[0]?.host ?? '0.0.0.0';
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${DEFAULT_HTTP_PORT}`;
}

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port", e.g. "0.0.0.0:8080"')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'port is out of range 0-65535' });

export const HttpSection = z.strictObject({
  /** Serve the status page, /healthz and /metrics at all. */
  enabled: z.boolean().default(true),
  /** `host:port`; unset: defaultHttpListen(sip.listen), and a busy default port is a warning, not a failed start. */
  listen: hostPort.optional(),
});

export const TelemetrySection = z.strictObject({
  /** Seconds between two samples (published to the hub when the box has one). */
  interval: z.number().int().min(1).max(3600).default(10),
});

/** A box's `metrics` section: the endpoint is now one path of the box's HTTP server. */
export const BoxMetricsSection = z.strictObject({
  listen: z.string().superRefine((_v, ctx) => {
    ctx.addIssue({ code: 'custom', message: 'a box serves /metrics on its HTTP server now: move the address to http.listen (docs/config/http.md)' });
  }),
});

export type HttpConfig = z.output<typeof HttpSection>;
export type TelemetryConfig = z.output<typeof TelemetrySection>;
