/**
 * The LambdaPolicy CustomResourceDefinition, generated from the TypeBox schemas so the API server validates
 * exactly what the CLI validates. `npm run generate:crd` writes it to crds/; a unit test fails when the
 * checked-in file differs from `renderCrdYaml()`.
 */
import { stringify } from 'yaml';
import { ACCOUNT_KIND, ACCOUNT_PLURAL, AwsAccountSpecSchema, AwsAccountStatusSchema } from './account-schema.ts';
import { type OpenApiSchema, toStructuralSchema } from './openapi.ts';
import { API_GROUP, API_VERSION, KIND, LambdaPolicySpecSchema, LambdaPolicyStatusSchema, PLURAL } from './schema.ts';

export const CRD_NAME = `${PLURAL}.${API_GROUP}`;
/** Path of the generated file, relative to the repository root. */
export const CRD_FILE = `crds/${CRD_NAME}.yaml`;
export const SHORT_NAMES = ['lp'];
export const CATEGORIES = ['aws', 'lambda'];

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export const PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'Enforce or Audit.' },
  { name: 'Matched', type: 'integer', jsonPath: '.status.summary.matched', description: 'Functions selected.' },
  { name: 'Drifted', type: 'integer', jsonPath: '.status.summary.drifted', description: 'Functions with drift.' },
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Checked at this generation everywhere the policy reaches.',
  },
  {
    name: 'Compliant',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Compliant")].status',
    description: 'Every matched function in line with the policy.',
  },
  {
    name: 'Reason',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Compliant")].reason',
    description:
      'Why it is (not) compliant: Compliant, Drifted, Violations, Infeasible, Failed, or why it was not checked.',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  {
    name: 'Interval',
    type: 'string',
    jsonPath: '.spec.interval',
    description: 'How often AWS is re-checked.',
    priority: 1,
  },
  {
    name: 'Last Check',
    type: 'date',
    jsonPath: '.status.lastCheckTime',
    description: 'When AWS was last read for the policy.',
    priority: 1,
  },
];

/** The root schema: apiVersion/kind/metadata as every resource has them, then spec and status. */
export function buildOpenApiSchema(): OpenApiSchema {
  return {
    type: 'object',
    description:
      'LambdaPolicy keeps the AWS Lambda functions it selects in line with the settings it declares: it reports every drift in status and, in Enforce mode, corrects it.',
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
      },
      metadata: { type: 'object' },
      spec: toStructuralSchema(LambdaPolicySpecSchema, 'spec'),
      // A policy the controller has not visited yet reads back with observedGeneration 0 (the API server applies
      // defaults when it reads from etcd), so kstatus, which skips the generation check when the field is absent
      // and would call the fresh object Current, sees an unobserved generation: Flux waits, as Argo CD does.
      status: { ...toStructuralSchema(LambdaPolicyStatusSchema, 'status'), default: { observedGeneration: 0 } },
    },
  };
}

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: {
        'app.kubernetes.io/name': 'lambda-policy-controller',
        'app.kubernetes.io/part-of': 'lambda-policy-controller',
      },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: KIND.toLowerCase(),
        shortNames: SHORT_NAMES,
        categories: CATEGORIES,
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
          schema: { openAPIV3Schema: buildOpenApiSchema() },
        },
      ],
    },
  };
}

// Starts with a document marker: `helm show crds` concatenates the chart's CRD files as they are, and the
// result is piped into `kubectl apply -f -`, so each file must open its own YAML document.
const HEADER = `---\n# Generated by \`npm run generate:crd\` from src/api/schema.ts. Do not edit by hand.\n`;

/** The CRD as written to crds/: deterministic (no line folding), so a diff means the schema changed. */
export function renderCrdYaml(): string {
  return HEADER + stringify(buildCrd(), { lineWidth: 0, minContentWidth: 0 });
}

export const ACCOUNT_CRD_NAME = `${ACCOUNT_PLURAL}.${API_GROUP}`;
export const ACCOUNT_CRD_FILE = `crds/${ACCOUNT_CRD_NAME}.yaml`;

export const ACCOUNT_PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Account', type: 'string', jsonPath: '.spec.accountId', description: 'The AWS account id.' },
  { name: 'Regions', type: 'string', jsonPath: '.spec.regions', description: 'Where policies may reach.' },
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Credentials verified.',
  },
  { name: 'Policies', type: 'integer', jsonPath: '.status.policies', description: 'Policies targeting it.' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** What differs between the cluster-scoped CRDs (AwsAccount, AwsOrganization); the rest is built alike. */
export interface ClusterCrdShape {
  kind: string;
  plural: string;
  shortName: string;
  printerColumns: PrinterColumn[];
  description: string;
  spec: Parameters<typeof toStructuralSchema>[0];
  status: Parameters<typeof toStructuralSchema>[0];
}

/** A cluster-scoped CRD in the policies' group and version, with their metadata schema and a status subresource. */
export function buildClusterCrd(shape: ClusterCrdShape): Record<string, unknown> {
  const base = buildCrd() as { metadata: Record<string, unknown> };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { ...base.metadata, name: `${shape.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      names: {
        kind: shape.kind,
        listKind: `${shape.kind}List`,
        plural: shape.plural,
        singular: shape.kind.toLowerCase(),
        shortNames: [shape.shortName],
        categories: CATEGORIES,
      },
      scope: 'Cluster',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: shape.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: shape.description,
              required: ['spec'],
              properties: {
                ...(buildOpenApiSchema().properties ?? {}),
                spec: toStructuralSchema(shape.spec, 'spec'),
                status: toStructuralSchema(shape.status, 'status'),
              },
            },
          },
        },
      ],
    },
  };
}

/** The AwsAccount CRD: cluster-scoped, short name awsacct, from src/api/account-schema.ts. */
export function buildAccountCrd(): Record<string, unknown> {
  return buildClusterCrd({
    kind: ACCOUNT_KIND,
    plural: ACCOUNT_PLURAL,
    shortName: 'awsacct',
    printerColumns: ACCOUNT_PRINTER_COLUMNS,
    description:
      'AwsAccount grants LambdaPolicies in the selected namespaces access to one AWS account: its regions, its scope, and how to reach it.',
    spec: AwsAccountSpecSchema,
    status: AwsAccountStatusSchema,
  });
}

export function renderAccountCrdYaml(): string {
  return (
    HEADER.replace('src/api/schema.ts', 'src/api/account-schema.ts') +
    stringify(buildAccountCrd(), { lineWidth: 0, minContentWidth: 0 })
  );
}
