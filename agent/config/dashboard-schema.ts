/**
 * Config sections of the hub's fleet view (docs/config/dashboard.md): `telemetry`, the window
 * of samples the hub keeps per box, and `dashboard`, the web page it serves to admins.
 */
import { z } from 'zod';

const hostPortText = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port", e.g. "127.0.0.1:8090"')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'port is out of range 0-65535' });

/** Hub: how much telemetry it keeps per box (memory: about 100 bytes a sample). */
export const TelemetryWindowSection = z.strictObject({
  /** Samples kept per box, newest first out of the window when it is full. */
  samples: z.number().int().min(2).max(2000).default(120),
  /** Seconds a sample stays in the window. */
  maxAge: z.number().int().min(10).max(86_400).default(1200),
  /** Seconds without telemetry after which a box its state calls online is shown partitioned. */
  staleAfter: z.number().int().min(5).max(3600).default(35),
});

/** Hub: the fleet dashboard (absent: none). HTTPS with the hub's certificate off loopback. */
export const DashboardSection = z.strictObject({
  /** `host:port`; port 0 lets the OS choose (written to node.json as `dashboard`). */
  listen: hostPortText,
  /** Seconds a login lasts. */
  sessionTtl: z.number().int().min(60).max(7 * 86_400).default(8 * 3600),
  /** Failed logins one source address may make within `failureWindow` before it is refused. */
  maxFailures: z.number().int().min(1).max(1000).default(5),
  /** Seconds over which failed logins are counted. */
  failureWindow: z.number().int().min(1).max(86_400).default(300),
});

export type TelemetryWindowConfig = z.output<typeof TelemetryWindowSection>;
export type DashboardConfig = z.output<typeof DashboardSection>;
