/**
 * Boxes that update without RAUC or a reboot, for the update integration tests
 * (update-offer.test.ts, admin-update.test.ts): fake `rauc` and reboot commands given to the
 * box processes through OUTPOST_UPDATE_RAUC and OUTPOST_UPDATE_REBOOT, which record every call
 * (an install also records the sha256 of the file it was handed, so a test sees the bytes were
 * there when rauc ran); the boot's version and slot through OUTPOST_RELEASE_FILE and
 * OUTPOST_BOOT_SLOT; and a "reboot" that is a restart of the box process into slot B with a new
 * version and the health check's good verdict.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyncCluster } from './sync-cluster.ts';

export class FakeUpdateCommands {
  readonly dir: string;
  private readonly saved: Record<string, string | undefined>;

  /** Writes the commands into a new temporary folder and points this process's environment (inherited by the boxes) at them: version 1.0 on slot A. */
  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    const log = join(this.dir, 'calls.log');
    const rauc = join(this.dir, 'fake-rauc');
    writeFileSync(rauc, `#!/bin/sh
echo "rauc $*" >> "${log}"
case "$1" in
  install) [ -f "$2" ] || exit 1; echo "installed $(sha256sum "$2" | cut -c1-64)" >> "${log}" ;;
  status) echo '{"booted":"A","slots":[{"rootfs.0":{"bootname":"A","boot_status":"good"}},{"rootfs.1":{"bootname":"B","boot_status":"good"}}]}' ;;
esac
`);
    const reboot = join(this.dir, 'fake-reboot');
    writeFileSync(reboot, `#!/bin/sh\necho "reboot" >> "${log}"\n`);
    chmodSync(rauc, 0o755);
    chmodSync(reboot, 0o755);
    writeFileSync(join(this.dir, 'release-1.0'), 'VERSION=1.0\n');
    const env = { OUTPOST_UPDATE_RAUC: rauc, OUTPOST_UPDATE_REBOOT: reboot, OUTPOST_RELEASE_FILE: join(this.dir, 'release-1.0'), OUTPOST_BOOT_SLOT: 'A' };
    this.saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
  }

  /** Every recorded call, in order: `rauc ARGS`, `installed SHA256` after an install, `reboot`. */
  calls(): string[] {
    const log = join(this.dir, 'calls.log');
    return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  }

  /** The box's process ends and starts again as if it had booted slot B with `version`, its health check passed. */
  async rebootInto(cluster: SyncCluster, node: string, version: string): Promise<void> {
    const box = cluster.node(node);
    await box.stop();
    writeFileSync(join(this.dir, `release-${version}`), `VERSION=${version}\n`);
    writeFileSync(join(box.dataDir, 'update', 'health.json'), JSON.stringify({ slot: 'B', version, seconds: 1, at: new Date().toISOString(), result: 'good' }));
    const before = { release: process.env['OUTPOST_RELEASE_FILE'], slot: process.env['OUTPOST_BOOT_SLOT'] };
    process.env['OUTPOST_RELEASE_FILE'] = join(this.dir, `release-${version}`);
    process.env['OUTPOST_BOOT_SLOT'] = 'B';
    try {
      await box.start();
    } finally {
      process.env['OUTPOST_RELEASE_FILE'] = before.release;
      process.env['OUTPOST_BOOT_SLOT'] = before.slot;
    }
  }

  /** Gives the environment back as it was. */
  restoreEnv(): void {
    for (const [k, v] of Object.entries(this.saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
