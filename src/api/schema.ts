/**
 * The one definition of the LambdaPolicy resource. The TypeScript types (`Static`), the runtime validator
 * (ajv, see validate.ts) and the generated CRD (crds/lambdapolicies.lambdapolicy.io.yaml, see crd.ts) all come
 * from these schemas, so the CLI and the API server can never disagree on what a valid policy is.
 *
 * Cross-field rules that JSON Schema cannot express are attached as `x-kubernetes-validations` (CEL) and are
 * mirrored by hand in rules.ts for the CLI; the invalid-policy corpus under test/fixtures proves both agree.
 */
import Type, { type Static } from 'typebox';

export const API_GROUP = 'lambdapolicy.io';
export const API_VERSION = 'v1alpha1';
export const KIND = 'LambdaPolicy';
export const PLURAL = 'lambdapolicies';

export const TagExpressionSchema = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 128, description: 'Tag key the expression tests.' }),
    operator: Type.Union([Type.Literal('In'), Type.Literal('NotIn'), Type.Literal('Exists'), Type.Literal('DoesNotExist')], {
      description: 'In | NotIn | Exists | DoesNotExist, as in a Kubernetes label selector.',
    }),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 256 }), {
        maxItems: 64,
        description: 'Values for In and NotIn (required, non-empty); must be absent for Exists and DoesNotExist.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SelectorSchema = Type.Object(
  {
    regions: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$', maxLength: 32 }), {
        maxItems: 32,
        description: "AWS regions to look in. Default: the controller's configured regions.",
      }),
    ),
    functionNames: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 170 }), {
        maxItems: 256,
        description: 'Function name globs (* any run of characters, ? one character). Absent: any name.',
      }),
    ),
    excludeFunctionNames: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 170 }), {
        maxItems: 256,
        description: 'Function name globs that never match, even when another criterion does.',
      }),
    ),
    tags: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 256 }), {
        maxProperties: 50,
        description: 'Tags that must all be present with exactly these values.',
      }),
    ),
    tagExpressions: Type.Optional(
      Type.Array(TagExpressionSchema, { maxItems: 32, description: 'Tag expressions that must all hold.' }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Which functions the policy governs. At least one of functionNames, tags or tagExpressions is required, so a policy never matches everything by accident (functionNames: ["*"] says so on purpose).',
  },
);

export const WindowSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      description: 'Window name, unique within the policy (a DNS label); part of the scheduled action names.',
    }),
    start: Type.String({ minLength: 9, maxLength: 100, description: '5-field cron expression: when the window opens.' }),
    end: Type.String({ minLength: 9, maxLength: 100, description: '5-field cron expression: when the window closes.' }),
    timezone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of start and end. Default UTC.' }),
    ),
    value: Type.Integer({ minimum: 0, maximum: 100000, description: 'Provisioned concurrency while the window is open.' }),
  },
  { additionalProperties: false },
);

export const ProvisionedConcurrencySchema = Type.Object(
  {
    qualifier: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Alias name or version number to provision. Never $LATEST.',
    }),
    value: Type.Integer({
      minimum: 0,
      maximum: 100000,
      description: 'Provisioned concurrency outside every window; 0 means none.',
    }),
    windows: Type.Optional(
      Type.Array(WindowSchema, {
        maxItems: 20,
        description: 'Scheduled windows with their own value; they must not overlap for one function and qualifier.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Provisioned concurrency on one qualifier, merged as one block.' },
);

export const SettingsSchema = Type.Object(
  {
    memorySize: Type.Optional(Type.Integer({ minimum: 128, maximum: 10240, description: 'Memory in MB, 128..10240.' })),
    timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 900, description: 'Timeout in seconds, 1..900.' })),
    architecture: Type.Optional(
      Type.Union([Type.Literal('x86_64'), Type.Literal('arm64')], {
        description: 'Instruction set: x86_64 | arm64. Zip functions are re-deployed with the same code.',
      }),
    ),
    reservedConcurrency: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: 100000 }), Type.Literal('Unreserved')], {
        description: 'Reserved concurrency (integer >= 0), or "Unreserved": the function must have none.',
      }),
    ),
    provisionedConcurrency: Type.Optional(ProvisionedConcurrencySchema),
  },
  { additionalProperties: false, description: 'Desired settings; an absent field is not governed.' },
);

export const LambdaPolicySpecSchema = Type.Object(
  {
    mode: Type.Optional(
      Type.Union([Type.Literal('Enforce'), Type.Literal('Audit')], {
        default: 'Enforce',
        description: 'Enforce (default) corrects drift; Audit only reports it and never writes.',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({
        default: 0,
        minimum: -1000000,
        maximum: 1000000,
        description: 'Decides overlaps between Enforce policies, per field: highest wins; ties go to namespace/name order.',
      }),
    ),
    suspend: Type.Optional(Type.Boolean({ default: false, description: 'true: no reads, no writes; status says Suspended.' })),
    interval: Type.Optional(
      Type.String({
        default: '5m',
        pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
        description: 'How often AWS is re-checked for drift (Go duration, e.g. 30s, 5m, 1h). Default 5m, minimum 30s.',
      }),
    ),
    selector: SelectorSchema,
    settings: SettingsSchema,
  },
  { additionalProperties: false },
);

export type TagExpression = Static<typeof TagExpressionSchema>;
export type Selector = Static<typeof SelectorSchema>;
export type Window = Static<typeof WindowSchema>;
export type ProvisionedConcurrency = Static<typeof ProvisionedConcurrencySchema>;
export type Settings = Static<typeof SettingsSchema>;
export type LambdaPolicySpec = Static<typeof LambdaPolicySpecSchema>;
export type Mode = 'Enforce' | 'Audit';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface LambdaPolicy {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: LambdaPolicySpec;
  status?: unknown;
}
