/**
 * Applies the live keys of a new effective config to the parts that hold them
 * (docs/config-push.md): each part has a small `reconfigure(section)`; this maps the changed
 * keys (agent/config/key-apply.ts marks them live) to the sections to hand over.
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import type { DigestAuthenticator } from '../sip/auth/digest-authenticator.ts';
import type { CallController } from '../switch/calls/call-controller.ts';
import type { FloodGuard } from '../switch/flood-guard.ts';
import type { Registrar } from '../switch/registrar.ts';
import type { Replicator } from '../sync/replicator.ts';

/** The parts of a node whose config changes live. */
export interface LiveParts {
  /** The node's logger: its level is `log.level` (children follow it). */
  logger: Logger;
  registrar: Registrar;
  flood: FloodGuard;
  authenticator: DigestAuthenticator;
  calls: CallController;
  /** Built when the node starts (and only on a box that replicates). */
  replicator: () => Replicator | undefined;
}

export type LiveApply = (config: Config, keys: readonly string[]) => void;

export function liveReconfigurer(parts: LiveParts): LiveApply {
  const sections: Array<[string, (c: Config) => void]> = [
    ['log.', (c) => (parts.logger.level = c.log.level)],
    ['sip.registrar.', (c) => parts.registrar.reconfigure(c.sip.registrar)],
    ['sip.flood.', (c) => parts.flood.reconfigure(c.sip.flood)],
    ['sip.auth.', (c) => parts.authenticator.reconfigure(c.sip.auth)],
    ['calls.', (c) => parts.calls.reconfigure(c.calls)],
    ['rtp.codecs', (c) => parts.calls.reconfigureCodecs(c.rtp.codecs)],
    ['sync.', (c) => parts.replicator()?.reconfigure(c.sync)],
  ];
  return (config, keys) => {
    for (const [prefix, apply] of sections) if (keys.some((k) => k.startsWith(prefix))) apply(config);
  };
}
