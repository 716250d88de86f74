import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigText, parseHubConfigText } from '../config/load-config.ts';
import { AgentError, BindError } from '../lib/errors.ts';
import { MediaError } from '../media/errors.ts';
import { TransportError } from '../sip/transport/errors.ts';
import { bindFailureInConfigTerms, hubBindFailureInConfigTerms } from './bind-failure.ts';

const FILE = '/etc/outpost/outpost.yaml';
const config = parseConfigText(
  `node: { id: a1, site: branch-a }
dataDir: ./data
sip: { domain: branch-a.example, listen: ["udp:127.0.0.1:5070", "tcp:127.0.0.1:5070", "udp:[::1]:5070"] }
rtp: { address: 127.0.0.2, portRange: [20000, 20099] }
mqtt: { listen: "mqtt://127.0.0.1:1884" }
http: { listen: "127.0.0.1:9464" }
`,
  FILE,
);
const errno = (code: string) => Object.assign(new Error(code), { code });
const sip = (b: BindError) => new TransportError('transport.listen', b.message, { cause: b });
const other = (b: BindError) => new AgentError('some.listen', `cannot listen: ${b.reason}`, { cause: b });
const said = (err: unknown, cfg = config) => bindFailureInConfigTerms(err, cfg, FILE)?.message;

const test = suite('bindFailureInConfigTerms');

test('each bound address is named by its key, its value as written, and the file', () => {
  assert.is(said(sip(new BindError('udp', '127.0.0.1', 5070, errno('EADDRINUSE')))), `config error: sip.listen[0] udp:127.0.0.1:5070 in ${FILE}: address in use`);
  assert.is(said(sip(new BindError('tcp', '127.0.0.1', 5070, errno('EACCES')))), `config error: sip.listen[1] tcp:127.0.0.1:5070 in ${FILE}: permission denied`);
  assert.is(said(sip(new BindError('udp', '::1', 5070, errno('EADDRNOTAVAIL')))), `config error: sip.listen[2] udp:[::1]:5070 in ${FILE}: address not available on this host`);
  assert.is(said(other(new BindError('tcp', '127.0.0.1', 1884, errno('EADDRINUSE')))), `config error: mqtt.listen mqtt://127.0.0.1:1884 in ${FILE}: address in use`);
  assert.is(said(other(new BindError('tcp', '127.0.0.1', 9464, errno('EADDRINUSE')))), `config error: http.listen 127.0.0.1:9464 in ${FILE}: address in use`);
});

test('the RTP range: rtp.address when the address is not here, rtp.portRange when every pair is taken', () => {
  const media = (b: BindError) => new MediaError('media.bind', b.message, { cause: b });
  const notHere = new BindError('udp', '127.0.0.2', [20000, 20099], new BindError('udp', '127.0.0.2', 20000, errno('EADDRNOTAVAIL')));
  assert.is(said(media(notHere)), `config error: rtp.address 127.0.0.2 in ${FILE}: address not available on this host`);
  const taken = new BindError('udp', '127.0.0.2', [20000, 20099], errno('EADDRINUSE'), 'every port pair of the range is in use');
  assert.is(said(media(taken)), `config error: rtp.portRange [20000, 20099] on 127.0.0.2 in ${FILE}: every port pair of the range is in use`);
  // rtp.address not given: it is the host of sip.listen[0], and the message says so.
  const defaulted = parseConfigText('node: { id: a1, site: b }\ndataDir: ./d\nsip: { domain: x, listen: ["udp:192.0.2.7:5070"] }\n', FILE);
  const [lo, hi] = defaulted.rtp.portRange;
  assert.is(
    said(media(new BindError('udp', '192.0.2.7', [lo, hi], errno('EADDRNOTAVAIL'))), defaulted),
    `config error: rtp.address 192.0.2.7 in ${FILE}: address not available on this host (rtp.address defaults to the host of sip.listen[0])`,
  );
});

test('two keys with one address: the layer that failed decides, and the other key is named', () => {
  const shared = parseConfigText(
    'node: { id: a1, site: b }\ndataDir: ./d\nsip: { domain: x, listen: ["tcp:127.0.0.1:5070"] }\nhttp: { listen: "127.0.0.1:5070" }\n',
    FILE,
  );
  const b = new BindError('tcp', '127.0.0.1', 5070, errno('EADDRINUSE'));
  assert.is(said(other(b), shared), `config error: http.listen 127.0.0.1:5070 in ${FILE}: address in use (sip.listen[0] names the same address)`);
  assert.is(said(sip(b), shared), `config error: sip.listen[0] tcp:127.0.0.1:5070 in ${FILE}: address in use (http.listen names the same address)`);
});

test('no BindError, or an address no key names: undefined (the error is shown as it is)', () => {
  assert.is(said(new AgentError('store.open', 'x')), undefined);
  assert.is(said(other(new BindError('tcp', '10.1.1.1', 80, errno('EACCES')))), undefined);
});

test.run();

const hub = suite('hubBindFailureInConfigTerms');

hub('the hub names its broker and metrics keys; an external broker binds nothing', () => {
  const HUB_FILE = '/etc/outpost/hub.yaml';
  const own = parseHubConfigText('id: hub\ndataDir: ./h\nmqtt: { listen: "mqtt://127.0.0.1:1883" }\nmetrics: { listen: "127.0.0.1:9465" }\n', HUB_FILE);
  const inUse = (port: number) => other(new BindError('tcp', '127.0.0.1', port, errno('EADDRINUSE')));
  assert.is(hubBindFailureInConfigTerms(inUse(1883), own, HUB_FILE)?.message, `config error: mqtt.listen mqtt://127.0.0.1:1883 in ${HUB_FILE}: address in use`);
  assert.is(hubBindFailureInConfigTerms(inUse(9465), own, HUB_FILE)?.message, `config error: metrics.listen 127.0.0.1:9465 in ${HUB_FILE}: address in use`);
  const external = parseHubConfigText('id: hub\ndataDir: ./h\nmqtt: { url: "mqtt://127.0.0.1:1883" }\n', HUB_FILE);
  assert.is(hubBindFailureInConfigTerms(inUse(1883), external, HUB_FILE), undefined);
});

hub.run();
