/** Policy streams as GitOps tools produce them, for the stdin and CI-recipe tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './harness.ts';

/** What `kustomize build` prints for a policies folder: Namespaces and a ConfigMap among the policies. */
export function kustomizeStyleStream(): string {
  const dir = fixture('policies');
  const policies = readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => readFileSync(join(dir, file), 'utf8').trim());
  const other = [
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a',
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lpc-notes\n  namespace: team-a\ndata:\n  owner: platform',
  ];
  return `${[...other.slice(0, 2), ...policies, other[2]].join('\n---\n')}\n`;
}
