import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from './errors.ts';
import { loadAnyConfig, loadConfig, loadHubConfig, parseConfigText, parseHubConfigText } from './load-config.ts';

const MINIMAL = `
node: { id: a1, site: branch-a }
dataDir: ./var/a1
sip: { domain: branch-a.example, listen: ["udp:127.0.0.1:5070", "tcp:127.0.0.1:5070"] }
`;

function problemsOf(text: string): ConfigError {
  try {
    parseConfigText(text, '/etc/outpost/box.yaml');
  } catch (err) {
    assert.instance(err, ConfigError);
    return err as ConfigError;
  }
  assert.unreachable('expected a ConfigError');
  return undefined as never;
}

const load = suite('loadConfig');

load('reads the issue example with defaults and resolves dataDir against the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-config-'));
  const file = join(dir, 'box.yaml');
  writeFileSync(file, MINIMAL);
  const c = loadConfig(file);
  assert.is(c.node.id, 'a1');
  assert.is(c.node.site, 'branch-a');
  assert.is(c.dataDir, join(dir, 'var/a1'));
  assert.equal(c.sip.listen, [
    { protocol: 'udp', host: '127.0.0.1', port: 5070 },
    { protocol: 'tcp', host: '127.0.0.1', port: 5070 },
  ]);
  assert.is(c.sip.registrar.minExpires, 60);
  assert.equal(c.sip.auth.algorithms, ['MD5']);
  assert.is(c.sip.flood.ban.failures, 10);
  assert.is(c.log.level, 'info');
});

load('a missing file names the file', () => {
  try {
    loadConfig('/nonexistent/outpost.yaml');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as ConfigError).message, '/nonexistent/outpost.yaml');
    assert.match((err as ConfigError).message, 'file not found');
  }
});

const errors = suite('config errors');

errors('an unknown key is named with its path and the file', () => {
  const err = problemsOf(`${MINIMAL}\ncolour: 1\n`);
  assert.equal(err.problems, [{ key: 'colour', reason: 'unknown key' }]);
  assert.match(err.message, /^config error in \/etc\/outpost\/box\.yaml: colour: unknown key$/);
});

errors('a nested unknown key (typo) is named, with the closest key of its section', () => {
  // The missing `domain` is the misspelling's consequence: not a problem of its own.
  const err = problemsOf(MINIMAL.replace('domain:', 'domian:'));
  assert.equal(err.problems, [{ key: 'sip.domian', reason: 'unknown key (did you mean domain?)' }]);
  assert.is(err.message, 'config error in /etc/outpost/box.yaml: sip.domian: unknown key (did you mean domain?)');
  // Given as well, `domain` is not missing, and the misspelt key still comes first.
  const both = problemsOf(MINIMAL.replace('domain:', 'domian: x, domain:').replace('site: branch-a', 'site: Branch_A'));
  assert.equal(both.problems.map((p) => p.key), ['sip.domian', 'node.site']);
});

errors('"did you mean" names a key of the same object, at any depth, in list items and in a hub config', () => {
  const reasons = (text: string) => Object.fromEntries(problemsOf(text).problems.map((p) => [p.key, p.reason]));
  assert.equal(reasons(`${MINIMAL}\ndatadir: ./x\nrpt: { adress: 127.0.0.1, timeout: 5 }\n`), {
    datadir: 'unknown key (did you mean dataDir?)',
    rpt: 'unknown key (did you mean rtp?)',
  });
  assert.equal(reasons(`${MINIMAL}\nrtp: { adress: 127.0.0.1, portrange: [20000, 20010] }\n`), {
    'rtp.adress': 'unknown key (did you mean address?)',
    'rtp.portrange': 'unknown key (did you mean portRange?)',
  });
  assert.equal(reasons(MINIMAL.replace('sip: {', 'sip: { flood: { rateLimit: { burts: 5 }, bann: {} },')), {
    'sip.flood.rateLimit.burts': 'unknown key (did you mean burst?)',
    'sip.flood.bann': 'unknown key (did you mean ban?)',
  });
  assert.equal(reasons(`${MINIMAL}\npeers: [{ id: a2, url: "mqtt://127.0.0.1:1884", ulr: x }]\n`), { 'peers[0].ulr': 'unknown key (did you mean url?)' });
  // The known keys of another object are not offered: `listen` is a key of sip, not of rtp.
  assert.equal(reasons(`${MINIMAL}\nrtp: { listen: x, colour: red }\n`), { 'rtp.listen': 'unknown key', 'rtp.colour': 'unknown key' });
  try {
    parseHubConfigText('dataDir: ./hub\nmetrics: { lisen: "127.0.0.1:9464" }\n', '/etc/outpost/hub.yaml');
    assert.unreachable('a hub config with a typo must fail');
  } catch (err) {
    assert.equal((err as ConfigError).problems, [{ key: 'metrics.lisen', reason: 'unknown key (did you mean listen?)' }]);
    assert.is((err as ConfigError).message, 'config error in /etc/outpost/hub.yaml: metrics.lisen: unknown key (did you mean listen?)');
  }
});

errors('a missing required key', () => {
  const err = problemsOf(MINIMAL.replace('dataDir: ./var/a1', ''));
  assert.equal(err.problems, [{ key: 'dataDir', reason: 'missing (expected string)' }]);
});

errors('a bad listen address names the index and says what is expected', () => {
  const err = problemsOf(MINIMAL.replace('"tcp:127.0.0.1:5070"', '"sctp:127.0.0.1:5070"'));
  assert.is(err.problems[0]!.key, 'sip.listen[1]');
  assert.match(err.problems[0]!.reason, 'udp|tcp|tls:host:port');
});

errors('a wrong type and an out-of-range value are both reported', () => {
  const err = problemsOf(`${MINIMAL}\nlog: { level: loud }\n`.replace('site: branch-a', 'site: Branch_A'));
  const keys = err.problems.map((p) => p.key).sort();
  assert.equal(keys, ['log.level', 'node.site']);
  assert.match(err.describe(), '/etc/outpost/box.yaml: node.site:');
});

errors('a value of the wrong type says what was expected and what came', () => {
  const err = problemsOf(MINIMAL.replace('dataDir: ./var/a1', 'dataDir: 123'));
  assert.equal(err.problems, [{ key: 'dataDir', reason: 'expected string, got number' }]);
});

errors('timers, duplicate listen addresses, realm and burst are checked', () => {
  const err = problemsOf(
    `${MINIMAL.replace('"tcp:127.0.0.1:5070"', '"udp:127.0.0.1:5070"').replace('sip: {', 'sip: { realm: "a\\"b", timers: { t1: 5000, t2: 1000 }, flood: { rateLimit: { burst: 0.5 } },')}`,
  );
  assert.equal(err.problems.map((p) => p.key).sort(), ['sip.flood.rateLimit.burst', 'sip.listen', 'sip.realm', 'sip.timers']);
});

errors('registrar expiries must be ordered', () => {
  const err = problemsOf(`${MINIMAL.replace('sip: {', 'sip: { registrar: { minExpires: 600, defaultExpires: 60 },')}`);
  assert.is(err.problems[0]!.key, 'sip.registrar');
  assert.match(err.problems[0]!.reason, 'minExpires <= defaultExpires');
});

load('rtp.codecs defaults to the box order and is normalised to the codec library spelling', () => {
  assert.equal(parseConfigText(MINIMAL, '/etc/outpost/box.yaml').rtp.codecs, ['opus', 'G722', 'PCMA', 'PCMU', 'G729']);
  const c = parseConfigText(`${MINIMAL}\nrtp: { codecs: [pcma, OPUS, g722] }\n`, '/etc/outpost/box.yaml');
  assert.equal(c.rtp.codecs, ['PCMA', 'opus', 'G722']);
});

errors('rtp.codecs: an unknown codec is named with its index', () => {
  const err = problemsOf(`${MINIMAL}\nrtp: { codecs: [opus, G711] }\n`);
  assert.equal(err.problems, [{ key: 'rtp.codecs[1]', reason: 'unknown codec "G711": must be one of PCMA, PCMU, G722, opus, G729' }]);
  assert.match(err.message, /^config error in \/etc\/outpost\/box\.yaml: rtp\.codecs\[1\]: unknown codec "G711"/);
});

errors('rtp.codecs: a codec listed twice (in any case) and an empty list are refused', () => {
  const twice = problemsOf(`${MINIMAL}\nrtp: { codecs: [PCMA, opus, pcma] }\n`);
  assert.equal(twice.problems, [{ key: 'rtp.codecs', reason: 'lists PCMA twice' }]);
  const empty = problemsOf(`${MINIMAL}\nrtp: { codecs: [] }\n`);
  assert.equal(empty.problems, [{ key: 'rtp.codecs', reason: 'must list at least one codec' }]);
  const notText = problemsOf(`${MINIMAL}\nrtp: { codecs: [722] }\n`);
  assert.equal(notText.problems, [{ key: 'rtp.codecs[0]', reason: 'expected string, got number' }]);
});

errors('YAML syntax errors and duplicate keys are reported with a line', () => {
  const err = problemsOf(`${MINIMAL}\ndataDir: ./other\n`);
  assert.equal(err.problems, [{ key: 'dataDir', reason: 'given twice: at line 3 and at line 6' }]);
  assert.is(err.message, 'config error in /etc/outpost/box.yaml: dataDir: given twice: at line 3 and at line 6');
  const syntax = problemsOf('node: { id: a1\n');
  assert.match(syntax.problems[0]!.reason, 'YAML');
});

errors('duplicate keys at any depth, in flow maps and list items, each named with both lines', () => {
  const text = [
    'node: { id: a1, site: branch-a, id: a2 }', // 1
    'dataDir: ./var/a1', // 2
    'sip:', // 3
    '  domain: branch-a.example', // 4
    '  listen: ["udp:127.0.0.1:5070"]', // 5
    '  flood:', // 6
    '    ban: { failures: 3 }', // 7
    '    ban: { failures: 4 }', // 8
    'peers:', // 9
    '  - { id: a2, url: "mqtt://127.0.0.1:1884", url: "mqtt://127.0.0.1:1885" }', // 10
    '"sip": {}', // 11: quoted, still the same key
  ].join('\n');
  assert.equal(problemsOf(text).problems, [
    { key: 'node.id', reason: 'given twice: at line 1 and at line 1' },
    { key: 'sip.flood.ban', reason: 'given twice: at line 7 and at line 8' },
    { key: 'peers[0].url', reason: 'given twice: at line 10 and at line 10' },
    { key: 'sip', reason: 'given twice: at line 3 and at line 11' },
  ]);
});

errors('many keys: every duplicate among 5,000 keys of one map is found, with its lines', () => {
  const lines = [MINIMAL.trim(), 'rtp:'];
  for (let i = 0; i < 5_000; i++) lines.push(`  k${i % 4_998}: ${i}`); // k0 and k1 come twice
  const err = problemsOf(`${lines.join('\n')}\n`);
  const first = MINIMAL.trim().split('\n').length + 2; // the line of k0
  assert.equal(err.problems, [
    { key: 'rtp.k0', reason: `given twice: at line ${first} and at line ${first + 4_998}` },
    { key: 'rtp.k1', reason: `given twice: at line ${first + 1} and at line ${first + 4_999}` },
  ]);
});

errors('an empty file says it is empty and names the file, for a box and a hub config', () => {
  for (const text of ['', '\n\n', '# nothing here yet\n']) {
    const err = problemsOf(text);
    assert.equal(err.problems, [{ key: '', reason: 'the file is empty (no keys, only blank lines or comments)' }]);
    assert.is(err.message, 'config error in /etc/outpost/box.yaml: the file is empty (no keys, only blank lines or comments)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'outpost-config-'));
  const file = join(dir, 'hub.yaml');
  writeFileSync(file, '');
  for (const load of [loadHubConfig, loadAnyConfig]) {
    try {
      load(file);
      assert.unreachable('an empty file must fail');
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.is((err as ConfigError).message, `config error in ${file}: the file is empty (no keys, only blank lines or comments)`);
    }
  }
});

errors('a top level that is not a mapping says so', () => {
  assert.match(problemsOf('- node\n- sip\n').problems[0]!.reason, 'expected a mapping of keys (key: value) at the top level, got a list');
  assert.match(problemsOf('hello\n').problems[0]!.reason, 'got a string');
});

load.run();
errors.run();
