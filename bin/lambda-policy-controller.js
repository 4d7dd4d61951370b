#!/usr/bin/env -S node --max-semi-space-size=2
// Entry point of the npm bin. The small young generation (--max-semi-space-size=2, in the shebang because V8 takes
// it only at start-up) keeps the controller under 200 MB RSS at 10,000 functions at no cost in planning CPU
// (docs/benchmarks.md).
// In a checkout, Node >= 22.18 runs the TypeScript sources directly (type stripping),
// so there is no build step to forget; an installed package (under node_modules, where Node refuses to strip
// types) runs the compiled dist/ that `npm run build` makes before packing.
import { existsSync } from 'node:fs';

// As PID 1 of a container, Node gets no default action for SIGTERM/SIGINT: a command that does not listen for them
// (`plan`, `apply`) would ignore `docker stop` / a pod deletion until SIGKILL. This listener exits with the usual
// 128+signal code, but only when it is the sole listener: `run`, `demo` and `emulator` add their own for a graceful
// shutdown, and then this one stays out of the way (for their first signal; a second one ends the process).
for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
]) {
  const exitUnlessHandled = () => {
    if (process.listenerCount(signal) === 1) process.exit(code);
  };
  process.on(signal, exitUnlessHandled);
}

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);
const canRunSource = process.features.typescript && existsSync(source) && !import.meta.url.includes('/node_modules/');
const { main } = await import((canRunSource ? source : built).href);
process.exitCode = await main(process.argv.slice(2));
