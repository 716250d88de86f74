/** Prometheus' text format, read back by the tests of /metrics. */
import { HarnessError } from './harness-error.ts';

/** Prometheus text: sample name with labels → value; and the names of `# TYPE` lines with their type. */
export function parseProm(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
    } else if (line && !line.startsWith('#')) {
      const space = line.lastIndexOf(' ');
      const value = Number(line.slice(space + 1));
      // Go's ParseFloat, which Prometheus uses, takes NaN in any case (prom-client writes `Nan`).
      if (Number.isNaN(value) && !/^nan$/i.test(line.slice(space + 1))) throw new HarnessError(`not a sample: ${line}`);
      samples.set(line.slice(0, space), value);
    }
  }
  return { samples, types };
}
