/**
 * renderPrometheus output, and MetricsServer over real HTTP on an OS-chosen port.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { hasCode } from '../lib/errors.ts';
import { createLogger, createSilentLogger } from '../lib/logger.ts';
import { ControlError } from './errors.ts';
import { MetricsServer, renderPrometheus, type MetricSample } from './metrics-server.ts';

const render = suite('renderPrometheus');

render('groups samples by name under one HELP and TYPE, escaping label values', () => {
  const samples: MetricSample[] = [
    { name: 'outpost_registrations', help: 'Registered contacts.', type: 'gauge', value: 3 },
    { name: 'outpost_sync_published_total', help: 'Batches published.', type: 'counter', labels: { peer: 'hub' }, value: 12 },
    { name: 'outpost_registrations', help: 'ignored', type: 'gauge', labels: { domain: 'a"b\\c\nd' }, value: 1.5 },
    { name: 'outpost_sync_published_total', help: 'ignored', type: 'counter', labels: { peer: 'b', site: 'x' }, value: 0 },
  ];
  assert.fixture(
    renderPrometheus(samples),
    [
      '# HELP outpost_registrations Registered contacts.',
      '# TYPE outpost_registrations gauge',
      'outpost_registrations 3',
      'outpost_registrations{domain="a\\"b\\\\c\\nd"} 1.5',
      '# HELP outpost_sync_published_total Batches published.',
      '# TYPE outpost_sync_published_total counter',
      'outpost_sync_published_total{peer="hub"} 12',
      'outpost_sync_published_total{peer="b",site="x"} 0',
      '',
    ].join('\n'),
  );
});

render('no samples render as an empty body', () => {
  assert.is(renderPrometheus([]), '');
});

render('an invalid metric name is a ControlError control.metrics', () => {
  for (const name of ['1abc', 'has-dash', '', 'sp ace']) {
    try {
      renderPrometheus([{ name, help: 'x', type: 'gauge', value: 1 }]);
      assert.unreachable(`"${name}" should throw`);
    } catch (err) {
      assert.instance(err, ControlError);
      assert.ok(hasCode(err, 'control.metrics'));
    }
  }
  assert.ok(renderPrometheus([{ name: 'ns:sub_name_2', help: 'x', type: 'gauge', value: 1 }]).includes('ns:sub_name_2 1'));
});

render.run();

const server = suite('MetricsServer');

let collect: () => MetricSample[] = () => [];
let logged: Array<Record<string, unknown>> = [];
let metrics: MetricsServer;

function captureLogger() {
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logged.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return createLogger({ level: 'debug', destination });
}

server.before.each(async () => {
  logged = [];
  collect = () => [{ name: 'outpost_up', help: 'Agent is running.', type: 'gauge', value: 1 }];
  metrics = new MetricsServer({ host: '127.0.0.1', port: 0, collect: () => collect(), logger: captureLogger() });
  await metrics.start();
});

server.after.each(async () => {
  await metrics.stop();
});

const url = (path: string) => `http://127.0.0.1:${metrics.port}${path}`;

server('GET /metrics answers the text format', async () => {
  assert.ok(metrics.port > 0);
  const res = await fetch(url('/metrics'));
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.is(await res.text(), '# HELP outpost_up Agent is running.\n# TYPE outpost_up gauge\noutpost_up 1\n');
});

server('collect() runs on every scrape', async () => {
  let n = 0;
  collect = () => [{ name: 'scrapes_total', help: 'Scrapes.', type: 'counter', value: ++n }];
  await (await fetch(url('/metrics'))).text();
  assert.match(await (await fetch(url('/metrics'))).text(), /^scrapes_total 2$/m);
});

server('any other path is 404', async () => {
  for (const path of ['/', '/metrics/x', '/other']) {
    const res = await fetch(url(path));
    assert.is(res.status, 404, path);
    await res.text();
  }
});

server('a method other than GET is 405', async () => {
  const res = await fetch(url('/metrics'), { method: 'POST', body: 'x' });
  assert.is(res.status, 405);
  assert.is(res.headers.get('allow'), 'GET');
  await res.text();
});

server('collect() throwing is a 500 with a one-line body and a logged error; the server lives on', async () => {
  collect = () => {
    throw new Error('store closed');
  };
  const res = await fetch(url('/metrics'));
  assert.is(res.status, 500);
  const body = await res.text();
  assert.is(body.trimEnd().split('\n').length, 1);
  const entry = logged.find((e) => e.msg === 'metrics collection failed');
  assert.ok(entry, 'error logged');
  assert.is(entry!.err, 'store closed');
  assert.is(entry!.level, 50);

  collect = () => [{ name: 'bad-name', help: 'x', type: 'gauge', value: 1 }];
  const invalid = await fetch(url('/metrics'));
  assert.is(invalid.status, 500);
  await invalid.text();

  collect = () => [];
  assert.is((await fetch(url('/metrics'))).status, 200);
});

server('stop() resolves with a kept-alive connection and is idempotent', async () => {
  await (await fetch(url('/metrics'))).text(); // fetch keeps the connection alive
  await metrics.stop();
  await metrics.stop();
});

server('a busy port rejects start() with ControlError control.listen naming the address', async () => {
  const second = new MetricsServer({ host: '127.0.0.1', port: metrics.port, collect: () => [], logger: createSilentLogger() });
  try {
    await second.start();
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, ControlError);
    assert.ok(hasCode(err, 'control.listen'));
    assert.is((err as Error).message, `cannot listen for metrics on 127.0.0.1:${metrics.port}: address in use`);
  }
});

server.run();
