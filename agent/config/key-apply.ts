/**
 * Which config keys take effect live and which wait for a restart (docs/config-push.md): one
 * registry for every key of a box's file (agent/config/schema.ts), checked by key-apply.test.ts
 * (every key has a marking) and by the docs (docs/config/*.md mark the live keys). A key added
 * to the schema must be added here; a key this registry does not know counts as restart-only.
 *
 * Keys are written as in docs/config/: dotted, an item of a list of objects as `[]`.
 */

export type KeyApply = 'live' | 'restart';

export const KEY_APPLY: Readonly<Record<string, KeyApply>> = {
  version: 'restart',
  // Identity, storage and addresses: read once, when the parts are built.
  'node.id': 'restart',
  'node.site': 'restart',
  dataDir: 'restart',
  'log.level': 'live',
  'sip.domain': 'restart',
  'sip.realm': 'restart',
  'sip.listen': 'restart',
  'sip.userAgent': 'restart',
  'sip.registrar.minExpires': 'live',
  'sip.registrar.maxExpires': 'live',
  'sip.registrar.defaultExpires': 'live',
  'sip.registrar.maxContactsPerAor': 'live',
  'sip.registrar.shedLag': 'live',
  'sip.registrar.shedPending': 'live',
  'sip.registrar.retryAfter': 'live',
  'sip.auth.algorithms': 'live',
  'sip.auth.nonceLifetime': 'live',
  'sip.flood.rateLimit.perSecond': 'live',
  'sip.flood.rateLimit.burst': 'live',
  'sip.flood.ban.failures': 'live',
  'sip.flood.ban.window': 'live',
  'sip.flood.ban.duration': 'live',
  'sip.flood.trusted': 'live',
  'sip.timers.t1': 'restart',
  'sip.timers.t2': 'restart',
  'sip.timers.t4': 'restart',
  'sip.tls.cert': 'restart',
  'sip.tls.key': 'restart',
  'sip.tls.peersOnly': 'restart',
  'rtp.address': 'restart',
  'rtp.portRange': 'restart',
  'rtp.timeout': 'restart',
  'rtp.codecs': 'live',
  'calls.maxPerUser': 'live',
  'calls.maxTotal': 'live',
  'calls.ringTimeout': 'live',
  'calls.sessionExpires': 'live',
  'calls.minSE': 'live',
  'hub.url': 'restart',
  'hub.id': 'restart',
  'peers[].id': 'restart',
  'peers[].url': 'restart',
  'mqtt.listen': 'restart',
  'mqtt.announce': 'restart',
  insecureMqtt: 'restart',
  'sync.batchSize': 'restart',
  'sync.maxInFlight': 'live',
  'sync.pushDelay': 'live',
  'sync.requestTimeout': 'live',
  'sync.antiEntropy': 'live',
  'sync.siteAdminKey': 'restart',
  'sync.takeoverGrace': 'restart',
  'metrics.listen': 'restart',
  'http.enabled': 'restart',
  'http.listen': 'restart',
  'telemetry.interval': 'restart',
  'trace.hep.address': 'restart',
  'trace.hep.captureId': 'restart',
  'trace.hep.password': 'restart',
  'trace.hep.rtcp': 'restart',
  'enrol.hub': 'restart',
  'enrol.claim': 'restart',
  'renewal.window': 'restart',
  'renewal.retryMin': 'restart',
  'renewal.retryMax': 'restart',
  'renewal.hub': 'restart',
};

/** How a key (a path such as `peers[2].url` or `sip.flood.ban.window`) takes effect. */
export function applyOf(key: string): KeyApply {
  return KEY_APPLY[key.replace(/\[\d+\]/g, '[]')] ?? 'restart';
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isListOfObjects = (v: unknown): v is unknown[] => Array.isArray(v) && v.some(isObject);

/**
 * The leaf keys whose values differ between two configs (parsed or raw), sorted. A list of
 * objects (`peers`) is compared item by item; any other list or tuple is one value. A section
 * present on one side only contributes every leaf it has.
 */
export function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, at: string) => {
    // A key the registry names is one value, whatever its shape (`sip.listen` parses to objects).
    if (at !== '' && KEY_APPLY[at.replace(/\[\d+\]/g, '[]')] !== undefined) {
      if (JSON.stringify(x) !== JSON.stringify(y)) out.push(at);
      return;
    }
    if (isObject(x) || isObject(y)) {
      const xs = isObject(x) ? x : {};
      const ys = isObject(y) ? y : {};
      for (const k of new Set([...Object.keys(xs), ...Object.keys(ys)])) walk(xs[k], ys[k], at ? `${at}.${k}` : k);
      return;
    }
    if (isListOfObjects(x) || isListOfObjects(y)) {
      const xs = Array.isArray(x) ? x : [];
      const ys = Array.isArray(y) ? y : [];
      for (let i = 0; i < Math.max(xs.length, ys.length); i++) walk(xs[i], ys[i], `${at}[${i}]`);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(at);
  };
  walk(a, b, prefix);
  return out.sort();
}
