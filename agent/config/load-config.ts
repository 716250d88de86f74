/**
 * Reads and validates the one YAML config file. Relative paths (dataDir) are resolved against
 * the config file's folder, so a config works from any working directory.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { closestWord } from '../lib/closest-word.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { HubConfigSchema, type HubConfig } from './hub-schema.ts';
import { insecureRemoteUrls } from './sync-schema.ts';

export function loadConfig(file: string): Config {
  const path = resolve(file);
  return parseConfigText(readConfigFile(path), path);
}

/** A hub config file (`outpost hub`): recognised by having no `node` section. */
export function loadHubConfig(file: string): HubConfig {
  const path = resolve(file);
  const text = readConfigFile(path);
  const raw = parseYaml(text, path);
  if (raw !== null && typeof raw === 'object' && 'node' in raw) {
    throw new ConfigError(path, [{ key: 'node', reason: 'this is a box config (it has a node section); run it with "outpost node", or give "outpost hub" a hub config' }]);
  }
  return parseHubConfigText(text, path);
}

export type AnyConfig = { kind: 'node'; config: Config } | { kind: 'hub'; config: HubConfig };

/** A node or a hub config, told apart by the `node` section (CLI commands that work on both). */
export function loadAnyConfig(file: string): AnyConfig {
  const path = resolve(file);
  const text = readConfigFile(path);
  const raw = parseYaml(text, path);
  if (raw !== null && typeof raw === 'object' && 'node' in raw) return { kind: 'node', config: parseConfigText(text, path) };
  return { kind: 'hub', config: parseHubConfigText(text, path) };
}

export function parseHubConfigText(text: string, path: string): HubConfig {
  const result = HubConfigSchema.safeParse(parseYaml(text, path), { reportInput: true });
  if (!result.success) throw new ConfigError(path, problemsOf(result.error.issues, HubConfigSchema));
  const config = result.data;
  if (!isAbsolute(config.dataDir)) config.dataDir = resolve(dirname(path), config.dataDir);
  for (const k of ['dir', 'pidFile'] as const) {
    const file = config.mosquitto?.[k];
    if (config.mosquitto && file !== undefined && !isAbsolute(file)) config.mosquitto[k] = resolve(dirname(path), file);
  }
  if (config.sync.siteAdminKey !== undefined) throw new ConfigError(path, [{ key: 'sync.siteAdminKey', reason: 'only a box uses a site admin key; the hub is the admin' }]);
  checkPlainMqtt(path, config.insecureMqtt, [['mqtt', 'listen' in config.mqtt ? config.mqtt.listen : config.mqtt.url]]);
  return config;
}

/** Plain MQTT off loopback only with `insecureMqtt: true` (docs/security.md). */
function checkPlainMqtt(path: string, allowed: boolean, urls: Array<[string, string]>): void {
  if (allowed) return;
  const remote = new Set(insecureRemoteUrls(urls.map(([, u]) => u)));
  const problems = urls.filter(([, u]) => remote.has(u)).map(([key, u]) => ({ key, reason: `plain MQTT ("${u}") off loopback: use mqtts:// (mutual TLS), or set insecureMqtt: true for a lab` }));
  if (problems.length > 0) throw new ConfigError(path, problems);
}

function readConfigFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`;
    throw new ConfigError(path, [{ key: '', reason }], { cause: err });
  }
  return text;
}

/** Validates YAML text as a config; `path` names the file in errors and anchors relative paths. */
function parseYaml(text: string, path: string): unknown {
  // The yaml library's own uniqueKeys check compares each key with every key before it in its
  // map (quadratic: 20,000 keys took 12 s); duplicateKeys() below does it with one Set per map.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => ({ key: '', reason: `YAML ${e.code} at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}` })),
    );
  }
  const duplicates = duplicateKeys(doc.contents, [], lineCounter);
  if (duplicates.length > 0) throw new ConfigError(path, duplicates);
  const raw: unknown = doc.toJS();
  // An empty file (or one of comments only) would otherwise read as {} and report every
  // required section missing.
  if (raw === null || raw === undefined) throw new ConfigError(path, [{ key: '', reason: 'the file is empty (no keys, only blank lines or comments)' }]);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(path, [{ key: '', reason: `expected a mapping of keys (key: value) at the top level, got ${Array.isArray(raw) ? 'a list' : `a ${typeof raw}`}` }]);
  }
  return raw;
}

/**
 * Every key given twice in one map, named by its dotted path, with the lines of both. Linear:
 * each map remembers its scalar keys in a Set (keys that are not scalars are not compared).
 */
function duplicateKeys(node: unknown, at: PropertyKey[], lines: LineCounter): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const lineOf = (offset: number | undefined) => (offset === undefined ? '?' : lines.linePos(offset).line);
  if (isMap(node)) {
    const first = new Map<unknown, number | undefined>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const name = pair.key.value;
      const offset = pair.key.range?.[0];
      const keyPath = [...at, String(name)];
      if (first.has(name)) problems.push({ key: formatKey(keyPath), reason: `given twice: at line ${lineOf(first.get(name))} and at line ${lineOf(offset)}` });
      else first.set(name, offset);
      problems.push(...duplicateKeys(pair.value, keyPath, lines));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => problems.push(...duplicateKeys(item, [...at, i], lines)));
  }
  return problems;
}

export function parseConfigText(text: string, path: string): Config {
  return parseConfigObject(parseYaml(text, path), path);
}

/**
 * A box config file as read, before validation (an object of sections): config push overlays
 * the desired documents on it (agent/config/config-overlay.ts) before parseConfigObject.
 */
export function readRawConfig(file: string): Record<string, unknown> {
  const path = resolve(file);
  return parseYaml(readConfigFile(path), path) as Record<string, unknown>;
}

/** Validates a config object as `path` would be (relative paths resolved against its folder). */
export function parseConfigObject(raw: unknown, path: string): Config {
  const result = ConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(path, problemsOf(result.error.issues, ConfigSchema));
  const config = result.data;
  if (!isAbsolute(config.dataDir)) config.dataDir = resolve(dirname(path), config.dataDir);
  if (config.sync.siteAdminKey !== undefined && !isAbsolute(config.sync.siteAdminKey)) config.sync.siteAdminKey = resolve(dirname(path), config.sync.siteAdminKey);
  for (const k of ['cert', 'key'] as const) {
    const file = config.sip.tls[k];
    if (file !== undefined && !isAbsolute(file)) config.sip.tls[k] = resolve(dirname(path), file);
  }
  checkPlainMqtt(path, config.insecureMqtt, [
    ...(config.hub ? [['hub.url', config.hub.url] as [string, string]] : []),
    ...config.peers.map((p, i): [string, string] => [`peers[${i}].url`, p.url]),
    ...(config.mqtt ? [['mqtt.listen', config.mqtt.listen] as [string, string]] : []),
  ]);
  if (config.mqtt && config.mqtt.announce === undefined) {
    const host = /^mqtts?:\/\/\[?([^\]]*?)\]?:\d+$/.exec(config.mqtt.listen)?.[1];
    if (host === '0.0.0.0' || host === '::') {
      throw new ConfigError(path, [{ key: 'mqtt.announce', reason: `missing: required when mqtt.listen is a wildcard ("${config.mqtt.listen}"), so peers know where to connect` }]);
    }
  }
  if (config.rtp.address === undefined) {
    const host = config.sip.listen[0]!.host;
    if (host === '0.0.0.0' || host === '::' || isIP(host) === 0) {
      throw new ConfigError(path, [{ key: 'rtp.address', reason: `missing: required when sip.listen[0] is "${host}" (the relay needs an address to write into SDP)` }]);
    }
    config.rtp.address = host;
  }
  return config;
}

function formatKey(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/**
 * The keys the schema allows in the object at `path` (through defaults, optionals, pipes, list
 * items and tuple entries); undefined when the path does not lead to one object schema.
 */
function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  let node: unknown = schema;
  for (let i = 0; ; i++) {
    while (node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodOptional || node instanceof z.ZodPipe) {
      node = node instanceof z.ZodPipe ? node.in : node.unwrap();
    }
    if (i === path.length) return node instanceof z.ZodObject ? Object.keys(node.shape) : undefined;
    const part = path[i]!;
    if (node instanceof z.ZodObject && typeof part === 'string') node = (node.shape as Record<string, unknown>)[part];
    else if (node instanceof z.ZodArray && typeof part === 'number') node = node.element;
    else if (node instanceof z.ZodTuple && typeof part === 'number') node = node.def.items[part];
    else return undefined;
  }
}

/**
 * The problems of a failed validation. A misspelt key comes first, and the "missing" problem
 * of the key it was meant to be is left out: it is only its consequence.
 */
function problemsOf(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): ConfigProblem[] {
  const misspelt: ConfigProblem[] = [];
  const unknown: ConfigProblem[] = [];
  const meant = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const known = knownKeysAt(schema, issue.path) ?? [];
    for (const k of issue.keys) {
      const guess = closestWord(k, known);
      const key = formatKey([...issue.path, k]);
      if (guess === undefined) {
        unknown.push({ key, reason: 'unknown key' });
      } else {
        misspelt.push({ key, reason: `unknown key (did you mean ${guess}?)` });
        meant.add(formatKey([...issue.path, guess]));
      }
    }
  }
  const other = issues.filter(
    (issue) => issue.code !== 'unrecognized_keys' && !(issue.code === 'invalid_type' && issue.input === undefined && meant.has(formatKey(issue.path))),
  );
  return [...misspelt, ...unknown, ...other.flatMap(toProblems)];
}

function toProblems(issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code === 'invalid_type') {
    const got = issue.input === undefined ? undefined : issue.input === null ? 'null' : Array.isArray(issue.input) ? 'array' : typeof issue.input;
    return [{ key: formatKey(issue.path), reason: got === undefined ? `missing (expected ${issue.expected})` : `expected ${issue.expected}, got ${got}` }];
  }
  return [{ key: formatKey(issue.path), reason: issue.message }];
}
