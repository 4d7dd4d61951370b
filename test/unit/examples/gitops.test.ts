/**
 * The Argo CD and Flux examples say what their comments promise: the argocd-cm health check is the chart's
 * health.lua byte for byte, the policies sync after the controller (and survive a missing CRD in the dry run),
 * and Flux replaces the CRD on install and upgrade and applies the policies after the controller.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const REPO = join(import.meta.dirname, '..', '..', '..');
const read = (...parts: string[]) => readFileSync(join(REPO, ...parts), 'utf8');
const docs = (...parts: string[]): unknown[] => parseAllDocuments(read(...parts)).map((d) => d.toJS() as unknown);

/** The value at a dotted path (`spec.install.crds`); keys with dots go in brackets (`annotations[a.b/c]`). */
function at(value: unknown, path: string): unknown {
  let current = value;
  for (const match of path.matchAll(/([^.[\]]+)|\[([^\]]+)\]/g)) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[match[1] ?? match[2] ?? ''];
  }
  return current;
}

describe('examples/argocd', () => {
  it('argocd-cm carries the chart health.lua unchanged, under the key Argo CD looks up for lambdapolicy.io/LambdaPolicy', () => {
    const cm = parse(read('examples', 'argocd', 'argocd-cm.yaml')) as { data: Record<string, string> };

    expect(cm.data['resource.customizations.health.lambdapolicy.io_LambdaPolicy']).toBe(
      read('charts', 'lambda-policy-controller', 'argocd', 'health.lua'),
    );
    expect(cm.data['resource.customizations.health.argoproj.io_Application']).toContain('obj.status.health');
  });

  it('the chart syncs in an earlier wave than the policies, which skip the dry run while the CRD is missing', () => {
    const [controller] = docs('examples', 'argocd', 'controller-application.yaml');
    const [policies] = docs('examples', 'argocd', 'policies-application.yaml');
    const wave = (app: unknown) => Number(at(app, 'metadata.annotations[argocd.argoproj.io/sync-wave]'));

    expect(at(controller, 'spec.source.path')).toBe('charts/lambda-policy-controller');
    expect(at(policies, 'spec.source.path')).toBe('examples/policies');
    expect(wave(controller)).toBeLessThan(wave(policies));
    expect(at(policies, 'spec.syncPolicy.syncOptions')).toContain('SkipDryRunOnMissingResource=true');
  });
});

describe('examples/flux', () => {
  it('the HelmRelease creates and replaces the CRD on install and upgrade', () => {
    const [release] = docs('examples', 'flux', 'controller', 'helmrelease.yaml');

    expect(at(release, 'kind')).toBe('HelmRelease');
    expect(at(release, 'spec.install.crds')).toBe('CreateReplace');
    expect(at(release, 'spec.upgrade.crds')).toBe('CreateReplace');
    expect(at(release, 'spec.chart.spec.chart')).toBe('./charts/lambda-policy-controller');
  });

  it('the policies Kustomization depends on the controller one and waits for kstatus health', () => {
    const [controller, policies] = docs('examples', 'flux', 'kustomizations.yaml');

    expect(at(controller, 'spec.path')).toBe('./examples/flux/controller');
    expect(at(policies, 'spec.path')).toBe('./examples/policies');
    expect(at(policies, 'spec.dependsOn')).toEqual([{ name: at(controller, 'metadata.name') }]);
    expect([at(controller, 'spec.wait'), at(policies, 'spec.wait')]).toEqual([true, true]);
  });
});
