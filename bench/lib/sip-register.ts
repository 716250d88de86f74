/**
 * A small SIP registering UA in the test process: REGISTER over UDP with MD5 digest
 * authentication (401 → the same request again with Authorization), one fresh socket per
 * registration. Resolves `ok: true` only on a 200 OK to the authenticated REGISTER: for Outpost
 * that is an acknowledged write (the registrar answers 200 only after the binding committed).
 * Requests are retransmitted like a UAC client transaction over UDP (T1 doubling up to T2) until
 * a final response or the overall timeout, after which it resolves `ok: false, status: undefined`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

export interface RegisterOptions {
  target: { host: string; port: number };
  /** The SIP domain: Request-URI host, To/From host. */
  domain: string;
  /** The user (extension), also the digest username. */
  user: string;
  password: string;
  /** The Contact URI to bind, e.g. `sip:2001-a@127.0.0.1:5999` (make it unique per binding). */
  contact: string;
  /** Expires header (seconds); default 3600. */
  expires?: number;
  /** Overall limit for the whole exchange; default 5000 ms. */
  timeoutMs?: number;
  /** Local address to send from; default 127.0.0.1. */
  localIp?: string;
}

export interface RegisterResult {
  ok: boolean;
  /** Final status of the last REGISTER; undefined when nothing final arrived in time. */
  status: number | undefined;
  reason: string;
  /** Contact header values of the 200 (every live binding of the AoR on that node). */
  contacts: string[];
  elapsedMs: number;
}

interface Response {
  status: number;
  reason: string;
  header(name: string): string | undefined;
  headers(name: string): string[];
}

const COMPACT: Record<string, string> = { v: 'via', m: 'contact', f: 'from', t: 'to', i: 'call-id', l: 'content-length' };

function parseResponse(text: string): Response | undefined {
  const m = /^SIP\/2\.0 (\d{3}) ?([^\r\n]*)\r\n/.exec(text);
  if (!m) return undefined;
  const head = text.split('\r\n\r\n')[0]!;
  // Unfold continuation lines (RFC 3261 §7.3.1).
  const lines = head.replace(/\r\n[ \t]+/g, ' ').split('\r\n').slice(1);
  const all: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    all.push([COMPACT[raw] ?? raw, line.slice(colon + 1).trim()]);
  }
  const headers = (name: string) => all.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v);
  return { status: Number(m[1]), reason: m[2]!, header: (name) => headers(name)[0], headers };
}

/** The parameters of a `Digest k=v, k="v"` challenge, keys lower-cased. */
export function parseDigestChallenge(value: string): Map<string, string> | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!m) return undefined;
  const params = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[1]!)) !== null) params.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!);
  return params;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** The Authorization header value answering an MD5 challenge (qop=auth when offered). */
export function md5Authorization(o: { user: string; password: string; uri: string; method: string; challenge: Map<string, string>; cnonce?: string }): string {
  const realm = o.challenge.get('realm') ?? '';
  const nonce = o.challenge.get('nonce') ?? '';
  const opaque = o.challenge.get('opaque');
  const qops = (o.challenge.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase());
  const ha1 = md5(`${o.user}:${realm}:${o.password}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  const parts = [`username="${o.user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${o.uri}"`, 'algorithm=MD5'];
  if (qops.includes('auth')) {
    const nc = '00000001';
    const cnonce = o.cnonce ?? randomBytes(8).toString('hex');
    parts.push(`response="${md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)}"`, 'qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  } else {
    parts.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
  }
  if (opaque !== undefined) parts.push(`opaque="${opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

const T1 = 500;
const T2 = 4000;

/** One REGISTER exchange (challenge and authenticated retry); see the module comment. */
export function registerUser(o: RegisterOptions): Promise<RegisterResult> {
  const started = Date.now();
  const timeoutMs = o.timeoutMs ?? 5000;
  const localIp = o.localIp ?? '127.0.0.1';
  const requestUri = `sip:${o.domain}`;
  const callId = `reg-${randomBytes(8).toString('hex')}@test`;
  const fromTag = randomBytes(4).toString('hex');
  const sock = createSocket('udp4');
  let cseq = 0;
  let branch = '';
  let retransmit: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let settled = false;

  return new Promise<RegisterResult>((resolve) => {
    const finish = (ok: boolean, status: number | undefined, reason: string, contacts: string[] = []) => {
      if (settled) return;
      settled = true;
      clearTimeout(retransmit);
      clearTimeout(deadline);
      try {
        sock.close();
      } catch {
        // already closed
      }
      resolve({ ok, status, reason, contacts, elapsedMs: Date.now() - started });
    };

    const send = (authorization?: string) => {
      cseq++;
      branch = `z9hG4bK-${randomBytes(8).toString('hex')}`;
      const port = sock.address().port;
      const lines = [
        `REGISTER ${requestUri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${localIp}:${port};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: <sip:${o.user}@${o.domain}>;tag=${fromTag}`,
        `To: <sip:${o.user}@${o.domain}>`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} REGISTER`,
        `Contact: <${o.contact}>`,
        `Expires: ${o.expires ?? 3600}`,
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'User-Agent: outpost-sync-test',
        'Content-Length: 0',
        '',
        '',
      ];
      const bytes = Buffer.from(lines.join('\r\n'));
      clearTimeout(retransmit);
      let interval = T1;
      const transmit = () => {
        if (settled) return;
        sock.send(bytes, o.target.port, o.target.host, () => undefined);
        retransmit = setTimeout(transmit, interval);
        interval = Math.min(interval * 2, T2);
      };
      transmit();
    };

    sock.on('error', (err) => finish(false, undefined, `socket error: ${err.message}`));
    sock.on('message', (data) => {
      const res = parseResponse(data.toString('latin1'));
      if (!res || settled) return;
      // Only responses to the current request count (not late ones to the challenged REGISTER).
      const cseqHeader = /^(\d+)\s+REGISTER$/i.exec(res.header('cseq') ?? '');
      if (!cseqHeader || Number(cseqHeader[1]) !== cseq || !(res.header('via') ?? '').includes(branch)) return;
      if (res.status < 200) {
        clearTimeout(retransmit); // provisional: the server has it; wait for the final response
        return;
      }
      if (res.status === 401 && cseq === 1) {
        const challenge = res
          .headers('www-authenticate')
          .map(parseDigestChallenge)
          .find((c) => c !== undefined && (c.get('algorithm') ?? 'MD5').toUpperCase() === 'MD5');
        if (!challenge) return finish(false, 401, 'no MD5 challenge offered');
        send(md5Authorization({ user: o.user, password: o.password, uri: requestUri, method: 'REGISTER', challenge }));
        return;
      }
      finish(res.status === 200, res.status, res.reason, res.headers('contact'));
    });
    deadline = setTimeout(() => finish(false, undefined, `no final response within ${timeoutMs} ms`), timeoutMs);
    sock.bind(0, localIp, () => {
      if (!settled) send();
    });
  });
}

/** True only when the REGISTER was answered 200 OK (an acknowledged binding). */
export async function register(o: RegisterOptions): Promise<boolean> {
  return (await registerUser(o)).ok;
}
