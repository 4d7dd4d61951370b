/**
 * `/healthz` (liveness), `/readyz` (readiness) and `/metrics` over plain node:http. One server can serve all
 * three, or metrics and health can listen on different addresses (`--metrics-addr`, `--health-addr`).
 *
 * Readiness = the policy watcher has synced, and this instance is either the leader or an acceptable standby
 * (a standby is ready: it must not be restarted for waiting its turn). Liveness fails only when a check says
 * the process is wedged (e.g. the leader lost its lease but did not exit), so Kubernetes restarts it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareOrdinal } from '../shared/compare.ts';
import { truncate } from '../shared/text.ts';

export type Check = () => { ok: boolean; detail?: string | undefined };

export interface HealthServerOptions {
  /** `host:port`, `:port` or a port; port 0 picks a free one (tests). */
  address: string;
  /** Checks for /readyz (all must pass). */
  readiness?: Record<string, Check>;
  /** Checks for /healthz (all must pass). */
  liveness?: Record<string, Check>;
  /** Serves /metrics when given. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

export function parseAddress(address: string): { host: string | undefined; port: number } {
  const trimmed = address.trim();
  const i = trimmed.lastIndexOf(':');
  const hostPart = i < 0 ? '' : trimmed.slice(0, i);
  const portPart = i < 0 ? trimmed : trimmed.slice(i + 1);
  const port = Number(portPart);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid address ${address}`);
  const host = hostPart.replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port };
}

function runChecks(checks: Record<string, Check> | undefined): { ok: boolean; text: string } {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of Object.entries(checks ?? {})) {
    let r: { ok: boolean; detail?: string | undefined };
    try {
      r = check();
    } catch (error) {
      r = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    ok &&= r.ok;
    lines.push(`[${r.ok ? '+' : '-'}]${name} ${r.ok ? 'ok' : 'failed'}${r.detail ? `: ${r.detail}` : ''}`);
  }
  lines.push(ok ? 'ok' : 'check failed');
  return { ok, text: `${lines.join('\n')}\n` };
}

export class HealthServer {
  private readonly server: Server;
  private readonly options: HealthServerOptions;

  constructor(options: HealthServerOptions) {
    this.options = options;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end('internal error\n');
      });
    });
  }

  async start(): Promise<{ host: string; port: number; url: string }> {
    const { host, port } = parseAddress(this.options.address);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `http://${shownHost}:${addr.port}` };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz' || path === '/livez') return this.reply(res, runChecks(this.options.liveness));
    if (path === '/readyz') return this.reply(res, runChecks(this.options.readiness));
    if (path === '/metrics' && this.options.metrics) {
      const { contentType, body } = await this.options.metrics();
      res.writeHead(200, { 'Content-Type': contentType }).end(body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }

  private reply(res: ServerResponse, result: { ok: boolean; text: string }): void {
    res.writeHead(result.ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(result.text);
  }
}

/** The readiness rule of the controller: watcher synced + (leader or standby). */
export function controllerReadiness(deps: {
  watcherReady: () => boolean;
  /** undefined when leader election is off (then this instance is always the active one). */
  isLeader?: () => boolean;
  /** Whether a non-leader counts as ready (default true: standbys are healthy, they wait their turn). */
  standbyReady?: boolean;
  /** Regions whose last read failed, with the message: shown as detail, never failing readiness. */
  unavailableRegions?: () => ReadonlyMap<string, string>;
}): Record<string, Check> {
  return {
    ...(deps.unavailableRegions ? { aws: awsDetail(deps.unavailableRegions) } : {}),
    informer: () => ({
      ok: deps.watcherReady(),
      detail: deps.watcherReady() ? undefined : 'policy list not synced yet',
    }),
    leader: () => {
      if (!deps.isLeader) return { ok: true };
      const leading = deps.isLeader();
      return leading ? { ok: true, detail: 'leading' } : { ok: deps.standbyReady ?? true, detail: 'standby' };
    },
  };
}

/**
 * A stalled or failing region is the controller's news, not a reason to restart it or take it out of service (a
 * restart cannot fix AWS, and a standby would see the same): the check stays ok and names the regions and why.
 */
function awsDetail(unavailable: () => ReadonlyMap<string, string>): Check {
  return () => {
    const regions = [...unavailable()].sort(([a], [b]) => compareOrdinal(a, b));
    if (regions.length === 0) return { ok: true };
    return { ok: true, detail: `unavailable: ${regions.map(([, m]) => truncate(m, 200)).join('; ')}` };
  };
}
