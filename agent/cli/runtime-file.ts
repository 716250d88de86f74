/**
 * `<dataDir>/node.json`: written by a running node with its pid and bound addresses, so CLI
 * commands (status) can tell whether the node runs and where it listens. Removed on clean stop.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RuntimeInfo {
  pid: number;
  nodeId: string;
  site: string;
  startedAt: string;
  /** Bound listen addresses, `proto:host:port`, with OS-chosen ports filled in. */
  listen: string[];
  /** The MQTT broker this process runs (hub: what nodes join; node: for its site peers). */
  mqtt?: string;
  /** The hub's enrolment endpoint, `https://host:port` (`enrol.listen`). */
  enrol?: string;
  /** The hub's fleet dashboard, `http(s)://host:port/` (`dashboard.listen`). */
  dashboard?: string;
  /** Port of the Prometheus endpoint, when `metrics.listen` is set. */
  metricsPort?: number;
}

const fileOf = (dataDir: string) => join(dataDir, 'node.json');

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  const tmp = `${fileOf(dataDir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, fileOf(dataDir));
}

export function removeRuntimeInfo(dataDir: string): void {
  rmSync(fileOf(dataDir), { force: true });
}

/** The running node's info, or undefined when no node runs for this data directory. */
export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  return info;
}
