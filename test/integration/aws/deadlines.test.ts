/**
 * Every AWS attempt has a deadline: servers that accept a connection and then stall (never answer, answer headers
 * and stop, trickle the body byte by byte) make the real SDK fail the attempt as a retryable timeout, the rate
 * limiter retries it a bounded number of times, and the read fails instead of hanging. Without the deadlines each
 * of these tests hangs until vitest's own timeout.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEADLINE_ENV, type Deadlines, resolveDeadlines } from '../../../src/aws/clients.ts';
import { createAws, readFleet } from '../../../src/aws/index.ts';
import { runCli } from '../cli/harness.ts';

const REGION = 'eu-central-1';
const LONG = 120_000;

interface Stall {
  url: string;
  attempts: () => number;
  close: () => Promise<void>;
}

const open: Stall[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Accepts TCP connections, reads whatever is sent, never writes a byte. */
async function silentServer(): Promise<Stall> {
  const sockets = new Set<Socket>();
  let attempts = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => {
      attempts += 1;
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return register(server, sockets, () => attempts);
}

/** An HTTP server that answers 200 with headers, then either stops (`stop`) or sends one byte every 50 ms. */
async function stallingHttpServer(mode: 'stop' | 'trickle'): Promise<Stall> {
  const sockets = new Set<Socket>();
  let attempts = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: HttpServer = createHttpServer((req, res) => {
    attempts += 1;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000000' });
    res.write('{"Functions":[');
    if (mode === 'trickle') {
      const t = setInterval(() => res.write(' '), 50);
      timers.add(t);
      res.on('close', () => clearInterval(t));
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stall = register(server, sockets, () => attempts);
  return {
    ...stall,
    close: async () => {
      for (const t of timers) clearInterval(t);
      await stall.close();
    },
  };
}

function register(server: Server, sockets: Set<Socket>, attempts: () => number): Stall {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const stall: Stall = {
    url: `http://127.0.0.1:${address.port}`,
    attempts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.push(stall);
  return stall;
}

async function readAgainst(url: string, deadlines: Partial<Deadlines>): Promise<unknown> {
  const aws = createAws({
    regions: [REGION],
    env: {},
    endpoint: url,
    deadlines,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  });
  try {
    await readFleet(aws, [REGION], () => []);
    return undefined;
  } catch (err) {
    return err;
  } finally {
    aws.destroy();
  }
}

describe('AWS call deadlines', () => {
  it('a server that accepts and never answers: the response deadline fails each attempt, retried 3 times', async () => {
    const server = await silentServer();
    const err = await readAgainst(server.url, { responseMs: 200, socketIdleMs: LONG, attemptMs: LONG });
    expect(err).toMatchObject({ code: 'Retryable' });
    expect(String((err as Error).message)).toMatch(/requestTimeout|timed out|deadline/);
    // Every bulk list of the region is sent 3 times (first attempt + 2 retries), then the read gives up.
    expect(server.attempts()).toBeGreaterThanOrEqual(3);
  });

  it('headers, then silence: the socket inactivity deadline fails the attempt', async () => {
    const server = await stallingHttpServer('stop');
    const err = await readAgainst(server.url, { responseMs: LONG, socketIdleMs: 200, attemptMs: LONG });
    expect(err).toMatchObject({ code: 'Retryable' });
    expect(server.attempts()).toBeGreaterThanOrEqual(3);
  });

  it('a body trickled byte by byte (never idle): the whole-attempt deadline fails it', async () => {
    const server = await stallingHttpServer('trickle');
    const err = await readAgainst(server.url, { responseMs: LONG, socketIdleMs: LONG, attemptMs: 300 });
    expect(err).toMatchObject({ code: 'Retryable' });
    expect(server.attempts()).toBeGreaterThanOrEqual(3);
  });

  it(`plan exits 1 naming the timeout when AWS hangs (${DEADLINE_ENV} shortens every deadline)`, async () => {
    const server = await silentServer();
    const previous = process.env[DEADLINE_ENV];
    process.env[DEADLINE_ENV] = '200';
    try {
      const result = await runCli([
        'plan',
        '-f',
        'test/fixtures/cli/policies',
        '--regions',
        REGION,
        '--aws-endpoint',
        server.url,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/timeout|timed out|deadline/i);
    } finally {
      if (previous === undefined) delete process.env[DEADLINE_ENV];
      else process.env[DEADLINE_ENV] = previous;
    }
  });
  it('doctor reports every probe as failed by the deadline (not a hang) and exits 1', async () => {
    const server = await silentServer();
    const previous = process.env[DEADLINE_ENV];
    process.env[DEADLINE_ENV] = '200';
    try {
      const result = await runCli(['doctor', '--regions', REGION, '--aws-endpoint', server.url, '-o', 'json']);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      const report = JSON.parse(result.stdout) as {
        identity: { status: string };
        regions: { checks: { name: string; status: string; detail: string }[] }[];
      };
      expect(report.identity.status).toBe('fail');
      const checks = report.regions.flatMap((r) => r.checks);
      expect(checks.find((c) => c.name === 'lambda:ListFunctions')).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/timeout|timed out|deadline/i),
      });
      expect(checks.some((c) => c.status === 'ok')).toBe(false);
    } finally {
      if (previous === undefined) delete process.env[DEADLINE_ENV];
      else process.env[DEADLINE_ENV] = previous;
    }
  });
});

describe('AWS answer size bound', () => {
  async function bigAnswer(declareLength: boolean): Promise<Stall> {
    const sockets = new Set<Socket>();
    let attempts = 0;
    const server: HttpServer = createHttpServer((req, res) => {
      attempts += 1;
      req.resume();
      const body = `{"Functions":[${Array.from({ length: 20_000 }, () => '{"FunctionName":"f"}').join(',')}]}`;
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(declareLength ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      });
      res.end(body);
    });
    server.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return register(server, sockets, () => attempts);
  }

  it.each([
    ['declared by Content-Length (refused before reading)', true],
    ['streamed without a length (counted while read)', false],
  ])('an answer above the bound fails, %s, and is not retried', async (_label, declared) => {
    const server = await bigAnswer(declared);
    const aws = createAws({ regions: [REGION], env: {}, endpoint: server.url, maxResponseBytes: 100_000 });
    try {
      const err = await readFleet(aws, [REGION], () => []).catch((e: unknown) => e);
      expect(String((err as Error).message)).toMatch(/exceeds the 100000-byte limit/);
      expect(err).toMatchObject({ code: 'Unexpected' });
    } finally {
      aws.destroy();
    }
  });

  it('an answer sending more than its Content-Length is read as the declared bytes only (the bound holds)', async () => {
    // The bound trusts a declared length: Node's HTTP parser must never hand on more body than it declares.
    const sockets = new Set<Socket>();
    const declaredBody = '{"Functions":[{"FunctionName":"f"}]}';
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' +
            `Content-Length: ${Buffer.byteLength(declaredBody)}\r\nConnection: close\r\n\r\n${declaredBody}`,
        );
        socket.end(`,${'{"FunctionName":"g"},'.repeat(20_000)}]}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stall = register(server, sockets, () => 0);
    const aws = createAws({ regions: [REGION], env: {}, endpoint: stall.url, maxResponseBytes: 100_000 });
    try {
      const { listAllFunctions } = await import('../../../src/aws/inventory.ts');
      const functions = await listAllFunctions(aws, REGION);
      expect(functions.map((f) => f.FunctionName)).toEqual(['f']);
    } finally {
      aws.destroy();
    }
  });

  it('the whole-attempt deadline of an answer read in full is cleared, declared length or not', async () => {
    // An answer passed on without a counting stream must still release its deadline once read: a timer left behind
    // per call would hold every answer for the whole deadline.
    const attemptMs = 987_654;
    const live = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const t = realSet(fn, ms);
      if (ms === attemptMs) live.add(t);
      return t;
    }) as typeof setTimeout);
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((t?: NodeJS.Timeout) => {
      live.delete(t);
      realClear(t);
    }) as typeof clearTimeout);
    try {
      for (const declared of [true, false]) {
        const server = await bigAnswer(declared);
        const aws = createAws({ regions: [REGION], env: {}, endpoint: server.url, deadlines: { attemptMs } });
        try {
          const { listAllFunctions } = await import('../../../src/aws/inventory.ts');
          expect(await listAllFunctions(aws, REGION)).toHaveLength(20_000);
          await new Promise((resolve) => realSet(resolve, 20));
          expect(setSpy.mock.calls.some(([, ms]) => ms === attemptMs)).toBe(true);
          expect(live.size).toBe(0);
        } finally {
          aws.destroy();
        }
      }
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });

  it('the same answer within the bound is read', async () => {
    const server = await bigAnswer(false);
    const aws = createAws({ regions: [REGION], env: {}, endpoint: server.url });
    try {
      const { listAllFunctions } = await import('../../../src/aws/inventory.ts');
      expect(await listAllFunctions(aws, REGION)).toHaveLength(20_000);
    } finally {
      aws.destroy();
    }
  });
});

describe('resolveDeadlines', () => {
  it('defaults, the environment override and explicit options, in that order', () => {
    expect(resolveDeadlines({ env: {} })).toEqual({
      connectMs: 5000,
      responseMs: 30000,
      socketIdleMs: 30000,
      attemptMs: 60000,
    });
    expect(resolveDeadlines({ env: { [DEADLINE_ENV]: '250' } })).toEqual({
      connectMs: 250,
      responseMs: 250,
      socketIdleMs: 250,
      attemptMs: 250,
    });
    expect(resolveDeadlines({ env: { [DEADLINE_ENV]: '250' }, requestTimeoutMs: 100 }).responseMs).toBe(100);
    expect(() => resolveDeadlines({ env: {}, deadlines: { attemptMs: 0 } })).toThrow(RangeError);
  });
});
