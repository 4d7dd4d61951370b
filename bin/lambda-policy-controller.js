#!/usr/bin/env -S node --max-semi-space-size=2
// Entry point of the npm bin. The small young generation (--max-semi-space-size=2, in the shebang because V8 takes
// it only at start-up) keeps the controller under 200 MB RSS at 10,000 functions at no cost in planning CPU
// (docs/benchmarks.md).
// In a checkout, Node >= 22.18 runs the TypeScript sources directly (type stripping),
// so there is no build step to forget; an installed package (under node_modules, where Node refuses to strip
// types) runs the compiled dist/ that `npm run build` makes before packing.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);
const canRunSource = process.features.typescript && existsSync(source) && !import.meta.url.includes('/node_modules/');
const { main } = await import((canRunSource ? source : built).href);
process.exitCode = await main(process.argv.slice(2));
