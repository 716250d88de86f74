import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import type { UpdateState } from './update-core.ts';
import { UpdateError } from './errors.ts';
import { UpdateService, type UpdateCommands } from './update-service.ts';

const SHA = 'ab'.repeat(32);
const OFFER = { version: '2.0', url: 'https://hub:8443/u/2.0.raucb', sha256: SHA };

interface World {
  dir: string;
  clock: ManualClock;
  log: string[];
  commands: UpdateCommands;
}
const test = suite<World>('update service (box shell)');

test.before.each((w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-update-service-'));
  w.clock = new ManualClock(1_000_000);
  w.log = [];
  w.commands = {
    download: async (url) => {
      w.log.push(`download ${url}`);
      writeFileSync(join(w.dir, 'b.raucb'), 'bundle bytes');
      return { file: join(w.dir, 'b.raucb'), sha256: SHA };
    },
    install: async (file) => (w.log.push(`install ${file}${existsSync(file) ? '' : ' (missing)'}`), 'B'),
    reboot: async () => void w.log.push('reboot'),
  };
});
test.after.each((w) => rmSync(w.dir, { recursive: true, force: true }));

const service = (w: World, boot = { slot: 'A', version: '1.0' }) =>
  new UpdateService({ dataDir: w.dir, clock: w.clock, logger: createSilentLogger(), commands: w.commands, boot, tickMs: 1000 });
const saved = (w: World) => JSON.parse(readFileSync(join(w.dir, 'update', 'state.json'), 'utf8')) as UpdateState;

test('an offer runs download, install and, with no calls, the reboot; state.json follows', async (w) => {
  const s = service(w);
  await s.offer(OFFER);
  assert.equal(w.log, ['download https://hub:8443/u/2.0.raucb', `install ${join(w.dir, 'b.raucb')}`, 'reboot']);
  assert.is(saved(w).phase, 'rebooting');
  assert.is(saved(w).targetSlot, 'B');
  assert.not.ok(existsSync(join(w.dir, 'b.raucb')), 'the bundle was deleted after the install');
});

test('with a call up, the reboot waits for the quiet moment, ticked by the clock', async (w) => {
  const s = service(w);
  await s.calls(1);
  await s.offer(OFFER);
  assert.not.ok(w.log.includes('reboot'));
  assert.is(saved(w).phase, 'installed');
  await s.calls(0);
  w.clock.advance(5_000);
  await s.calls(0);
  assert.not.ok(w.log.includes('reboot'), 'quiet for 5 s only');
  w.clock.advance(6_000);
  await s.calls(0);
  assert.ok(w.log.includes('reboot'));
  s.stop();
});

test('a failing install is reported failed, no reboot', async (w) => {
  w.commands.install = async () => {
    // What boxUpdateCommands throws when rauc refuses.
    throw new UpdateError('update.install', 'rauc install: signature verification failed');
  };
  const s = service(w);
  await s.offer(OFFER);
  assert.is(saved(w).phase, 'failed');
  assert.match(saved(w).error ?? '', /signature verification failed/);
  assert.not.ok(w.log.includes('reboot'));
  assert.not.ok(existsSync(join(w.dir, 'b.raucb')), 'the refused bundle was deleted');
});

test('sweep() at start deletes a partial download and a bundle left by a crash, nothing else', async (w) => {
  const dir = join(w.dir, 'update');
  mkdirSync(dir, { recursive: true });
  for (const f of ['bundle.raucb.part', 'bundle.raucb', 'health.json']) writeFileSync(join(dir, f), 'x');
  const s = service(w);
  assert.equal(s.sweep().sort(), ['bundle.raucb', 'bundle.raucb.part']);
  assert.equal(readdirSync(dir).sort(), ['health.json']);
  assert.equal(s.sweep(), [], 'nothing left the second time');
});

test('after the reboot: health.json of the new slot commits; of the old slot means rolled back', async (w) => {
  await service(w).offer(OFFER);
  mkdirSync(join(w.dir, 'update'), { recursive: true });
  writeFileSync(join(w.dir, 'update', 'health.json'), JSON.stringify({ slot: 'B', version: '2.0', seconds: 40, at: 'x', result: 'good' }));
  const onB = service(w, { slot: 'B', version: '2.0' });
  await onB.booted(onB.bootFacts());
  assert.is(saved(w).phase, 'committed');

  writeFileSync(join(w.dir, 'update', 'state.json'), JSON.stringify({ ...saved(w), phase: 'rebooting', version: '3.0', targetSlot: 'A' }));
  writeFileSync(join(w.dir, 'update', 'health.json'), JSON.stringify({ slot: 'B', version: '2.0', seconds: 40, at: 'x', result: 'good' }));
  const back = service(w, { slot: 'B', version: '2.0' });
  await back.booted(back.bootFacts());
  assert.is(saved(w).phase, 'rolled-back');
});

test.run();
