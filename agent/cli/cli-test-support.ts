/**
 * Test helpers for CLI commands run in-process: a commander program with some commands
 * registered, whose printed lines come back as an array and whose failures are thrown.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import * as assert from 'uvu/assert';
import { CliError } from './cli-error.ts';

/** Registers commands on `program`, printing through `out`. */
export type Registration = (program: Command, out: (line: string) => void) => void;

/** A runner for `outpost ...` command lines: returns what they printed, throws what they threw. */
export function cliRunner(register: Registration): (args: string[]) => string[] {
  return (args) => {
    const lines: string[] = [];
    const program = new Command('outpost').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    register(program, (line) => lines.push(line));
    program.parse(args, { from: 'user' });
    return lines;
  };
}

/** Asserts that `args` fail with a one-line CliError matching `message`. */
export function assertRefused(run: (args: string[]) => unknown, args: string[], message: RegExp): void {
  try {
    run(args);
  } catch (err) {
    assert.instance(err, CliError);
    assert.match((err as Error).message, message);
    assert.not.match((err as Error).message, '\n');
    return;
  }
  assert.unreachable(`${args.join(' ')} should fail`);
}

export function writeConfig(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
