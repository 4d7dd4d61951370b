import { afterEach, describe, expect, it } from 'vitest';
import { controllerReadiness, HealthServer, parseAddress } from '../../../src/controller/health.ts';
import { ControllerMetrics } from '../../../src/controller/metrics.ts';

const servers: HealthServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(options: ConstructorParameters<typeof HealthServer>[0]) {
  const server = new HealthServer(options);
  servers.push(server);
  return (await server.start()).url;
}

describe('parseAddress', () => {
  it.each([
    [':8080', { host: undefined, port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    ['8081', { host: undefined, port: 8081 }],
  ])('%s', (address, expected) => {
    expect(parseAddress(address)).toEqual(expected);
  });

  it('rejects nonsense', () => {
    expect(() => parseAddress('host:http')).toThrow(RangeError);
  });
});

describe('HealthServer', () => {
  it('readyz follows the watcher and leader state; healthz stays up', async () => {
    let synced = false;
    let leading = false;
    const url = await serve({
      address: '127.0.0.1:0',
      readiness: controllerReadiness({ watcherReady: () => synced, isLeader: () => leading }),
    });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    synced = true;
    const standby = await fetch(`${url}/readyz`);
    expect(standby.status).toBe(200);
    expect(await standby.text()).toContain('[+]leader ok: standby');
    leading = true;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('a standby can be made unready', async () => {
    const url = await serve({
      address: '127.0.0.1:0',
      readiness: controllerReadiness({ watcherReady: () => true, isLeader: () => false, standbyReady: false }),
    });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
  });

  it('a failing AWS region is named in /readyz but keeps the instance ready (a restart cannot fix AWS)', async () => {
    const unavailable = new Map<string, string>();
    const url = await serve({
      address: '127.0.0.1:0',
      readiness: controllerReadiness({ watcherReady: () => true, unavailableRegions: () => unavailable }),
    });
    expect(await (await fetch(`${url}/readyz`)).text()).toContain('[+]aws ok\n');
    unavailable.set('us-east-1', 'AWS in us-east-1: timed out');
    unavailable.set('eu-central-1', 'AWS in eu-central-1: AccessDenied');
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(
      '[+]aws ok: unavailable: AWS in eu-central-1: AccessDenied; AWS in us-east-1: timed out\n',
    );
  });

  it('a throwing liveness check fails healthz', async () => {
    const url = await serve({
      address: '127.0.0.1:0',
      liveness: {
        lease: () => {
          throw new Error('wedged');
        },
      },
    });
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('wedged');
  });

  it('serves the metrics registry', async () => {
    const metrics = new ControllerMetrics({ processMetrics: false });
    metrics.observeReconcile('success', 12);
    metrics.observeAwsCall({
      api: 'ListFunctions',
      bucket: 'lambda',
      region: 'eu-central-1',
      outcome: 'throttled',
      durationMs: 3,
    });
    metrics.setFunctionStates('platform/api', { Compliant: 3, Drifted: 1 });
    metrics.setLeader(true);
    metrics.workqueue.depth(4);
    metrics.statusWrites.inc({ result: 'written' });
    const url = await serve({ address: '127.0.0.1:0', metrics: () => metrics.render() });
    const res = await fetch(`${url}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    for (const line of [
      'controller_runtime_reconcile_total{controller="lambdapolicy",result="success"} 1',
      'lpc_aws_calls_total{api="ListFunctions",bucket="lambda",outcome="throttled"} 1',
      'lpc_aws_throttles_total{api="ListFunctions",bucket="lambda"} 1',
      'lpc_functions{policy="platform/api",state="Drifted"} 1',
      'lpc_functions{policy="platform/api",state="Failed"} 0',
      'leader_election_master_status{name="lambda-policy-controller"} 1',
      'workqueue_depth{name="lambdapolicy",controller="lambdapolicy"} 4',
      'lpc_status_writes_total{result="written"} 1',
    ]) {
      expect(text).toContain(line);
    }
    metrics.forgetPolicy('platform/api');
    expect(await (await fetch(`${url}/metrics`)).text()).not.toContain('policy="platform/api"');
  });

  it('two metrics instances do not collide', () => {
    expect(() => {
      new ControllerMetrics();
      new ControllerMetrics();
    }).not.toThrow();
  });
});
