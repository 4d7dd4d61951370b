import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ORGANIZATION_CRD_FILE,
  ORGANIZATION_CRD_NAME,
  renderOrganizationCrdYaml,
} from '../../../src/api/organization-crd.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

interface Crd {
  metadata: { name: string };
  spec: {
    scope: string;
    names: { shortNames: string[]; kind: string };
    versions: {
      additionalPrinterColumns: { name: string }[];
      schema: {
        openAPIV3Schema: { properties: { spec: { required: string[]; properties: Record<string, unknown> } } };
      };
    }[];
  };
}

describe('AwsOrganization CRD', () => {
  it.each([ORGANIZATION_CRD_FILE, join('charts', 'lambda-policy-controller', ORGANIZATION_CRD_FILE)])(
    'matches the checked-in %s',
    (file) => {
      expect(readFileSync(join(repoRoot, file), 'utf8'), `${file} is stale: run npm run generate:crd`).toBe(
        renderOrganizationCrdYaml(),
      );
    },
  );

  it('is cluster-scoped with short name awsorg, printer columns, and the AwsAccount building blocks', () => {
    const crd = parse(renderOrganizationCrdYaml()) as Crd;
    expect(crd.metadata.name).toBe(ORGANIZATION_CRD_NAME);
    expect(crd.spec.scope).toBe('Cluster');
    expect(crd.spec.names.shortNames).toEqual(['awsorg']);
    const version = crd.spec.versions[0];
    expect(version?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Organization',
      'Parents',
      'Accounts',
      'Ready',
      'Last Sync',
      'Age',
    ]);
    const spec = version?.schema.openAPIV3Schema.properties.spec;
    expect(spec?.required).toEqual(expect.arrayContaining(['parents', 'template']));
    const template = spec?.properties.template as { required: string[]; properties: Record<string, unknown> };
    expect(template.required).toEqual(expect.arrayContaining(['roleName', 'regions']));
    expect(Object.keys(template.properties)).toEqual(
      expect.arrayContaining(['policyNamespaces', 'scope', 'rates', 'labels']),
    );
  });
});
