/**
 * The health check's judgement after a boot (docs/updates.md): pure, fed with what the shell
 * observed and when. A slot passes when the agent is up (systemd has its READY=1), SIP answers
 * OPTIONS on the local port, the store opens, and the hub or a site peer is reachable when one is
 * configured. It fails when the deadline passes first, or at once when the agent has been
 * restarted `maxRestarts` times (an agent that exits at once need not wait for the deadline).
 * Plain TypeScript (no enums, no parameter properties): Node runs it without tsx on the box.
 */

export type Uplink = 'reachable' | 'unreachable' | 'not-configured';

export interface HealthObservation {
  /** systemd says outpost.service is active (it sent READY=1). */
  readonly agentActive: boolean;
  /** systemd's NRestarts for outpost.service since boot. */
  readonly agentRestarts: number;
  /** A SIP OPTIONS to the local SIP port was answered (any final response). */
  readonly sipAnswers: boolean;
  /** The store's database opened read-only and answered a query. */
  readonly storeOpens: boolean;
  /** The hub or any site peer took a TCP connection; not-configured for a standalone box. */
  readonly uplink: Uplink;
}

export interface HealthPolicy {
  /** Milliseconds from the check's start to a verdict. */
  readonly deadlineMs: number;
  /** Restarts of the agent that fail the check before the deadline. */
  readonly maxRestarts: number;
}

export type HealthVerdict =
  | { readonly kind: 'wait'; readonly missing: readonly string[] }
  | { readonly kind: 'pass' }
  | { readonly kind: 'fail'; readonly reason: string };

export const DEFAULT_HEALTH_POLICY: HealthPolicy = { deadlineMs: 300_000, maxRestarts: 3 };

/** What is still missing for a pass, in a fixed order (empty: healthy). */
export function missingChecks(o: HealthObservation): string[] {
  const missing: string[] = [];
  if (!o.agentActive) missing.push('agent not ready');
  if (!o.sipAnswers) missing.push('SIP does not answer OPTIONS');
  if (!o.storeOpens) missing.push('store does not open');
  if (o.uplink === 'unreachable') missing.push('neither hub nor peers reachable');
  return missing;
}

export function judgeHealth(o: HealthObservation, startedAt: number, now: number, policy: HealthPolicy): HealthVerdict {
  const missing = missingChecks(o);
  if (missing.length === 0) return { kind: 'pass' };
  if (o.agentRestarts >= policy.maxRestarts) {
    return { kind: 'fail', reason: `the agent was restarted ${o.agentRestarts} times (${missing.join(', ')})` };
  }
  if (now - startedAt >= policy.deadlineMs) {
    return { kind: 'fail', reason: `not healthy within ${Math.round(policy.deadlineMs / 1000)} s: ${missing.join(', ')}` };
  }
  return { kind: 'wait', missing };
}

/** RAUC's view of the slots (`rauc status --output-format=json`), reduced to what we decide on. */
export interface SlotView {
  /** The booted slot's boot name (A or B). */
  readonly booted: string;
  /** The other slot's boot name, and whether the boot loader would boot it (boot status good). */
  readonly other: string;
  readonly otherGood: boolean;
}

export type SlotAction =
  | { readonly kind: 'mark-good' }
  /** Mark the booted slot bad and reboot: the boot loader falls back to `to`. */
  | { readonly kind: 'fall-back'; readonly to: string }
  /** Failed, but the other slot is not bootable either: stay, keep the agent restarting. */
  | { readonly kind: 'stay'; readonly reason: string };

export function slotAction(verdict: HealthVerdict, slots: SlotView): SlotAction | undefined {
  if (verdict.kind === 'wait') return undefined;
  if (verdict.kind === 'pass') return { kind: 'mark-good' };
  if (slots.otherGood) return { kind: 'fall-back', to: slots.other };
  return { kind: 'stay', reason: `slot ${slots.other} is not bootable, so slot ${slots.booted} stays` };
}

/** Reads the booted and the other slot from `rauc status --output-format=json` (RAUC 1.8). */
export function parseRaucStatus(json: string): SlotView {
  const status = JSON.parse(json) as { booted?: string; slots?: Array<Record<string, { bootname?: string; boot_status?: string }>> };
  const slots = (status.slots ?? []).flatMap((entry) => Object.values(entry)).filter((s) => typeof s.bootname === 'string');
  const booted = status.booted ?? '';
  const other = slots.find((s) => s.bootname !== booted);
  return { booted, other: other?.bootname ?? '', otherGood: other?.boot_status === 'good' };
}
