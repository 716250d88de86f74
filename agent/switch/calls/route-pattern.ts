/**
 * Why a dial pattern is invalid, for `outpost route add` and the admin op `route.add`: the first offending character with
 * its position and what is allowed there. It follows the grammar of compilePattern() in
 * switch/calls/dial-plan.ts, which only answers valid or not; route-pattern.test.ts checks
 * that the two agree.
 */

const ALLOWED = 'digits, * # +, X (0-9), Z (1-9), N (2-9), a set such as [1-5] or [135], and a final . (one or more of anything)';

/** The reason `pattern` is not a valid dial pattern, or undefined when it is valid. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return `a pattern cannot be empty; it may hold ${ALLOWED}`;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const at = `character ${i + 1}`;
    if (/[0-9*#+XxZzNn]/.test(c)) continue;
    if (c === '.') {
      if (i === pattern.length - 1) continue;
      return `${at} is "." but "." is allowed only as the last character (one or more of anything)`;
    }
    if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) return `the set opened at ${at} has no closing "]"`;
      const problem = setProblem(pattern.slice(i + 1, end));
      if (problem) return `the set "${pattern.slice(i, end + 1)}" at ${at} ${problem}`;
      i = end;
      continue;
    }
    return `${at} "${c}" is not allowed; a pattern may hold ${ALLOWED}`;
  }
  return undefined;
}

/** What is wrong with the inside of a `[...]` set: digits and ascending ranges such as 1-5. */
function setProblem(set: string): string | undefined {
  if (set === '') return 'is empty: list digits or ranges, e.g. [1-5] or [135]';
  if (!/^[0-9]([0-9]|-[0-9])*$/.test(set)) return 'may hold only digits and ranges of two digits such as 1-5';
  for (const m of set.matchAll(/([0-9])-([0-9])/g)) {
    if (m[1]! > m[2]!) return `has the range ${m[0]}, which goes downwards: write it low to high (${m[2]}-${m[1]})`;
  }
  return undefined;
}
