#!/usr/bin/env node
// The `outpost` executable: loads the TypeScript agent through tsx and runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../agent/cli/main.ts');
process.exitCode = await main(process.argv);
