/**
 * TelemetrySampler on a ManualClock with fake readers: the sample validates against
 * TelemetrySchema, CPU use and network rates are deltas between samples, and the /proc parsers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { TelemetrySchema } from '../wire/telemetry.ts';
import { TelemetrySampler, type BoxReaders, type HotReaders } from './telemetry-core.ts';
import { parseMeminfo, parseNetDev, parseProcStat } from './telemetry-readers.ts';

function setup() {
  const clock = new ManualClock(1_700_000_000_000);
  const machine = { idle: 1000, total: 2000, rx: 10_000, tx: 5_000 };
  const hot: HotReaders = {
    loadavg: () => [0.5, 0.25, 0.1],
    cpuTimes: () => ({ idle: machine.idle, total: machine.total }),
    memory: () => ({ totalB: 4e9, availableB: 3e9 }),
    netBytes: () => ({ rx: machine.rx, tx: machine.tx }),
    disk: () => ({ totalB: 32e9, freeB: 20e9 }),
    rssB: () => 80e6,
  };
  const box: BoxReaders = {
    node: 'a1', site: 'branch-a', version: '0.1.0', uptimeS: () => 42, loopDelayMs: () => 1.5, tempsC: () => [48, Number.NaN],
    sip: () => ({ registrations: 3, activeCalls: 1 }),
    sync: () => ({ hubLagMs: 200, hubLinked: true, peers: [{ id: 'a2', up: false }] }),
    alarms: () => [{ code: 'peer.down', severity: 'warning', message: 'site peer a2 is down', since: 1_700_000_000_000 }],
  };
  return { clock, machine, sampler: new TelemetrySampler(hot, box, clock) };
}

test('a sample validates against TelemetrySchema; the first reports no CPU use and no rates', () => {
  const { sampler } = setup();
  const s = sampler.sample();
  assert.ok(TelemetrySchema.safeParse(s).success, JSON.stringify(TelemetrySchema.safeParse(s).error?.issues));
  assert.is(s.at, 1_700_000_000_000);
  assert.equal(s.cpu, { load1: 0.5, load5: 0.25, load15: 0.1, usedPct: 0 });
  assert.equal(s.net, { rxBps: 0, txBps: 0 });
  assert.equal(s.tempsC, [48], 'a sensor reading that is not a number is left out');
  assert.equal(s.sip, { registrations: 3, activeCalls: 1 });
  assert.is(s.alarms[0]!.code, 'peer.down');
});

test('the next sample: CPU use and network rates over the interval', () => {
  const { sampler, clock, machine } = setup();
  sampler.sample();
  clock.advance(10_000);
  machine.idle += 300;
  machine.total += 400; // 100 of 400 jiffies busy
  machine.rx += 20_480;
  machine.tx += 10_240;
  const s = sampler.sample();
  assert.is(s.cpu.usedPct, 25);
  assert.equal(s.net, { rxBps: 2048, txBps: 1024 });
  machine.rx -= 1_000_000; // counters reset (interface re-created): no negative rate
  clock.advance(10_000);
  assert.equal(sampler.sample().net.rxBps, 0);
});

test('/proc parsers', () => {
  assert.equal(parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n'), { idle: 850, total: 1000 });
  assert.equal(parseMeminfo('MemTotal:       16000 kB\nMemFree:  100 kB\nMemAvailable:    8000 kB\n'), { totalB: 16000 * 1024, availableB: 8000 * 1024 });
  const dev = 'Inter-|   Receive\n face |bytes packets\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n  wlan0: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n';
  assert.equal(parseNetDev(dev), { rx: 1005, tx: 2007 });
});

test.run();
