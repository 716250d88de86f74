/**
 * A socket the node could not bind, told in terms of the config key that named its address:
 * `config error: sip.listen[0] udp:127.0.0.1:5070 in /etc/outpost.yaml: address in use`. The
 * code that binds throws a BindError with the address only; this is the one place that knows
 * which key each address came from.
 */
import { formatListenAddress } from '../config/listen-address.ts';
import type { HubConfig } from '../config/hub-schema.ts';
import type { Config } from '../config/schema.ts';
import { parseMetricsListen, parseMqttUrl } from '../config/sync-schema.ts';
import { parseHostPort } from '../config/trust-schema.ts';
import { BindError, findCause } from '../lib/errors.ts';
import { TransportError } from '../sip/transport/errors.ts';
import { ConfigUseError } from './cli-error.ts';

interface KeyedAddress {
  key: string;
  /** The value as the file gives it. */
  value: string;
  protocol: 'udp' | 'tcp';
  host: string;
  ports: readonly [number, number];
  sip: boolean;
}

/** Every address `outpost node` binds, with its key, in the order the node binds them. */
function keyedAddresses(config: Config): KeyedAddress[] {
  const out: KeyedAddress[] = config.sip.listen.map((a, i) => ({
    key: `sip.listen[${i}]`, value: formatListenAddress(a), protocol: a.protocol === 'udp' ? 'udp' : 'tcp', host: a.host, ports: [a.port, a.port], sip: true,
  }));
  // The box's HTTP server (status page, /healthz, /metrics); a busy default port is only a warning.
  const http = config.http.enabled ? config.http.listen : undefined;
  return [...out, ...brokerAndMetrics(config.mqtt && 'listen' in config.mqtt ? config.mqtt.listen : undefined, http, 'http.listen')];
}

/** The TCP listeners a box and the hub share: the embedded broker and the metrics endpoint. */
function brokerAndMetrics(mqttListen: string | undefined, metricsListen: string | undefined, metricsKey = 'metrics.listen'): KeyedAddress[] {
  const out: KeyedAddress[] = [];
  const mqtt = mqttListen !== undefined ? parseMqttUrl(mqttListen) : undefined;
  if (mqttListen !== undefined && mqtt !== undefined && typeof mqtt !== 'string') {
    out.push({ key: 'mqtt.listen', value: mqttListen, protocol: 'tcp', host: mqtt.host, ports: [mqtt.port, mqtt.port], sip: false });
  }
  if (metricsListen !== undefined) {
    const m = parseMetricsListen(metricsListen);
    out.push({ key: metricsKey, value: metricsListen, protocol: 'tcp', host: m.host, ports: [m.port, m.port], sip: false });
  }
  return out;
}

/** The ConfigUseError for the BindError in `err` (or its causes); undefined when there is none or no key names its address. */
export function bindFailureInConfigTerms(err: unknown, config: Config, file: string): ConfigUseError | undefined {
  const bind = findCause(err, BindError);
  if (bind === undefined) return undefined;
  const [lo, hi] = config.rtp.portRange;
  if (bind.protocol === 'udp' && bind.host === config.rtp.address && bind.ports[0] === lo && bind.ports[1] === hi) {
    const taken = bind.errno === 'EADDRINUSE' || bind.errno === 'EACCES';
    const defaulted = config.sip.listen[0]!.host === bind.host ? ' (rtp.address defaults to the host of sip.listen[0])' : '';
    return taken
      ? new ConfigUseError('rtp.portRange', `[${lo}, ${hi}] on ${bind.host}`, file, bind.reason, { cause: err })
      : new ConfigUseError('rtp.address', bind.host, file, `${bind.reason}${defaulted}`, { cause: err });
  }
  return keyedFailure(err, bind, keyedAddresses(config), file);
}

/** The same for `outpost hub`: its enrolment endpoint (`enrol.listen`), broker (`mqtt.listen`) and metrics endpoint. */
export function hubBindFailureInConfigTerms(err: unknown, config: HubConfig, file: string): ConfigUseError | undefined {
  const bind = findCause(err, BindError);
  if (bind === undefined) return undefined;
  const enrol: KeyedAddress[] = [];
  if (config.enrol) {
    const e = parseHostPort(config.enrol.listen);
    enrol.push({ key: 'enrol.listen', value: config.enrol.listen, protocol: 'tcp', host: e.host, ports: [e.port, e.port], sip: false });
  }
  if (config.dashboard) {
    const d = parseHostPort(config.dashboard.listen);
    enrol.push({ key: 'dashboard.listen', value: config.dashboard.listen, protocol: 'tcp', host: d.host, ports: [d.port, d.port], sip: false });
  }
  return keyedFailure(err, bind, [...enrol, ...brokerAndMetrics('listen' in config.mqtt ? config.mqtt.listen : undefined, config.metrics?.listen)], file);
}

/** The key among `keyed` whose address failed to bind. */
function keyedFailure(err: unknown, bind: BindError, keyed: KeyedAddress[], file: string): ConfigUseError | undefined {
  const all = keyed.filter(
    (a) => a.protocol === bind.protocol && a.host === bind.host && a.ports[0] === bind.ports[0] && a.ports[1] === bind.ports[1],
  );
  if (all.length === 0) return undefined;
  let matches = all;
  // Two keys with one address: the SIP transports say it was theirs; otherwise the later one
  // failed (the earlier one holds the port).
  const fromSip = findCause(err, TransportError) !== undefined;
  const layer = matches.filter((a) => a.sip === fromSip);
  if (layer.length > 0) matches = layer;
  const failed = matches[matches.length - 1]!;
  const others = all.filter((a) => a !== failed).map((a) => a.key);
  const same = others.length > 0 ? ` (${others.join(' and ')} name${others.length > 1 ? '' : 's'} the same address)` : '';
  return new ConfigUseError(failed.key, failed.value, file, `${bind.reason}${same}`, { cause: err });
}
