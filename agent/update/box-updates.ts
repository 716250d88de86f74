/**
 * A box's update delivery (docs/updates.md), wired by agent/main.ts with one call: reads this
 * boot's facts (version from /etc/outpost-release, slot from `rauc.slot=` on the kernel command
 * line), builds the UpdateService (update-service.ts) with the box's commands, and every few
 * seconds and after each merge: feeds it the active call count and, when the store holds an
 * offer for the box (its own, its site's or the fleet's) AND the hub's permit for the box names
 * that version, the offer. Every state the core reports becomes the box's `update_states` row,
 * which replicates to the hub. A box cut off from the hub gets no new permit, so starts nothing.
 *
 * Dev and test hooks (environment): OUTPOST_RELEASE_FILE (default /etc/outpost-release),
 * OUTPOST_BOOT_SLOT (default: `rauc.slot=` in /proc/cmdline), OUTPOST_UPDATE_RAUC (the rauc
 * command), OUTPOST_UPDATE_REBOOT (the reboot command, default `systemctl reboot`).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { Credentials } from '../trust/credentials.ts';
import { BUNDLE_PATH } from './bundle-route.ts';
import type { UpdateState } from './update-core.ts';
import { boxUpdateCommands, UpdateService, type UpdateCommands } from './update-service.ts';

export interface BootIdentity {
  slot: string;
  version: string;
}

/** This boot's slot and version; `unknown` on a dev machine without either. */
export function readBootIdentity(env: NodeJS.ProcessEnv = process.env): BootIdentity {
  const releaseFile = env['OUTPOST_RELEASE_FILE'] ?? '/etc/outpost-release';
  const release = existsSync(releaseFile) ? readFileSync(releaseFile, 'utf8') : '';
  const version = /^VERSION=(.*)$/m.exec(release)?.[1]?.trim() || 'unknown';
  let slot = env['OUTPOST_BOOT_SLOT'];
  if (slot === undefined) {
    const cmdline = existsSync('/proc/cmdline') ? readFileSync('/proc/cmdline', 'utf8') : '';
    slot = /(?:^|\s)rauc\.slot=(\S+)/.exec(cmdline)?.[1] ?? 'none';
  }
  return { slot, version };
}

/** The row a reported state becomes. */
export function stateRow(nodeId: string, s: UpdateState): Parameters<Store['updates']['setState']>[0] {
  return { nodeId, phase: s.phase, version: s.version ?? '', running: s.running, slot: s.slot, targetSlot: s.targetSlot ?? '', error: s.error ?? '', at: s.since };
}

export interface BoxUpdatesOptions {
  nodeId: string;
  site: string;
  dataDir: string;
  store: Store;
  /** The hub's HTTPS base (renewal/enrol URL); absent: no delivery (a box without a hub). */
  hubUrl: string | undefined;
  /** The box's current node credentials (none: no download). */
  tls: () => Credentials | undefined;
  activeCalls: () => number;
  clock: Clock;
  logger: Logger;
  commands?: UpdateCommands;
  boot?: BootIdentity;
  pollMs?: number;
}

export class BoxUpdates {
  readonly service: UpdateService;
  private timer: TimerHandle | undefined;
  private lastOffered = '';

  constructor(private readonly o: BoxUpdatesOptions) {
    const boot = o.boot ?? readBootIdentity();
    const commands = o.commands ?? boxUpdateCommands(o.dataDir, o.tls, process.env);
    this.service = new UpdateService({ dataDir: o.dataDir, clock: o.clock, logger: o.logger, commands, boot, report: (s) => this.record(s) });
  }

  /** Deletes bundle files a crash left, settles the last update with this boot's facts and starts watching for offers. */
  async start(): Promise<void> {
    this.service.sweep();
    await this.service.booted(this.service.bootFacts());
    this.record(this.service.state);
    const tick = () => {
      void this.poll().finally(() => {
        if (this.timer !== undefined) this.timer = this.o.clock.setTimeout(tick, this.o.pollMs ?? 3000);
      });
    };
    this.timer = this.o.clock.setTimeout(tick, 0);
  }

  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.service.stop();
  }

  /** One look at the store and the calls (also after a merge). */
  async poll(): Promise<void> {
    await this.service.calls(this.o.activeCalls());
    const st = this.service.state;
    // Still waiting for the health check's verdict after the reboot; the process that asked for
    // the reboot waits to be stopped by it (judged now, it would find the old slot: rolled back).
    if (st.phase === 'rebooting') return this.service.awaitingReboot ? undefined : this.service.booted(this.service.bootFacts());
    if (this.o.hubUrl === undefined) return;
    const offer = this.o.store.updates.offerFor(this.o.nodeId, this.o.site);
    if (!offer || this.o.store.updates.permit(this.o.nodeId)?.version !== offer.version) return;
    const key = `${offer.version}/${offer.sha256}/${st.phase}`;
    if (key === this.lastOffered) return;
    this.lastOffered = key;
    await this.service.offer({ version: offer.version, url: `${this.o.hubUrl.replace(/\/+$/, '')}${BUNDLE_PATH}${encodeURIComponent(offer.bundle)}`, sha256: offer.sha256 });
  }

  private record(s: UpdateState): void {
    try {
      this.o.store.updates.setState(stateRow(this.o.nodeId, s));
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message }, 'cannot record the update state');
    }
  }
}
