/**
 * The controller's own CPU per AWS call, apart from the SDK's: the same small call (Lambda GetAccountSettings)
 * sent N times, 10 at a time, from a fresh child process, through the controller's clients (DeadlineHttpHandler,
 * expired-token middleware, function credentials) and through a bare SDK client (the SDK's own handler). The
 * emulator runs in this process, so the child's CPU is the client's alone. Rounds alternate; medians are printed.
 *
 *   node bench/sdk-call-cpu.ts [calls=3000] [rounds=3]
 */
import { spawn } from 'node:child_process';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createRegionClients } from '../src/aws/clients.ts';
import { startEmulator } from '../src/emulator/index.ts';

type Variant = 'controller' | 'bare';
const REGION = 'us-east-1';

async function client(url: string, variant: Variant, calls: number): Promise<void> {
  const credentials = async () => ({ accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' });
  const lambda =
    variant === 'controller'
      ? createRegionClients(REGION, { endpoint: url, credentials }).lambda
      : new LambdaClient({ region: REGION, endpoint: url, credentials, maxAttempts: 1 });
  const burst = () => Promise.all(Array.from({ length: 10 }, () => lambda.send(new GetAccountSettingsCommand({}))));
  for (let i = 0; i < 30; i++) await burst(); // warm-up: JIT, sockets
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i += 10) await burst();
  const d = process.cpuUsage(before);
  lambda.destroy();
  process.stdout.write(`${(d.user + d.system) / calls}\n`);
}

function runClient(url: string, variant: Variant, calls: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=2', import.meta.filename, '--client', url, variant, String(calls)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`client ${code}`)))),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

if (process.argv[2] === '--client') {
  await client(process.argv[3] as string, process.argv[4] as Variant, Number(process.argv[5]));
} else {
  const calls = Number(process.argv[2] ?? 3000);
  const rounds = Number(process.argv[3] ?? 3);
  const emulator = await startEmulator({ port: 0, tickMs: 0 });
  try {
    const by: Record<Variant, number[]> = { controller: [], bare: [] };
    for (let r = 0; r < rounds; r++) {
      for (const v of ['controller', 'bare'] as const) by[v].push(await runClient(emulator.url, v, calls));
    }
    const c = median(by.controller);
    const b = median(by.bare);
    process.stdout.write(
      `CPU per call (${calls} GetAccountSettings, median of ${rounds}): controller's clients ${c.toFixed(0)} us, ` +
        `bare SDK client ${b.toFixed(0)} us, the controller's own ${(c - b).toFixed(0)} us\n`,
    );
  } finally {
    await emulator.stop();
  }
}
