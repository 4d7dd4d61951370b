#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`, which `npm ci` runs via `prepare`).
// Falls back to the TypeScript sources, which Node >= 22.18 runs natively by stripping types.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(built) ? built : source;
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
