/**
 * What a new user meets when the config is valid but this host cannot carry it out (a dataDir
 * under a regular file, an address that cannot be bound): each is one line on stderr naming
 * the config key, its value and the file, with exit code 1 and no stack trace. The other
 * errors a first try meets (an empty or misspelt config, a bad option, a stopped node) are
 * one line each too. Runs alone too: node --import tsx test/integration/cli-host-errors.test.ts
 */
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, tempDir } from '../../bench/lib/node-process.ts';

const BOX = (dataDir: string, extra = '') => `node: { id: a1, site: branch-a }
dataDir: ${dataDir}
log: { level: warn }
sip: { domain: branch-a.example, listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"] }
${extra}`;

/** Runs `outpost ...args`; asserts the exit code and exactly one stderr line, and returns that line. */
async function oneLineFailure(args: string[], cwd: string, code = 1): Promise<string> {
  const res = await runCli(args, cwd);
  assert.is(res.code, code, `${args.join(' ')}: ${res.stderr}`);
  const lines = res.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `one line on stderr, got:\n${res.stderr}`);
  assert.not.match(res.stderr, /\n\s+at /);
  return lines[0]!;
}

const test = suite('host errors in config terms');

test('a dataDir under a regular file: node, user add, status', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file'), 'a file, not a folder');
  const config = join(dir, 'outpost.yaml');
  writeFileSync(config, BOX('./file/data'));
  const expected = `outpost: config error: dataDir ${join(dir, 'file/data')} in ${config}: cannot create it: ${join(dir, 'file')} is a file, not a folder`;
  assert.is(await oneLineFailure(['node', '--config', config], dir), expected);
  assert.is(await oneLineFailure(['user', 'add', '1001', '--password', 'long-enough', '--config', config], dir), expected);
  writeFileSync(config, BOX('./file'));
  assert.is(await oneLineFailure(['status', '--config', 'outpost.yaml'], dir), `outpost: config error: dataDir ${join(dir, 'file')} in ${config}: it is a file, not a folder`);
});

/** A UDP socket and a TCP listener on 127.0.0.1 holding two ports, as another program would. */
async function holdPorts(): Promise<{ udp: number; tcp: number; release(): void }> {
  const udp: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  const tcp: Server = createServer();
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
  return {
    udp: udp.address().port,
    tcp: (tcp.address() as AddressInfo).port,
    release: () => {
      udp.close();
      tcp.close();
    },
  };
}

test('outpost node and hub: an address that cannot be bound names its key, the address and the file', async () => {
  const dir = tempDir();
  const config = join(dir, 'outpost.yaml');
  const held = await holdPorts();
  const node = (text: string) => {
    writeFileSync(config, text);
    return oneLineFailure(['node', '--config', config], dir);
  };
  const sip = (listen: string, extra = '') =>
    `node: { id: a1, site: branch-a }\ndataDir: ./data\nlog: { level: warn }\nsip: { domain: branch-a.example, listen: [${listen}] }\n${extra}`;
  try {
    assert.is(await node(sip(`"udp:127.0.0.1:${held.udp}"`)), `outpost: config error: sip.listen[0] udp:127.0.0.1:${held.udp} in ${config}: address in use`);
    assert.is(
      await node(sip(`"udp:127.0.0.1:0", "tcp:127.0.0.1:${held.tcp}"`)),
      `outpost: config error: sip.listen[1] tcp:127.0.0.1:${held.tcp} in ${config}: address in use`,
    );
    assert.is(
      await node(sip('"udp:127.0.0.1:0"', `mqtt: { listen: "mqtt://127.0.0.1:${held.tcp}" }\n`)),
      `outpost: config error: mqtt.listen mqtt://127.0.0.1:${held.tcp} in ${config}: address in use`,
    );
    assert.is(
      await node(sip('"udp:127.0.0.1:0"', `http: { listen: "127.0.0.1:${held.tcp}" }\n`)),
      `outpost: config error: http.listen 127.0.0.1:${held.tcp} in ${config}: address in use`,
    );
    // 192.0.2.7 (TEST-NET-1) is on no host: the relay finds out at start.
    assert.is(
      await node(sip('"udp:127.0.0.1:0"', 'rtp: { address: 192.0.2.7 }\n')),
      `outpost: config error: rtp.address 192.0.2.7 in ${config}: address not available on this host`,
    );
    assert.is(
      await node(sip('"udp:192.0.2.7:5070"')),
      `outpost: config error: rtp.address 192.0.2.7 in ${config}: address not available on this host (rtp.address defaults to the host of sip.listen[0])`,
    );
    assert.is(
      await node(sip('"udp:192.0.2.7:5070"', 'rtp: { address: 127.0.0.1 }\n')),
      `outpost: config error: sip.listen[0] udp:192.0.2.7:5070 in ${config}: address not available on this host`,
    );
    const hubFile = join(dir, 'hub.yaml');
    writeFileSync(hubFile, `id: hub\ndataDir: ./hub\nlog: { level: warn }\nmqtt: { listen: "mqtt://127.0.0.1:${held.tcp}" }\n`);
    assert.is(
      await oneLineFailure(['hub', '--config', hubFile], dir),
      `outpost: config error: mqtt.listen mqtt://127.0.0.1:${held.tcp} in ${hubFile}: address in use`,
    );
  } finally {
    held.release();
  }
});

test('the other frictions of a first try: one line each, non-zero, no stack trace', async () => {
  const dir = tempDir();
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const good = write('outpost.yaml', BOX('./data'));
  const empty = write('empty.yaml', '# to do\n');
  const typo = write('typo.yaml', BOX('./data').replace('domain:', 'domian:'));
  assert.is(await oneLineFailure(['node', '--config', empty], dir, 2), `outpost: config error in ${empty}: the file is empty (no keys, only blank lines or comments)`);
  assert.is(await oneLineFailure(['status', '--config', typo], dir, 2), `outpost: config error in ${typo}: sip.domian: unknown key (did you mean domain?)`);
  assert.is(await oneLineFailure(['route', 'add', '12', '--strip', '-1', '--config', good], dir), 'outpost: invalid --strip "-1": use a whole number of 0 or more');
  assert.match(await oneLineFailure(['route', 'add', '9.1', '--config', good], dir), /^outpost: invalid pattern "9\.1": character 2 is "\."/);
  assert.is(await oneLineFailure(['cdr', 'list', '--limit', '0', '--config', good], dir), 'outpost: invalid --limit "0": use a whole number of 1 or more');
  // route add created the store: status reads it and says the node does not run.
  assert.is((await runCli(['route', 'add', '12', '--config', good], dir)).code, 0);
  assert.is(await oneLineFailure(['status', '--config', good], dir, 3), `outpost: node a1 is not running (start it with: outpost node --config ${good})`);
});

test.run();
