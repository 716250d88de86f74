/**
 * A network lab of Linux network namespaces for the partition drills
 * (test/integration/partition-drills.test.ts, docs/partition-drills.md): one namespace `lan`
 * holding a bridge, and one namespace per host, each with a veth (`eth0` in the host, `v-<host>`
 * on the bridge) and an address 10.254.<subnet>.<n>/24. Nothing is created in the caller's own
 * namespace, and traffic never leaves the lab's namespaces. Names carry a random suffix, so
 * labs of parallel runs never meet.
 *
 * Links are cut as a cable would be: cut(a, b) drops, in the INPUT chain of both a and b
 * (iptables), every packet from the other (silent: no ICMP, no EPERM to the sender);
 * isolate(x) sets x's bridge port down. heal/rejoin undo them. destroy() kills every process
 * still inside the lab's namespaces (by pid: the namespaces are the lab's own) and deletes the
 * namespaces; it also runs, synchronously, when the test process exits (a failure, SIGINT).
 * Needs root, `ip` (iproute2) and `iptables`; netnsUnavailable() says why a lab cannot be made.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { HarnessError } from './harness-error.ts';

export interface LabOptions {
  /** Host names (letters, digits, dashes; at most 12 characters). The bridge namespace is `lan`. */
  hosts: string[];
  /** The third octet of 10.254.x.0/24 (default 1). */
  subnet?: number;
}

/** Why this process cannot build a lab (not root, no `ip netns`, no iptables), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test process is not root';
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['iptables', ['--version']]] as const) {
    const res = spawnSync(cmd, args, { encoding: 'utf8' });
    if (res.error || res.status !== 0) return `\`${cmd} ${args.join(' ')}\` failed: ${res.error?.message ?? res.stderr.trim()}`;
  }
  return undefined;
}

/** Runs a command to completion; a non-zero exit is a HarnessError naming it. */
function run(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.error || res.status !== 0) throw new HarnessError(`${cmd} ${args.join(' ')}: ${res.error?.message ?? `exit ${res.status}: ${res.stderr.trim()}`}`);
  return res.stdout;
}

export class NetLab {
  readonly id = randomBytes(3).toString('hex');
  private readonly hosts: string[];
  private readonly subnet: number;
  private readonly created: string[] = [];
  private readonly cuts = new Set<string>();
  private readonly isolated = new Set<string>();
  private destroyed = false;
  private readonly onExit = () => this.destroySync();

  private constructor(o: LabOptions) {
    this.hosts = o.hosts;
    this.subnet = o.subnet ?? 1;
    for (const h of o.hosts) if (!/^[a-z0-9-]{1,12}$/.test(h) || h === 'lan') throw new HarnessError(`bad lab host name "${h}"`);
  }

  /** Builds the namespaces, the bridge, the veths and the addresses; on failure removes what it made. */
  static create(o: LabOptions): NetLab {
    const lab = new NetLab(o);
    process.on('exit', lab.onExit);
    try {
      lab.build();
    } catch (err) {
      lab.destroySync();
      throw err;
    }
    return lab;
  }

  private build(): void {
    const lan = this.ns('lan');
    this.addNs(lan);
    run('ip', ['-n', lan, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', lan, 'link', 'set', 'br0', 'up']);
    for (const h of this.hosts) {
      const ns = this.ns(h);
      this.addNs(ns);
      run('ip', ['-n', lan, 'link', 'add', `v-${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      run('ip', ['-n', lan, 'link', 'set', `v-${h}`, 'master', 'br0', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${this.addr(h)}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
  }

  private addNs(ns: string): void {
    run('ip', ['netns', 'add', ns]);
    this.created.push(ns);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** The namespace of a host (or of the bridge, `lan`). */
  ns(host: string): string {
    if (host !== 'lan' && !this.hosts.includes(host)) throw new HarnessError(`no host ${host} in lab ${this.id}`);
    return `op-${this.id}-${host}`;
  }

  /** The host's IPv4 address on the lab's LAN. */
  addr(host: string): string {
    const i = this.hosts.indexOf(host);
    if (i < 0) throw new HarnessError(`no host ${host} in lab ${this.id}`);
    return `10.254.${this.subnet}.${i + 1}`;
  }

  /** The command prefix that runs a program inside the host's namespace (`ip netns exec` execs it: same pid). */
  prefix(host: string): string[] {
    return ['ip', 'netns', 'exec', this.ns(host)];
  }

  /** Runs a command inside the host's namespace to completion; returns its stdout. */
  exec(host: string, cmd: string, args: string[]): string {
    return run('ip', ['netns', 'exec', this.ns(host), cmd, ...args]);
  }

  /** Spawns a program inside the host's namespace. */
  spawn(host: string, cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.ns(host), cmd, ...args], options);
  }

  /** Drops every packet between a and b, in both directions (INPUT of each). Idempotent. */
  cut(a: string, b: string): void {
    const key = [a, b].sort().join(' ');
    if (this.cuts.has(key)) return;
    this.exec(a, 'iptables', ['-A', 'INPUT', '-s', this.addr(b), '-j', 'DROP']);
    this.exec(b, 'iptables', ['-A', 'INPUT', '-s', this.addr(a), '-j', 'DROP']);
    this.cuts.add(key);
  }

  /** Undoes cut(a, b). */
  heal(a: string, b: string): void {
    const key = [a, b].sort().join(' ');
    if (!this.cuts.has(key)) return;
    this.exec(a, 'iptables', ['-D', 'INPUT', '-s', this.addr(b), '-j', 'DROP']);
    this.exec(b, 'iptables', ['-D', 'INPUT', '-s', this.addr(a), '-j', 'DROP']);
    this.cuts.delete(key);
  }

  /** Unplugs the host from the bridge (its bridge port down): it reaches no one. */
  isolate(host: string): void {
    run('ip', ['-n', this.ns('lan'), 'link', 'set', `v-${host}`, 'down']);
    this.isolated.add(host);
  }

  /** Undoes isolate(host). */
  rejoin(host: string): void {
    run('ip', ['-n', this.ns('lan'), 'link', 'set', `v-${host}`, 'up']);
    this.isolated.delete(host);
  }

  /** Undoes every cut and isolation still in force. */
  healAll(): void {
    for (const key of [...this.cuts]) {
      const [a, b] = key.split(' ') as [string, string];
      this.heal(a, b);
    }
    for (const h of [...this.isolated]) this.rejoin(h);
  }

  /** What is cut right now, for failure messages. */
  describe(): string {
    return `lab ${this.id}: cuts [${[...this.cuts].join(', ')}], isolated [${[...this.isolated].join(', ')}]`;
  }

  /** Kills what still runs inside the lab, deletes its namespaces (with their veths and the bridge). */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    for (const ns of [...this.created].reverse()) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split('\n').map(Number).filter((p) => p > 0)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
}
