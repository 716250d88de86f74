/**
 * HttpServer and MetricsServer over real HTTP on an OS-chosen port: routes, 404, 405, a failing
 * route is a logged 500, stop() with kept-alive connections, a busy port.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { Counter, Registry } from 'prom-client';
import { hasCode } from '../lib/errors.ts';
import { createLogger, createSilentLogger } from '../lib/logger.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { ControlError } from './errors.ts';
import { HttpServer, type HttpReply } from './http-server.ts';
import { MetricsServer } from './metrics-server.ts';

const server = suite('HttpServer');

let logged: Array<Record<string, unknown>> = [];
let page: () => HttpReply | Promise<HttpReply>;
let registry: Registry;
let counter: Counter;
let http: HttpServer;

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
  registry = new Registry();
  counter = new Counter({ name: 'outpost_up_total', help: 'Scrapes.', registers: [registry] });
  page = () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: '<p>ok</p>' });
  http = new HttpServer({ host: '127.0.0.1', port: 0, routes: { '/': () => page(), '/metrics': async () => ({ status: 200, contentType: 'text/plain', body: await registry.metrics() }) }, logger: captureLogger(), name: 'http' });
  await http.start();
});

server.after.each(async () => {
  await http.stop();
});

const url = (path: string) => `http://127.0.0.1:${http.port}${path}`;

server('each route answers GET; a query string is ignored', async () => {
  const res = await fetch(url('/?x=1'));
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.is(await res.text(), '<p>ok</p>');
  counter.inc(2);
  assert.match(await (await fetch(url('/metrics'))).text(), /^outpost_up_total 2$/m);
});

server('any other path is 404, also names of Object.prototype', async () => {
  for (const path of ['/x', '/metrics/x', '/constructor', '/__proto__']) {
    const res = await fetch(url(path));
    assert.is(res.status, 404, path);
    await res.text();
  }
});

server('a method other than GET or HEAD is 405', async () => {
  const res = await fetch(url('/metrics'), { method: 'POST', body: 'x' });
  assert.is(res.status, 405);
  assert.is(res.headers.get('allow'), 'GET');
  await res.text();
});

server('a route that throws is a 500 with a one-line body and a logged error; the server lives on', async () => {
  page = () => {
    throw new HarnessError('store closed');
  };
  const res = await fetch(url('/'));
  assert.is(res.status, 500);
  assert.is((await res.text()).trimEnd().split('\n').length, 1);
  const entry = logged.find((e) => e.msg === 'http request failed');
  assert.ok(entry, 'error logged');
  assert.is(entry!.err, 'store closed');
  page = () => ({ status: 503, contentType: 'application/json', body: '{}' });
  assert.is((await fetch(url('/'))).status, 503);
});

server('stop() resolves with a kept-alive connection and is idempotent', async () => {
  await (await fetch(url('/metrics'))).text();
  await http.stop();
  await http.stop();
});

server('a busy port rejects start() with ControlError control.listen naming the address', async () => {
  const second = new MetricsServer({ host: '127.0.0.1', port: http.port, registry, logger: createSilentLogger() });
  try {
    await second.start();
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, ControlError);
    assert.ok(hasCode(err, 'control.listen'));
    assert.is((err as Error).message, `cannot listen for metrics on 127.0.0.1:${http.port}: address in use`);
  }
});

server.run();
