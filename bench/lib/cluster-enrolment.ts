/**
 * Real enrolment for a cluster (cluster.ts) over mutual TLS (docs/security.md): the hub runs
 * its enrolment endpoint on 127.0.0.1 port 0 (read back from its node.json); each box gets a
 * claim code from `outpost enrol create --node ID --write FILE` and enrols by itself at its first
 * start (`enrol.hub`, `enrol.claim` in its config). A box that already holds its certificate
 * keeps it across restarts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from './harness-error.ts';
import { runCli } from './node-process.ts';
import type { OutpostProcess } from './outpost-process.ts';

/** YAML for the hub's config: the enrolment endpoint on an OS-chosen port of `host`. */
export const hubEnrolYaml = (host: string) => `enrol: { listen: "${host.includes(":") ? `[${host}]` : host}:0" }\n`;

/** `mqtt://` in a box's own YAML made `mqtts://` (a secure cluster runs no plain broker). */
export function secureUrls(yaml: string): string {
  return yaml.replace(/"mqtt:\/\//g, '"mqtts://');
}

/** Claim codes for boxes that have no certificate yet, by node id (one CLI run each, in parallel). */
export async function mintClaims(dir: string, hub: OutpostProcess, site: string, boxes: readonly OutpostProcess[]): Promise<Map<string, { hub: string; claim: string }>> {
  const out = new Map<string, { hub: string; claim: string }>();
  const todo = boxes.filter((b) => !existsSync(join(b.dataDir, 'node.crt')));
  await Promise.all(
    todo.map(async (b) => {
      const file = join(dir, `${b.name}.claim.${randomUUID().slice(0, 8)}.json`);
      const res = await runCli(['enrol', 'create', '--site', site, '--node', b.name, '--no-qr', '--write', file, '--config', hub.configFile], dir);
      if (res.code !== 0) throw new HarnessError(`enrol create --node ${b.name} failed (${res.code}): ${res.stderr}`);
      const claim = JSON.parse(readFileSync(file, 'utf8')) as { hub?: string; claim: string };
      if (!claim.hub) throw new HarnessError(`enrol create wrote no hub address: is ${hub.name} running with enrol.listen?`);
      out.set(b.name, { hub: claim.hub, claim: claim.claim });
    }),
  );
  return out;
}

/** YAML for a box's config: its claim, when it has one to use. */
export function enrolYaml(claim: { hub: string; claim: string } | undefined): string {
  return claim ? `enrol: { hub: "${claim.hub}", claim: "${claim.claim}" }\n` : '';
}
