/**
 * The box image's first boot (image/overlay/usr/lib/outpost/firstboot.sh) writes a config the
 * agent accepts: run with the flash tool's first-boot file (site, node, hub, claim; docs/flash.md)
 * and without one, on this machine with the paths pointed into a temporary folder, and the
 * result parsed by the agent's own config loader.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText } from '../../agent/config/load-config.ts';
import { ROOT } from '../../bench/lib/node-process.ts';

const SCRIPT = join(ROOT, 'image/overlay/usr/lib/outpost/firstboot.sh');
const TEMPLATE = join(ROOT, 'image/overlay/usr/share/outpost/outpost.yaml.in');

/** firstboot.sh with its paths under `dir` and without the chown/install of the image's user. */
function runFirstBoot(dir: string, firstBoot?: string): string {
  if (firstBoot !== undefined) writeFileSync(join(dir, 'outpost-firstboot.conf'), firstBoot);
  const script = readFileSync(SCRIPT, 'utf8')
    .replaceAll('/data/outpost-firstboot.conf', join(dir, 'outpost-firstboot.conf'))
    .replaceAll('/usr/share/outpost/outpost.yaml.in', TEMPLATE)
    .replaceAll('/data/outpost.yaml', join(dir, 'outpost.yaml'))
    .replace(/^install -d .*$/m, '')
    .replace(/^\s*chown root:outpost .*$/m, '')
    .replaceAll('/dev/disk/by-partlabel/boot', join(dir, 'no-boot-partition'));
  writeFileSync(join(dir, 'firstboot.sh'), script);
  execFileSync('sh', [join(dir, 'firstboot.sh')], { stdio: 'pipe', timeout: 60_000 });
  return readFileSync(join(dir, 'outpost.yaml'), 'utf8');
}

const test = suite('image first boot');

test('with the flash tool\'s file: the site, node id and an enrol section with the hub and claim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-firstboot-'));
  const text = runFirstBoot(dir, 'version=1\nsite=branch-q\nnode=a3\nhub=https://hub.example:8443\nclaim=ABCD-EFGH-JKMN\n');
  const config = parseConfigText(text, join(dir, 'outpost.yaml'));
  assert.equal(config.node, { id: 'a3', site: 'branch-q' });
  assert.equal(config.enrol, { hub: 'https://hub.example:8443', claim: 'ABCD-EFGH-JKMN' });
  assert.is(config.http.listen, '0.0.0.0:9464');
});

test('a value with unexpected characters is ignored, not written into the YAML', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-firstboot-'));
  const text = runFirstBoot(dir, 'site=x"; rm -rf /\nclaim=ABCD\nhub=https://h:1\n');
  const config = parseConfigText(text, join(dir, 'outpost.yaml'));
  assert.is(config.node.site, 'site');
  assert.equal(config.enrol, { hub: 'https://h:1', claim: 'ABCD' });
});

test('without a first-boot file: a standalone node named after the MAC, valid for the agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-firstboot-'));
  const config = parseConfigText(runFirstBoot(dir), join(dir, 'outpost.yaml'));
  assert.match(config.node.id, /^box-/);
  assert.is(config.enrol, undefined);
});

test.run();
