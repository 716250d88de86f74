/**
 * The `trace` section (docs/config/trace.md): HEP v3 export of SIP and RTCP reports to a Homer
 * collector. Absent `trace.hep`: nothing is exported. `outpost trace` needs no config.
 */
import { z } from 'zod';

export const HepSection = z.strictObject({
  /** `host:port` of the collector (UDP), e.g. heplify-server's HEP input on 9060. */
  address: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port", e.g. "192.0.2.5:9060"')
    .transform((v, ctx): { host: string; port: number } => {
      const colon = v.lastIndexOf(':');
      const port = Number(v.slice(colon + 1));
      if (port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: 'port is out of range 1-65535' });
        return z.NEVER;
      }
      return { host: v.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
    }),
  /** Capture agent id (HEP chunk 12): how Homer names this box. */
  captureId: z.number().int().min(0).max(4_294_967_295).default(2001),
  /** Auth key (HEP chunk 14), when the collector checks one. */
  password: z.string().min(1).max(256).optional(),
  /** Also export the RTCP reports the media relay sees (HEP type 5, JSON, Call-ID as correlation id). */
  rtcp: z.boolean().default(true),
});

export const TraceSection = z.strictObject({
  hep: HepSection.optional(),
});

export type HepConfig = z.output<typeof HepSection>;
export type TraceConfig = z.output<typeof TraceSection>;
