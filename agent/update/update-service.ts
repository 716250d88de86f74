/**
 * The box's update shell (docs/updates.md): feeds the core (update-core.ts) with offers, the
 * active call count and this boot's facts, runs the actions it returns through injected
 * commands (download, `rauc install`, reboot), writes every reported state to
 * `<dataDir>/update/state.json` (what `outpost update status` and the hub read) and hands it to
 * `report`. One action chain at a time; a timer ticks the core while an installed update waits
 * for a quiet moment.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Credentials } from '../trust/credentials.ts';
import { downloadBundle } from './bundle-download.ts';
import { UpdateError } from './errors.ts';
import { raucFailureReason } from './rauc-error.ts';
import { parseRaucStatus } from './health-core.ts';
import { UpdateCore, type BootFacts, type UpdateAction, type UpdateOffer, type UpdateState } from './update-core.ts';
import { HEALTH_FILE, HealthOutcomeSchema, STATE_FILE, UPDATE_DIR } from './update-report.ts';

export interface UpdateCommands {
  /** Downloads the bundle; resolves with the file and the sha256 of what was written. */
  download(url: string, sha256: string): Promise<{ file: string; sha256: string }>;
  /** Installs into the other slot; resolves with that slot's boot name. */
  install(file: string): Promise<string>;
  reboot(): Promise<void>;
}

export interface UpdateServiceOptions {
  dataDir: string;
  clock: Clock;
  logger: Logger;
  commands: UpdateCommands;
  /** This boot: the booted slot and the version of its root. */
  boot: { slot: string; version: string };
  /** Every reported state, for the hub. */
  report?: (state: UpdateState) => void;
  tickMs?: number;
}

export class UpdateService {
  private readonly core: UpdateCore;
  private readonly o: UpdateServiceOptions;
  private chain: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private rebootAsked = false;

  constructor(o: UpdateServiceOptions) {
    this.o = o;
    const file = join(o.dataDir, UPDATE_DIR, STATE_FILE);
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as UpdateState) : undefined;
    this.core = new UpdateCore(saved, o.boot, o.clock.now());
    if (saved !== undefined && saved.phase !== this.core.state.phase) this.persist(this.core.state);
  }

  get state(): UpdateState {
    return this.core.state;
  }

  /** This process asked for the reboot: it is not the boot that follows it, so has no verdict to give. */
  get awaitingReboot(): boolean {
    return this.rebootAsked && this.core.state.phase === 'rebooting';
  }

  offer(offer: UpdateOffer): Promise<void> {
    return this.run(() => this.core.offer(offer, this.o.clock.now()));
  }

  calls(active: number): Promise<void> {
    return this.run(() => this.core.calls(active, this.o.clock.now()));
  }

  /** After a boot, with the health check's outcome for it (health.json), if any yet. */
  booted(facts: BootFacts): Promise<void> {
    return this.run(() => this.core.booted(facts, this.o.clock.now()));
  }

  /** This boot's facts from health.json: pending until the health check has written it for this slot. */
  bootFacts(): BootFacts {
    const file = join(this.o.dataDir, UPDATE_DIR, HEALTH_FILE);
    const parsed = existsSync(file) ? HealthOutcomeSchema.safeParse(JSON.parse(readFileSync(file, 'utf8'))) : undefined;
    const own = parsed?.success && parsed.data.slot === this.o.boot.slot && parsed.data.version === this.o.boot.version ? parsed.data : undefined;
    return { ...this.o.boot, health: own === undefined ? 'pending' : own.result === 'good' ? 'good' : 'unhealthy' };
  }

  /**
   * At start, before any offer: deletes bundle files a crash left in `<dataDir>/update/` (a
   * partial download, or a bundle whose install was cut short: the core starts over anyway).
   * Returns the names deleted.
   */
  sweep(): string[] {
    const dir = join(this.o.dataDir, UPDATE_DIR);
    if (!existsSync(dir)) return [];
    const left = readdirSync(dir).filter((f) => f.endsWith('.raucb') || f.endsWith('.part'));
    for (const f of left) rmSync(join(dir, f), { force: true });
    if (left.length > 0) this.o.logger.info({ files: left }, 'update leftovers deleted');
    return left;
  }

  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Serialises action chains: an action's follow-up events run before the next event. */
  private run(step: () => UpdateAction[]): Promise<void> {
    this.chain = this.chain.then(() => this.perform(step())).catch((err: unknown) => {
      this.o.logger.error({ err }, 'update step failed');
    });
    return this.chain;
  }

  private async perform(actions: UpdateAction[]): Promise<void> {
    for (const action of actions) {
      switch (action.kind) {
        case 'report':
          this.persist(action.state);
          this.o.logger.info({ phase: action.state.phase, version: action.state.version, slot: action.state.slot, error: action.state.error }, 'update state');
          this.o.report?.(action.state);
          this.schedule();
          break;
        case 'download': {
          const next = await this.o.commands.download(action.url, action.sha256).then(
            (d) => this.core.downloaded(d.file, d.sha256, this.o.clock.now()),
            (err: unknown) => this.core.downloadFailed((err as Error).message, this.o.clock.now()),
          );
          await this.perform(next);
          break;
        }
        case 'install': {
          const next = await this.o.commands.install(action.file).then(
            (slot) => this.core.installed(slot, this.o.clock.now()),
            (err: unknown) => this.core.installFailed((err as Error).message, this.o.clock.now()),
          );
          await this.perform(next);
          break;
        }
        case 'reboot':
          this.rebootAsked = true;
          await this.o.commands.reboot();
          break;
        case 'discard':
          rmSync(action.file, { force: true });
          this.o.logger.info({ file: action.file }, 'update bundle deleted');
          break;
      }
    }
  }

  /** While an installed update waits for a quiet moment, tick the core. */
  private schedule(): void {
    if (this.core.state.phase !== 'installed') return this.stop();
    if (this.timer !== undefined) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.run(() => this.core.tick(this.o.clock.now())).then(() => this.schedule());
    }, this.o.tickMs ?? 5000);
  }

  private persist(state: UpdateState): void {
    const dir = join(this.o.dataDir, UPDATE_DIR);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, STATE_FILE);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}

const run = promisify(execFile);

/**
 * The commands on a box: mutual-TLS download into `<dataDir>/update/`, `rauc install`,
 * `systemctl reboot`. `OUTPOST_UPDATE_RAUC` and `OUTPOST_UPDATE_REBOOT` (a command line) replace
 * the last two (tests, dev machines). Without rauc the install fails with `rauc not installed`.
 */
export function boxUpdateCommands(dataDir: string, tls: () => Credentials | undefined, env: NodeJS.ProcessEnv = process.env): UpdateCommands {
  const dir = join(dataDir, UPDATE_DIR);
  const rauc = env['OUTPOST_UPDATE_RAUC'] || 'rauc';
  const [rebootCmd, ...rebootArgs] = (env['OUTPOST_UPDATE_REBOOT'] || 'systemctl reboot').split(/\s+/);
  const raucRun = async (args: string[]) => {
    try {
      return await run(rauc, args, { maxBuffer: 4 << 20 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UpdateError('update.install', 'rauc not installed', { cause: err });
      const out = err as { stdout?: string; stderr?: string };
      const reason = raucFailureReason(String(out.stdout ?? ''), String(out.stderr ?? ''));
      throw new UpdateError('update.install', `rauc ${args[0]}: ${reason ?? (err as Error).message}`, { cause: err });
    }
  };
  return {
    async download(url) {
      const creds = tls(); // the current certificate (a renewal replaces it while the box runs)
      if (creds === undefined) throw new UpdateError('update.download', 'the box has no node certificate to fetch bundles with');
      mkdirSync(dir, { recursive: true });
      const d = await downloadBundle(url, join(dir, 'bundle.raucb'), creds, 600_000);
      return { file: d.file, sha256: d.sha256 };
    },
    async install(file) {
      await raucRun(['install', file]);
      return parseRaucStatus((await raucRun(['status', '--output-format=json'])).stdout).other;
    },
    async reboot() {
      await run(rebootCmd!, rebootArgs);
    },
  };
}
