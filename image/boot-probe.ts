/**
 * The host side of image/boot-test.sh: polls the agent inside the QEMU guest with SIP OPTIONS
 * through the forwarded UDP port until it answers 200, then lets it idle and reads its resident
 * memory from the forwarded metrics port. Prints one JSON line; on failure one line on stderr
 * and exit code 1.
 *
 *   node --import tsx image/boot-probe.ts SIP_PORT METRICS_PORT TIMEOUT_S IDLE_S
 *   (BOOT_TEST_T0_MS: when QEMU started, epoch milliseconds; times are measured from it;
 *   BOOT_TEST_SIP=tcp: SIP over TCP, for a guest whose QEMU network is restrict=on, which
 *   drops every UDP datagram from the guest, the answers to forwarded ones included)
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { optionsRequest } from '../agent/lib/options-request.ts';
import { sipOptions } from '../bench/lib/sip-probe.ts';
import { waitFor } from '../bench/lib/wait-for.ts';

const [sipPort, metricsPort, timeoutS, idleS] = process.argv.slice(2).map(Number);
const t0 = Number(process.env.BOOT_TEST_T0_MS ?? Date.now());
const domain = process.env.BOOT_TEST_DOMAIN ?? 'outpost.local';
const seconds = (ms: number) => Math.round(ms / 100) / 10;

function fail(message: string): never {
  process.stderr.write(`boot-probe: ${message}\n`);
  process.exit(1);
}

/** One OPTIONS over a new TCP connection: the response's status line, or undefined after `waitMs`. */
function sipOptionsTcp(port: number, waitMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => done(undefined), waitMs);
    function done(value: string | undefined): void {
      clearTimeout(timer);
      sock.destroy();
      resolve(value);
    }
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('connect', () => {
      const request = optionsRequest(domain, sock.localPort ?? 0, randomBytes(8).toString('hex'), 'probe');
      sock.write(request.replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    });
    sock.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) done(text.split('\r\n')[0]);
    });
  });
}
const tcp = process.env.BOOT_TEST_SIP === 'tcp';
const probe = (): Promise<string | undefined> => (tcp ? sipOptionsTcp(sipPort!, 2000) : sipOptions({ host: '127.0.0.1', port: sipPort! }, domain, 1000));

async function rssBytes(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) fail(`GET /metrics answered ${res.status}`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith('process_resident_memory_bytes '));
  if (line === undefined) fail('no process_resident_memory_bytes in /metrics');
  return Number(line.split(' ')[1]);
}

async function main(): Promise<void> {
  if (![sipPort, metricsPort, timeoutS, idleS].every((n) => Number.isInteger(n) && n! >= 0)) {
    fail('usage: boot-probe.ts SIP_PORT METRICS_PORT TIMEOUT_S IDLE_S');
  }
  let last: string | undefined;
  const answered200 = async () => {
    const status = await probe();
    if (status !== undefined) last = status;
    return status !== undefined && / 200 /.test(`${status} `);
  };
  await waitFor(answered200, 'SIP 200', t0 + timeoutS! * 1000 - Date.now(), 250).catch(() =>
    fail(`no SIP 200 to OPTIONS within ${timeoutS} s of QEMU start (last answer: ${last ?? 'none'})`),
  );
  const sipReadyS = seconds(Date.now() - t0);
  // The measurement window: the agent's memory is read after IDLE_S seconds without traffic.
  await new Promise((r) => setTimeout(r, idleS! * 1000));
  const rss = await waitFor(() => rssBytes().catch(() => undefined), 'the metrics port', 12_000, 2000).catch((err: Error) => fail(err.message));
  process.stdout.write(`${JSON.stringify({ sipReadyS, sipStatus: 'SIP/2.0 200 OK', sipTransport: tcp ? 'tcp' : 'udp', idleS, agentRssMB: Math.round(rss / 1e5) / 10 })}\n`);
}

await main();
