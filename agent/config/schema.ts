/**
 * The config file's schema: one zod schema per section, composed into ConfigSchema.
 * Every key is documented in docs/config/*.md; keep the two in step.
 */
import { z } from 'zod';
import { CODEC_NAMES, normaliseCodecName, type CodecName } from './codec-names.ts';
import { parseListenAddress, type ListenAddress } from './listen-address.ts';
import { EnrolJoinSection, RenewalSection } from './trust-schema.ts';
import { TraceSection } from './trace-schema.ts';
import { HubLinkSection, InsecureMqttKey, MqttListenSection, PeerEntry, SyncSection, nodeIdSchema } from './sync-schema.ts';
import { BoxMetricsSection, HttpSection, TelemetrySection } from './observe-schema.ts';

const nodeId = nodeIdSchema;

export const NodeSection = z.strictObject({
  id: nodeId,
  site: nodeId,
});

export const LogSection = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const listenAddress = z.string().transform((text, ctx): ListenAddress => {
  const parsed = parseListenAddress(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

export const RegistrarSection = z
  .strictObject({
    minExpires: seconds(1, 86_400).default(60),
    maxExpires: seconds(1, 604_800).default(7200),
    defaultExpires: seconds(1, 604_800).default(3600),
    maxContactsPerAor: z.number().int().min(1).max(100).default(10),
    /** Load shedding (agent/switch/registration-shedding.ts): mean event-loop lag, ms. */
    shedLag: z.number().int().min(10).max(60_000).default(300),
    /** Load shedding: REGISTERs waiting for their commit. */
    shedPending: z.number().int().min(1).max(1_000_000).default(1000),
    /** The Retry-After of a shed REGISTER: uniform over [min, max] seconds. */
    retryAfter: z.tuple([seconds(1, 3600), seconds(1, 3600)]).default([1, 10]),
  })
  .refine((r) => r.minExpires <= r.defaultExpires && r.defaultExpires <= r.maxExpires, {
    message: 'must satisfy minExpires <= defaultExpires <= maxExpires',
  })
  .refine((r) => r.retryAfter[0] <= r.retryAfter[1], { message: 'must satisfy retryAfter[0] <= retryAfter[1]' });

export const AuthSection = z.strictObject({
  algorithms: z
    .array(z.enum(['SHA-256', 'MD5']))
    .min(1)
    .default(['MD5'])
    .refine((a) => new Set(a).size === a.length, { message: 'lists an algorithm twice' }),
  nonceLifetime: seconds(10, 86_400).default(300),
});

export const FloodSection = z.strictObject({
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive().default(200),
      burst: z.number().min(1).default(400),
    })
    .prefault({}),
  ban: z
    .strictObject({
      failures: z.number().int().min(1).default(10),
      window: seconds(1, 86_400).default(60),
      duration: seconds(1, 31_536_000).default(900),
    })
    .prefault({}),
  trusted: z.array(z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' })).default([]),
});

export const TimersSection = z
  .strictObject({
    t1: z.number().int().min(10).max(10_000).default(500),
    t2: z.number().int().min(100).max(60_000).default(4000),
    t4: z.number().int().min(100).max(60_000).default(5000),
  })
  .refine((t) => t.t1 <= t.t2, { message: 'must satisfy t1 <= t2' });

/** Text that goes into SIP headers as a quoted string or token: printable, no quotes. */
const headerText = z.string().min(1).max(128).regex(/^[\x21\x23-\x7e][\x20\x21\x23-\x7e]*$/, 'must be printable ASCII without double quotes or leading space');

/**
 * An operator's certificate for `tls:` listeners (docs/sip-tls.md): PEM files, relative to the
 * config file's folder. Absent: the box serves its node certificate from the hub's CA.
 */
export const SipTlsSection = z
  .strictObject({
    /** The certificate (chain) phones are served, PEM. */
    cert: z.string().min(1).optional(),
    /** Its private key, PEM. */
    key: z.string().min(1).optional(),
    /** Site peers only over mutual TLS: signed inter-box requests over UDP/TCP get 403 (docs/sip-tls.md). */
    peersOnly: z.boolean().default(false),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'give both cert and key, or neither' });

export const SipSection = z.strictObject({
  domain: z.string().min(1).regex(/^[A-Za-z0-9.-]+$/, 'must be a host name (letters, digits, dots, dashes)'),
  realm: headerText.optional(),
  listen: z
    .array(listenAddress)
    .min(1)
    .refine((l) => {
      const fixed = l.filter((a) => a.port !== 0).map((a) => `${a.protocol}:${a.host}:${a.port}`);
      return new Set(fixed).size === fixed.length;
    }, {
      message: 'lists the same address twice',
    }),
  userAgent: headerText.default('outpost'),
  registrar: RegistrarSection.prefault({}),
  auth: AuthSection.prefault({}),
  flood: FloodSection.prefault({}),
  timers: TimersSection.prefault({}),
  tls: SipTlsSection.prefault({}),
});

/** One codec name in any case ('pcma', 'OPUS'), normalised to the codec library's spelling. */
const codecName = z.string().transform((text, ctx): CodecName => {
  const name = normaliseCodecName(text);
  if (name === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown codec ${JSON.stringify(text)}: must be one of ${CODEC_NAMES.join(', ')}` });
    return z.NEVER;
  }
  return name;
});

/** The box's default codec preference order, most preferred first. */
export const DEFAULT_CODECS: readonly CodecName[] = ['opus', 'G722', 'PCMA', 'PCMU', 'G729'];

export const RtpSection = z
  .strictObject({
    /** Address the relay binds and writes into SDP; defaults to the first sip.listen host. */
    address: z
      .union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' })
      .refine((a) => a !== '0.0.0.0' && a !== '::', { message: 'must be a concrete address (it is written into SDP), not a wildcard' })
      .optional(),
    portRange: z
      .tuple([z.number().int().min(1024).max(65534), z.number().int().min(1025).max(65535)])
      .default([20000, 29999])
      .refine(([lo, hi]) => Math.floor((hi - (lo % 2 === 0 ? lo : lo + 1) + 1) / 2) >= 2, {
        message: 'must hold at least 2 even/odd port pairs (one RTP+RTCP pair per call leg)',
      }),
    /** Seconds without RTP from any sending party before a call is ended. */
    timeout: seconds(1, 3600).default(30),
    /**
     * Codec preference order the box offers when it transcodes (the two parties share no
     * codec); a user's own list (users.codecs) replaces it for calls to and from that user.
     */
    codecs: z
      .array(codecName)
      .min(1, 'must list at least one codec')
      .default(() => [...DEFAULT_CODECS])
      .superRefine((list, ctx) => {
        const twice = list.find((c, i) => list.indexOf(c) !== i);
        if (twice !== undefined) ctx.addIssue({ code: 'custom', message: `lists ${twice} twice` });
      }),
  });

export const CallsSection = z
  .strictObject({
  maxPerUser: z.number().int().min(1).max(100).default(4),
  maxTotal: z.number().int().min(1).max(100_000).default(1000),
  /** Seconds a call may ring before it is cancelled (480 No Answer to the caller). */
  ringTimeout: seconds(5, 600).default(60),
  /** RFC 4028 session timer the box asks for, and the smallest it accepts (Min-SE). */
  sessionExpires: seconds(90, 86_400).default(1800),
  minSE: seconds(90, 86_400).default(90),
  })
  .refine((c) => c.minSE <= c.sessionExpires, { message: 'must satisfy minSE <= sessionExpires' });

export const ConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  node: NodeSection,
  dataDir: z.string().min(1),
  log: LogSection.prefault({}),
  sip: SipSection,
  rtp: RtpSection.prefault({}),
  calls: CallsSection.prefault({}),
  /** The hub this node replicates with; absent: a standalone box. */
  hub: HubLinkSection.optional(),
  /** Site peers reachable without the hub. */
  peers: z.array(PeerEntry).default([]).refine((p) => new Set(p.map((x) => x.id)).size === p.length, { message: 'lists a peer twice' }),
  /** This node's own broker for its site peers (`listen` only on a node). */
  mqtt: MqttListenSection.optional(),
  /** Allow plain `mqtt://` off loopback (docs/security.md, insecure dev mode). */
  insecureMqtt: InsecureMqttKey,
  sync: SyncSection.prefault({}),
  /** Moved to `http.listen` on a box: a config error that says so. */
  metrics: BoxMetricsSection.optional(),
  /** The box's HTTP server: status page, /healthz, /metrics (docs/config/http.md). */
  http: HttpSection.prefault({}),
  /** The sample published to the hub (docs/config/telemetry.md). */
  telemetry: TelemetrySection.prefault({}),
  /** Enrol with the hub at the first start (no certificate in dataDir yet). */
  enrol: EnrolJoinSection.optional(),
  /** Renew the certificate before it expires (secure mode; needs `renewal.hub` or `enrol.hub`). */
  renewal: RenewalSection.prefault({}),
  /** HEP export of SIP and RTCP to a Homer collector (docs/config/trace.md); off without `trace.hep`. */
  trace: TraceSection.prefault({}),
});

export type Config = z.output<typeof ConfigSchema>;
export type SipConfig = Config['sip'];
