/**
 * Config sections of trust (docs/config/enrol.md): the hub's `ca` (its certificate authority)
 * and `enrol` (the enrolment endpoint), and a box's `enrol` (the hub and claim code it enrols
 * with at its first start).
 */
import { z } from 'zod';

const hostPortText = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port", e.g. "0.0.0.0:8443"')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'port is out of range 0-65535' });

/** Hub: its CA and the certificates it issues. */
export const CaSection = z.strictObject({
  /** Days the CA certificate made at the first start is valid. */
  days: z.number().int().min(1).max(36_500).default(3650),
  /** Days a node certificate (and the hub's own) is valid. */
  certificateDays: z.number().int().min(1).max(3650).default(90),
  /**
   * Validity of node certificates as a duration, `10m`, `12h`, `90d` (1 minute to 3650 days):
   * overrides `certificateDays` (short-lived fleets, renewal tests). Absent: certificateDays.
   */
  certificateValidity: z
    .string()
    .regex(/^[1-9][0-9]{0,6}[mhd]$/, 'must be a duration: a number then m, h or d (e.g. 10m, 12h, 90d)')
    .refine((v) => validityMs(v) >= 60_000 && validityMs(v) <= 3650 * 86_400_000, { message: 'must be between 1m and 3650d' })
    .optional(),
  /** DNS names and IP addresses boxes reach the hub by, written into the hub's own certificate. */
  serverNames: z
    .array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or an IP address'))
    .min(1)
    .default(['localhost', '127.0.0.1']),
});

/** Milliseconds of a validated duration (`10m`, `12h`, `90d`). */
export function validityMs(text: string): number {
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[text.slice(-1) as 'm' | 'h' | 'd'];
  return Number(text.slice(0, -1)) * unit;
}

/** Box: renewal of its certificate before it expires (docs/config/enrol.md). */
export const RenewalSection = z.strictObject({
  /** Fraction of the validity, at its end, in which the box renews. */
  window: z.number().min(0.05).max(0.9).default(1 / 3),
  /** Seconds before the first retry after a failed renewal; doubles up to retryMax. */
  retryMin: z.number().int().min(1).max(86_400).default(30),
  retryMax: z.number().int().min(1).max(86_400).default(3600),
  /** `https://host:port` of the hub's enrolment endpoint; default `enrol.hub`. */
  hub: z.string().regex(/^https:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}\/?$/, 'must be "https://host:port"').optional(),
});

/** Hub: renewal of its own certificate (broker, enrolment HTTPS) by its CA, with the window of a box's. */
export const HubRenewalSection = RenewalSection.omit({ hub: true, retryMin: true, retryMax: true });

/** Hub: the HTTPS endpoint boxes enrol at. Absent: no endpoint (claims can still be made). */
export const EnrolListenSection = z.strictObject({
  /** `host:port`; port 0 lets the OS choose (written to node.json as `enrol`). */
  listen: hostPortText,
  /** Failed attempts one source address may make within `failureWindow` before it is refused. */
  maxFailures: z.number().int().min(1).max(1000).default(5),
  /** Seconds over which failures are counted. */
  failureWindow: z.number().int().min(1).max(86_400).default(600),
});

/** Box: enrol at the first start (no node.crt in dataDir yet) with this hub and claim code. */
export const EnrolJoinSection = z.strictObject({
  /** `https://host:port` of the hub's enrolment endpoint. */
  hub: z.string().regex(/^https:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}\/?$/, 'must be "https://host:port"'),
  /** The claim code made at the hub (`outpost enrol create`). */
  claim: z.string().min(1).max(64),
});

/** `host:port` of a validated listen text (an IPv6 host without its brackets). */
export function parseHostPort(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(colon + 1)) };
}

export type CaConfig = z.output<typeof CaSection>;
export type EnrolListenConfig = z.output<typeof EnrolListenSection>;
export type EnrolJoinConfig = z.output<typeof EnrolJoinSection>;
export type RenewalConfig = z.output<typeof RenewalSection>;

/**
 * Hub with Mosquitto (`mqtt.url`): the directory `outpost broker mosquitto-config` wrote, whose
 * ACL and CRL the hub rewrites when a box enrols or is revoked, and how it then tells Mosquitto
 * to reload them (docs/config/hub.md, docs/cli/broker.md).
 */
export const MosquittoSection = z
  .strictObject({
    /** The `--out` directory of `outpost broker mosquitto-config` (Mosquitto's include_dir). */
    dir: z.string().min(1),
    /** A file holding Mosquitto's pid (its `pid_file`): the hub sends that process SIGHUP. */
    pidFile: z.string().min(1).optional(),
    /** Or a shell command that reloads Mosquitto (e.g. `systemctl reload mosquitto`). */
    reloadCommand: z.string().min(1).max(1000).optional(),
  })
  .refine((m) => !(m.pidFile !== undefined && m.reloadCommand !== undefined), { message: 'give pidFile or reloadCommand, not both' });

export type MosquittoConfig = z.output<typeof MosquittoSection>;
