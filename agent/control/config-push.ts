/**
 * A box's side of config push (docs/config-push.md). The effective config is the box's own
 * file overlaid by the fleet, site and node desired documents that replicated to it. At
 * construction (before the parts are built) it works out the config to boot with; afterwards,
 * on `refresh()` (replication merged, or another process wrote the store) and on `reread()`
 * (SIGHUP: the file changed), it validates the whole effective config again: when it is invalid
 * the box keeps its last good config and reports and logs the problems; when valid it applies
 * the live keys now and reports the restart-only ones as waiting. Every outcome is written to
 * the box's `config_reports` row, which replicates to the hub. It never throws.
 */
import { ConfigError } from '../config/errors.ts';
import { scopesOfBox } from '../config/config-overlay.ts';
import { planConfig, versionsOf, type Plan, type ScopeVersions, type StoredDocument } from '../config/config-plan.ts';
import { applyOf, changedKeys } from '../config/key-apply.ts';
import { readRawConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { LiveApply } from './live-reconfigurer.ts';

export interface ConfigPushOptions {
  /** The config as loaded from the file. */
  config: Config;
  /** The config file; absent (a demo node built in-process): no push, the config stays as given. */
  file?: string;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Reads the file as an object of sections (default: agent/config/load-config.ts). */
  readLocal?: (file: string) => Record<string, unknown>;
}

/** What the box last reported (also its `config_reports` row). */
export interface ConfigPushState {
  applied: ScopeVersions;
  desired: ScopeVersions;
  pendingRestart: string[];
  problems: string[];
}

export class ConfigPush {
  /** The config to build the parts with. */
  readonly boot: Config;
  private running: Config;
  private local: Record<string, unknown> | undefined;
  private seen = '';
  private apply: LiveApply | undefined;
  private current: ConfigPushState = { applied: {}, desired: {}, pendingRestart: [], problems: [] };

  constructor(private readonly o: ConfigPushOptions) {
    this.boot = o.config;
    this.running = o.config;
    if (o.file === undefined) return;
    const local = this.read();
    if (local instanceof ConfigError) {
      this.settle('boot', { kind: 'refused', desired: {}, problems: local.describe().split('\n') });
      return;
    }
    this.local = local;
    const documents = this.documents();
    const plan = this.plan(local, documents, o.config);
    if (plan.kind === 'accepted') this.boot = plan.config;
    this.settle('boot', plan.kind === 'accepted' ? { ...plan, live: [], pendingRestart: [] } : plan);
    // The parts are built from `boot` and update its sections in place when reconfigured.
    this.running = structuredClone(this.boot);
  }

  get state(): ConfigPushState {
    return this.current;
  }

  /** The config the box runs now (live keys of accepted changes included). */
  get config(): Config {
    return this.running;
  }

  /** Wires the parts that change live (live-reconfigurer.ts, once they are built); applies the boot config's live keys. */
  attach(apply: LiveApply): void {
    this.apply = apply;
    // The parts were built with the boot config; the logger was made before, from the file.
    const live = changedKeys(this.o.config, this.boot).filter((k) => applyOf(k) === 'live');
    if (live.length > 0) this.safely(() => apply(this.boot, live));
  }

  /** The desired documents may have changed (replication merged): re-plan when their versions did. */
  refresh(): void {
    if (this.local === undefined) return;
    this.safely(() => {
      const before = this.seen;
      const documents = this.documents();
      if (this.seen === before) return;
      this.settle('replicated', this.plan(this.local!, documents, this.boot));
    });
  }

  /** SIGHUP: read the file again and re-plan. */
  reread(): void {
    if (this.o.file === undefined) {
      this.o.logger.warn({ mod: 'config' }, 'config reload asked, but this node has no config file to read');
      return;
    }
    this.safely(() => {
      const local = this.read();
      const documents = this.documents();
      if (local instanceof ConfigError) {
        this.settle('file', { kind: 'refused', desired: versionsOf(documents), problems: local.describe().split('\n') });
        return;
      }
      this.local = local;
      this.settle('file', this.plan(local, documents, this.boot));
    });
  }

  private read(): Record<string, unknown> | ConfigError {
    try {
      return (this.o.readLocal ?? readRawConfig)(this.o.file!);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      return new ConfigError(this.o.file!, [{ key: '', reason: (err as Error).message }]);
    }
  }

  private documents(): StoredDocument[] {
    const { id, site } = this.boot.node;
    const out: StoredDocument[] = [];
    for (const s of scopesOfBox(id, site)) {
      const row = this.o.store.desiredConfigs.get(s.key);
      if (row) out.push({ kind: s.kind, version: row.version, document: row.document });
    }
    this.seen = fingerprint(out);
    return out;
  }

  private plan(local: Record<string, unknown>, documents: StoredDocument[], boot: Config): Plan {
    return planConfig({ file: this.o.file!, local, documents, running: this.running, boot });
  }

  /** Applies an accepted plan's live keys (or keeps the running config), then reports and logs. */
  private settle(reason: 'boot' | 'replicated' | 'file', plan: Plan): void {
    const log = this.o.logger;
    if (plan.kind === 'refused') {
      this.current = { ...this.current, desired: plan.desired, problems: plan.problems };
      log.warn({ mod: 'config', reason, desired: plan.desired, problems: plan.problems }, 'config change refused: keeping the last good config');
    } else {
      if (reason !== 'boot') this.apply?.(plan.config, plan.live);
      this.running = plan.config;
      this.current = { applied: plan.desired, desired: plan.desired, pendingRestart: plan.pendingRestart, problems: [] };
      if (reason !== 'boot' || Object.keys(plan.desired).length > 0) {
        log.info({ mod: 'config', reason, applied: plan.desired, live: plan.live, pendingRestart: plan.pendingRestart }, 'config applied');
      }
    }
    this.report();
  }

  private report(): void {
    // A box that never had a document or a problem has nothing to report (no row to replicate).
    if (this.current.problems.length === 0 && Object.keys(this.current.desired).length === 0 && !this.o.store.configReports.get(this.boot.node.id)) return;
    this.safely(() => this.o.store.configReports.put({ nodeId: this.boot.node.id, ...this.current, reportedAt: this.o.clock.now() }));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.error({ mod: 'config', err: (err as Error).message }, 'config push failed; keeping the running config');
    }
  }
}

function fingerprint(documents: readonly StoredDocument[]): string {
  return documents.map((d) => `${d.kind}:${d.version}:${d.document.length}`).join(' ');
}
