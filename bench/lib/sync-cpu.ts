/**
 * CPU accounting of bench/sync.ts's children by role (hub, n1, n2, writer, mosquitto), from
 * /proc: CPU seconds used and seconds spent runnable but waiting for a core.
 */
import { processCpuSeconds } from './procs.ts';
import { round } from './sync-config.ts';
import { runqueueWaitSeconds } from './sync-procs.ts';

/**
 * CPU seconds (and seconds spent waiting for a core) of the bench's children by role; keeps the
 * last reading of a process that left, so a role's totals survive a restart.
 */
export class CpuBook {
  private readonly pids = new Map<string, number>();
  private readonly last = new Map<string, [number, number]>();
  private readonly retired = new Map<string, [number, number]>();

  track(role: string, pid: number): void {
    const prev = this.pids.get(role);
    if (prev !== undefined && prev !== pid) {
      const [c, w] = this.read1(role, prev);
      const [rc, rw] = this.retired.get(role) ?? [0, 0];
      this.retired.set(role, [rc + c, rw + w]);
    }
    this.pids.set(role, pid);
  }

  private read1(role: string, pid: number): [number, number] {
    const key = `${role}:${pid}`;
    const [lc, lw] = this.last.get(key) ?? [0, 0];
    const v: [number, number] = [Math.max(processCpuSeconds(pid), lc), Math.max(runqueueWaitSeconds(pid), lw)];
    this.last.set(key, v);
    return v;
  }

  /** Cumulative [CPU seconds, runqueue-wait seconds] per role (every process that held the role). */
  snapshot(): Record<string, [number, number]> {
    const out: Record<string, [number, number]> = {};
    for (const [role, pid] of this.pids) {
      const [c, w] = this.read1(role, pid);
      const [rc, rw] = this.retired.get(role) ?? [0, 0];
      out[role] = [rc + c, rw + w];
    }
    return out;
  }

  total(): number {
    return Object.values(this.snapshot()).reduce((a, [c]) => a + c, 0);
  }
}

/**
 * Average cores per role between two snapshots: `cpu` used, and `wait`: cores' worth of time its
 * threads were runnable but not running (starved by other processes on this 2-core machine).
 */
export function coresBetween(
  a: Record<string, [number, number]>,
  b: Record<string, [number, number]>,
  wallMs: number,
): { cpu: Record<string, number>; wait: Record<string, number>; cpuMs: Record<string, number> } {
  const cpu: Record<string, number> = {};
  const wait: Record<string, number> = {};
  const cpuMs: Record<string, number> = {};
  for (const k of Object.keys(b)) {
    const used = b[k]![0] - (a[k]?.[0] ?? 0);
    cpu[k] = round(used / (wallMs / 1000), 2);
    wait[k] = round((b[k]![1] - (a[k]?.[1] ?? 0)) / (wallMs / 1000), 2);
    cpuMs[k] = Math.round(used * 1000);
  }
  return { cpu, wait, cpuMs };
}
