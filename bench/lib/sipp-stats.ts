/**
 * Reads the final screens sipp prints on exit (scenario screen + statistics screen) into
 * numbers. Only what the register bench needs; unknown values are -1.
 */

export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  /** Seconds between sipp's "Start Time" and "Current Time" at exit. */
  elapsedS: number;
  /** Highest number of registrations in flight at once. */
  peakConcurrent: number;
  /** Retransmissions sipp sent (all request rows of the scenario screen). */
  retransmissions: number;
  /** Messages sipp gave up on (Timeout column) and responses it did not expect. */
  timeouts: number;
  unexpected: number;
  /** UDP send/recv/congestion errors sipp counted. */
  udpErrors: number;
}

const epoch = (stdout: string, label: string): number => {
  const m = new RegExp(`${label}\\s*\\|[^\\n]*?\\s(\\d+\\.\\d+)\\s*\\n`).exec(stdout);
  return m ? Number(m[1]) : NaN;
};

const cumulative = (stdout: string, label: string): number => {
  const m = new RegExp(`${label}\\s*\\|[^|\\n]*\\|\\s*(\\d+)`).exec(stdout);
  return m ? Number(m[1]) : -1;
};

export function parseSippStats(stdout: string): SippStats {
  // sipp prints the screens more than once; the final ones are last.
  const at = stdout.lastIndexOf('Scenario Screen');
  const tail = at >= 0 ? stdout.slice(at) : stdout;

  let retransmissions = 0;
  let timeouts = 0;
  let unexpected = 0;
  for (const line of tail.split('\n')) {
    // Request rows: "    REGISTER ---------->   <msgs>   <retrans>   <timeout>"
    let m = /^\s*\S+ -+>\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) {
      retransmissions += Number(m[2]);
      timeouts += Number(m[3]);
      continue;
    }
    // Response rows: "         401 <----------   <msgs>   <retrans>   <timeout>   <unexpected>"
    m = /^\s*\S+ <-+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) {
      timeouts += Number(m[3]);
      unexpected += Number(m[4]);
    }
  }
  const peak = /Peak was (\d+) calls/.exec(tail);
  const udp = /(\d+)\/(\d+)\/(\d+) UDP errors/.exec(tail);
  const start = epoch(tail, 'Start Time');
  const now = epoch(tail, 'Current Time');
  return {
    created: cumulative(tail, 'Total Calls created'),
    successful: cumulative(tail, 'Successful call'),
    failed: cumulative(tail, 'Failed call'),
    elapsedS: Number.isFinite(start) && Number.isFinite(now) ? now - start : -1,
    peakConcurrent: peak ? Number(peak[1]) : -1,
    retransmissions,
    timeouts,
    unexpected,
    udpErrors: udp ? Number(udp[1]) + Number(udp[2]) + Number(udp[3]) : -1,
  };
}
