#!/usr/bin/env node
// The `outpost-flash` executable (docs/flash.md): loads the TypeScript tool through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv);
