/**
 * The hub's config file (`outpost hub --config FILE`): a replica of every store with a broker.
 * It has no `node` section (that is how a file is recognised as a hub config). Documented in
 * docs/config/hub.md.
 */
import { z } from 'zod';
import { LogSection } from './schema.ts';
import { InsecureMqttKey, MetricsSection, MqttSection, SyncSection, nodeIdSchema } from './sync-schema.ts';
import { CaSection, EnrolListenSection, HubRenewalSection, MosquittoSection } from './trust-schema.ts';
import { DashboardSection, TelemetryWindowSection } from './dashboard-schema.ts';

export const HubConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  /** The hub's node id; nodes name it in `hub.id` (default "hub"). */
  id: nodeIdSchema.default('hub'),
  dataDir: z.string().min(1),
  log: LogSection.prefault({}),
  /** Run the embedded broker (`listen`, the default) or use an external one (`url`). */
  mqtt: MqttSection.default({ listen: 'mqtts://127.0.0.1:8883' }),
  /** Allow plain `mqtt://` off loopback (docs/security.md, insecure dev mode). */
  insecureMqtt: InsecureMqttKey,
  sync: SyncSection.prefault({}),
  metrics: MetricsSection.optional(),
  /** The hub's certificate authority (made at the first start in `<dataDir>/ca/`). */
  ca: CaSection.prefault({}),
  /** The HTTPS endpoint boxes enrol at with a claim code; absent: none. */
  enrol: EnrolListenSection.optional(),
  /** The window of box telemetry the hub keeps for its fleet view (docs/config/dashboard.md). */
  telemetry: TelemetryWindowSection.prefault({}),
  /** The fleet dashboard for admins; absent: none (docs/dashboard.md). */
  dashboard: DashboardSection.optional(),
  /** Renewal of the hub's own certificate by its CA before it expires. */
  renewal: HubRenewalSection.prefault({}),
  /** With Mosquitto (`mqtt.url`): the files the hub keeps up to date and how it reloads it. */
  mosquitto: MosquittoSection.optional(),
  /** A/B updates: how many bundles no offer names the hub keeps in `<dataDir>/bundles/` (docs/updates.md). */
  updates: z.strictObject({ keepBundles: z.number().int().min(0).max(1000).default(3) }).prefault({}),
  /** The SIP domain and realm of the fleet's users (for `outpost user add` against the hub). */
  sip: z
    .strictObject({
      domain: z.string().min(1).regex(/^[A-Za-z0-9.-]+$/, 'must be a host name (letters, digits, dots, dashes)'),
      realm: z.string().min(1).max(128).optional(),
    })
    .optional(),
});

export type HubConfig = z.output<typeof HubConfigSchema>;
