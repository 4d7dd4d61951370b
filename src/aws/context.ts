/**
 * The handle every adapter function takes: per-region clients, the shared rate limiter and the call counter.
 * Created by `createAws` (index.ts). `scoped()` gives a view that additionally reports its own calls to a
 * listener, so one read or one execution can count exactly its calls while others run concurrently.
 */

import { type Clock, systemClock } from '../shared/clock.ts';
import { CallCounter } from './calls.ts';
import { ClientPool, type ClientsConfig, defaultRegion, type RegionClients } from './clients.ts';
import { type CallSpec, type OnCall, RateLimiter, type RateLimiterOptions } from './ratelimit.ts';

export type FetchLike = (url: string) => Promise<Response>;

export interface AwsConfig extends ClientsConfig, Omit<RateLimiterOptions, 'onCall'> {
  /** Regions to read; default AWS_REGION / AWS_DEFAULT_REGION. */
  regions?: string[] | undefined;
  /** Receives every attempt: api, bucket, region, outcome, durationMs. */
  onCall?: OnCall | undefined;
  /** Downloads a function's code for architecture changes; default global fetch. */
  fetch?: FetchLike | undefined;
}

export interface Aws {
  readonly regions: readonly string[];
  readonly endpoint: string | undefined;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly fetch: FetchLike;
  /** Cumulative counts of every call made through this handle (and its scoped views) since creation. */
  readonly calls: CallCounter;
  clients(region: string): RegionClients;
  /** Sends one SDK call through the bucket's token bucket and the retry policy. */
  call<T>(spec: CallSpec, send: (clients: RegionClients) => Promise<T>): Promise<T>;
  /** A view whose calls are also reported to `listener`. */
  scoped(listener: OnCall): Aws;
  destroy(): void;
}

interface Shared {
  pool: ClientPool;
  limiter: RateLimiter;
  calls: CallCounter;
  clock: Clock;
  fetch: FetchLike;
  regions: readonly string[];
  endpoint: string | undefined;
}

function makeAws(shared: Shared, observers: readonly OnCall[]): Aws {
  const observe: OnCall | undefined =
    observers.length === 0
      ? undefined
      : (event) => {
          for (const o of observers) o(event);
        };
  return {
    regions: shared.regions,
    endpoint: shared.endpoint,
    limiter: shared.limiter,
    clock: shared.clock,
    fetch: shared.fetch,
    calls: shared.calls,
    clients: (region) => shared.pool.get(region),
    call: (spec, send) => shared.limiter.call(spec, () => send(shared.pool.get(spec.region)), observe),
    scoped: (listener) => makeAws(shared, [...observers, listener]),
    destroy: () => shared.pool.destroy(),
  };
}

export function createAwsContext(config: AwsConfig = {}): Aws {
  const clock = config.clock ?? systemClock;
  const calls = new CallCounter();
  const limiter = new RateLimiter({
    rates: config.rates,
    bursts: config.bursts,
    retry: config.retry,
    clock,
    random: config.random,
    onCall: config.onCall,
  });
  limiter.addListener(calls.record);
  const fallback = defaultRegion(config.env ?? process.env);
  const regions = config.regions && config.regions.length > 0 ? [...config.regions] : fallback ? [fallback] : [];
  return makeAws(
    {
      pool: new ClientPool(config),
      limiter,
      calls,
      clock,
      fetch: config.fetch ?? ((url) => fetch(url)),
      regions,
      endpoint: config.endpoint,
    },
    [],
  );
}
