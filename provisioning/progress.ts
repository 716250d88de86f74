/**
 * Progress of a write or a read-back (docs/flash.md): on a terminal one line redrawn in place
 * (a bar, percent, MB/s, ETA); otherwise a plain line every 10 % (or every 256 MiB when the
 * size is not known) for logs. The clock is injected.
 */
export interface ProgressOptions {
  label: string;
  total: number | undefined;
  tty: boolean;
  write: (text: string) => void;
  now: () => number;
}

const MIB = 1024 * 1024;
const BAR = 24;

export class Progress {
  private readonly started: number;
  private lastDraw = -Infinity;
  private lastStep = -1;
  private bytes = 0;

  constructor(private readonly o: ProgressOptions) {
    this.started = o.now();
  }

  update(bytes: number): void {
    this.bytes = bytes;
    const t = this.o.now();
    if (this.o.tty) {
      if (t - this.lastDraw < 200) return;
      this.lastDraw = t;
      this.o.write(`\r${this.line(t)}\x1b[K`);
      return;
    }
    const step = this.o.total ? Math.floor((bytes / this.o.total) * 10) : Math.floor(bytes / (256 * MIB));
    if (step === this.lastStep || step === 0) return;
    this.lastStep = step;
    if (this.o.total === undefined || bytes < this.o.total) this.o.write(`${this.line(t)}\n`);
  }

  /** Ends the line; returns the average rate in MB/s (10^6 bytes per second). */
  done(): number {
    const t = this.o.now();
    const rate = this.rate(t);
    const mib = (this.bytes / MIB).toFixed(0);
    const text = `${this.o.label}: ${mib} MiB in ${formatSeconds((t - this.started) / 1000)}, ${rate.toFixed(1)} MB/s`;
    this.o.write(this.o.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
    return rate;
  }

  private rate(t: number): number {
    const s = (t - this.started) / 1000;
    return s > 0 ? this.bytes / 1e6 / s : 0;
  }

  private line(t: number): string {
    const { total, label, tty } = this.o;
    const rate = this.rate(t);
    const mib = (this.bytes / MIB).toFixed(0);
    if (total === undefined) return `${label}: ${mib} MiB, ${rate.toFixed(1)} MB/s`;
    const frac = Math.min(1, this.bytes / total);
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    const eta = rate > 0 ? formatSeconds((total - this.bytes) / 1e6 / rate) : '?';
    const sizes = `${mib}/${(total / MIB).toFixed(0)} MiB`;
    if (!tty) return `${label}: ${pct.trim()} (${sizes}), ${rate.toFixed(1)} MB/s, ETA ${eta}`;
    const filled = Math.round(frac * BAR);
    return `${label.padEnd(6)} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${pct}  ${sizes}  ${rate.toFixed(1)} MB/s  ETA ${eta}`;
  }
}

/** `42 s`, `3 min 05 s`. */
export function formatSeconds(s: number): string {
  const whole = Math.max(0, Math.round(s));
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}
