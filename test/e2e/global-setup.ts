/**
 * Before any e2e test: make sure the pinned kube-apiserver, etcd, kubectl, helm and moto exist in the cache outside
 * the repository (built by hack/ensure-test-infra.sh on first use, about a second when warm), so `npm test` works
 * on a fresh machine with Go and Python and nothing else.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../hack/ensure-test-infra.sh', import.meta.url));
  const result = spawnSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`hack/ensure-test-infra.sh failed (exit ${result.status}); see its output above`);
  }
}
