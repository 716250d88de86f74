/**
 * What `outpost update status` shows on a box (docs/updates.md): the version and slot it runs,
 * the last health check's verdict (outpost-health.service writes `<dataDir>/update/health.json`)
 * and the update state (`<dataDir>/update/state.json`, written by the update shell as the core
 * reports). Reading only; missing files mean "nothing yet".
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const UPDATE_DIR = 'update';
export const HEALTH_FILE = 'health.json';
export const STATE_FILE = 'state.json';

export const HealthOutcomeSchema = z.object({
  slot: z.string(),
  version: z.string(),
  seconds: z.number(),
  at: z.string(),
  result: z.enum(['good', 'bad', 'unhealthy']),
  reason: z.string().optional(),
  fallBackTo: z.string().optional(),
});
export type HealthOutcome = z.infer<typeof HealthOutcomeSchema>;

export const UpdateStateSchema = z.object({
  phase: z.enum(['idle', 'offered', 'downloading', 'installing', 'installed', 'rebooting', 'committed', 'rolled-back', 'failed']),
  version: z.string().optional(),
  running: z.string(),
  slot: z.string(),
  targetSlot: z.string().optional(),
  error: z.string().optional(),
  since: z.number(),
});

function readJson<T>(file: string, schema: z.ZodType<T>): T | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/** The box's update report as lines; `release` is the text of /etc/outpost-release (if any). */
export function updateReport(dataDir: string, release: string | undefined): string[] {
  const dir = join(dataDir, UPDATE_DIR);
  const running = release === undefined ? undefined : /^VERSION=(.*)$/m.exec(release)?.[1];
  const health = readJson(join(dir, HEALTH_FILE), HealthOutcomeSchema);
  const state = readJson(join(dir, STATE_FILE), UpdateStateSchema);
  const lines = [`version  ${running ?? 'unknown (not an Outpost image: no /etc/outpost-release)'}`];
  if (health === undefined) lines.push('health   no health check yet');
  else {
    const verdict = health.result === 'good' ? 'good, slot committed' : `${health.result}: ${health.reason ?? ''}${health.fallBackTo ? `; fell back to slot ${health.fallBackTo}` : ''}`;
    lines.push(`health   slot ${health.slot} (${health.version}) ${verdict} after ${health.seconds} s, ${health.at}`);
  }
  if (state === undefined) lines.push('update   none yet');
  else {
    const target = state.version ? ` ${state.version}` : '';
    const into = state.targetSlot ? ` into slot ${state.targetSlot}` : '';
    lines.push(`update   ${state.phase}${target}${into} since ${new Date(state.since).toISOString()}${state.error ? ` (${state.error})` : ''}`);
  }
  return lines;
}
