/**
 * Registrations written straight into a node's store, for UAs that never register themselves
 * (a sipp UAS, a test callee): shared by the call tests and the benches.
 */
import { Store } from '../../agent/store/store.ts';

/**
 * A binding for `aor` pointing at a UA that does not register (a sipp UAS, a node-side callee),
 * owned by node a1 (writeNodeConfig's node id), valid for an hour. Replaces the aor's other
 * bindings so that a call never forks to a stale contact.
 */
export function injectBinding(dataDir: string, aor: string, port: number, host = '127.0.0.1'): void {
  const store = Store.open({ dataDir });
  try {
    store.registrations.removeAll(aor, 'a1');
    const now = Date.now();
    store.registrations.upsert({
      aor, contact: `sip:${aor}@${host}:${port}`, nodeId: 'a1', expiresAt: now + 3_600_000, q: null, callId: `inject-${aor}-${now}`, cseq: 1,
      path: '', userAgent: 'injected by test', received: `udp:${host}:${port}`, instanceId: '', regId: 0, updatedAt: now,
    });
  } finally {
    store.close();
  }
}
