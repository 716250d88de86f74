/**
 * systemd's service notification protocol (sd_notify(3), "Notify socket" in systemd.exec(5)):
 * READY=1 once the node serves, then WATCHDOG=1 every half of WatchdogSec while the event loop
 * runs, so a hung agent is restarted. Each message is one datagram to $NOTIFY_SOCKET, sent through libc
 * with koffi because Node's dgram has no AF_UNIX datagram sockets; sending from the main
 * process itself means systemd needs no NotifyAccess=all. Without NOTIFY_SOCKET (not started by
 * systemd, or Type=simple) the notifier does nothing.
 */
import koffi from 'koffi';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
/** sizeof(sockaddr_un.sun_path) on Linux. */
const SUN_PATH_MAX = 108;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  close(fd: number): number;
}

export interface SystemdNotifierOptions {
  /** The environment systemd started the process with (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). */
  env: NodeJS.ProcessEnv;
  pid: number;
  /** Called when a datagram could not be sent; the node keeps running. */
  onError?: (message: string) => void;
}

export class SystemdNotifier {
  readonly #address: Buffer | undefined;
  readonly #watchdogMs: number | undefined;
  readonly #onError: (message: string) => void;
  #libc: Libc | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SystemdNotifierOptions) {
    this.#address = socketAddress(options.env.NOTIFY_SOCKET);
    const usec = Number(options.env.WATCHDOG_USEC);
    const forUs = options.env.WATCHDOG_PID === undefined || Number(options.env.WATCHDOG_PID) === options.pid;
    this.#watchdogMs = this.#address && forUs && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : undefined;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** True when the process runs under systemd with a notify socket. */
  get enabled(): boolean {
    return this.#address !== undefined;
  }

  /** READY=1, and from now on WATCHDOG=1 at half the watchdog interval (when there is one). */
  ready(status: string): void {
    this.#send(`READY=1\nSTATUS=${status}`);
    if (this.#watchdogMs !== undefined && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#send('WATCHDOG=1'), this.#watchdogMs);
      this.#timer.unref();
    }
  }

  /** No more watchdog pings (systemd learns of the stop from the signal it sent). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #send(message: string): void {
    if (this.#address === undefined) return;
    const libc = (this.#libc ??= loadLibc());
    const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return this.#onError('sd_notify: socket() failed');
    const payload = Buffer.from(message);
    const sent = libc.sendto(fd, payload, payload.length, 0, this.#address, this.#address.length);
    libc.close(fd);
    if (sent !== payload.length) this.#onError(`sd_notify: sendto() returned ${sent}`);
  }
}

/** struct sockaddr_un for a path, or for an abstract name ('@name'); undefined when unusable. */
export function socketAddress(path: string | undefined): Buffer | undefined {
  if (path === undefined || path.length < 2 || (path[0] !== '/' && path[0] !== '@')) return undefined;
  const name = Buffer.from(path);
  if (path[0] === '@') name[0] = 0;
  if (name.length > (path[0] === '/' ? SUN_PATH_MAX - 1 : SUN_PATH_MAX)) return undefined;
  const address = Buffer.alloc(2 + name.length + (path[0] === '/' ? 1 : 0));
  address.writeUInt16LE(AF_UNIX, 0); // sa_family_t in host order: x64 and arm64 are little-endian
  name.copy(address, 2);
  return address;
}

function loadLibc(): Libc {
  const lib = koffi.load('libc.so.6');
  return {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    sendto: lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    close: lib.func('int close(int fd)'),
  };
}
