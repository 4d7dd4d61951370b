/**
 * The AwsAccount resource (cluster-scoped): one AWS account the controller may reach, how (its own credentials or
 * an assumed role), where (regions), for whom (the namespaces whose LambdaPolicies may target it) and how much of
 * it (scope). Written by the platform team; a namespaced LambdaPolicy can never reach beyond it. The CRD
 * (crds/awsaccounts.lambdapolicy.io.yaml) and the CLI's validator both come from these schemas.
 */
import Type, { type Static } from 'typebox';
import { LabelSelectorSchema } from './label-selector.ts';
import { ConditionSchema, FunctionNameGlob, GROUP_VERSION, ObjectMetaSchema } from './schema.ts';

export const ACCOUNT_KIND = 'AwsAccount';
export const ACCOUNT_PLURAL = 'awsaccounts';
export const ACCOUNT_ID_PATTERN = '^[0-9]{12}$';
/** An IAM role ARN in any partition (aws, aws-cn, aws-us-gov), with an optional path. */
export const ROLE_ARN_PATTERN = '^arn:aws[a-z-]*:iam::[0-9]{12}:role/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$';

const Region = Type.String({
  pattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
  maxLength: 32,
  'x-error-message': 'must be an AWS region name such as eu-central-1',
});

const Rate = (what: string) =>
  Type.Optional(Type.Number({ minimum: 0.01, maximum: 10_000, description: `Requests per second: ${what}.` }));

export const ACCOUNT_CEL_RULES = {
  roleInAccount: {
    rule: "!has(self.assumeRole) || self.assumeRole.roleArn.contains(':iam::' + self.accountId + ':role/')",
    message: 'assumeRole.roleArn must be a role of accountId',
    fieldPath: '.assumeRole.roleArn',
  },
} as const;

export const AwsAccountSpecSchema = Type.Object(
  {
    accountId: Type.String({
      // maxLength bounds the CEL rule's cost estimate (the API server refuses unbounded string rules).
      maxLength: 12,
      pattern: ACCOUNT_ID_PATTERN,
      description: 'The 12-digit AWS account id; verified with STS GetCallerIdentity.',
      'x-error-message': 'must be a 12-digit AWS account id',
    }),
    assumeRole: Type.Optional(
      Type.Object(
        {
          roleArn: Type.String({
            maxLength: 2048,
            pattern: ROLE_ARN_PATTERN,
            'x-error-message':
              'must be an IAM role ARN such as arn:aws:iam::210987654321:role/lambda-policy-controller',
          }),
          externalId: Type.Optional(
            Type.String({
              minLength: 2,
              maxLength: 1224,
              pattern: '^[\\w+=,.@:/-]+$',
              description: "Sent as AssumeRole's ExternalId (confused-deputy protection).",
            }),
          ),
          sessionName: Type.Optional(
            Type.String({
              minLength: 2,
              maxLength: 64,
              pattern: '^[\\w+=,.@-]+$',
              description: 'RoleSessionName (default lambda-policy-controller), visible in CloudTrail.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            "The role to assume from the controller's own identity. Absent: the controller's credentials, which must then be this account.",
        },
      ),
    ),
    regions: Type.Array(Region, {
      minItems: 1,
      maxItems: 32,
      'x-kubernetes-list-type': 'set',
      description: 'Where policies may reach in this account.',
    }),
    policyNamespaces: Type.Optional(
      Type.Object(LabelSelectorSchema.properties, {
        additionalProperties: false,
        description: 'Namespaces whose LambdaPolicies may target this account. {} = every namespace; absent = none.',
      }),
    ),
    scope: Type.Optional(
      Type.Object(
        {
          functionNames: Type.Optional(Type.Array(FunctionNameGlob, { maxItems: 256 })),
          tags: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 256 }), { maxProperties: 50 })),
        },
        {
          additionalProperties: false,
          description: "The most those namespaces' policies may touch here, intersected with each policy's selector.",
        },
      ),
    ),
    rates: Type.Optional(
      Type.Object(
        {
          lambda: Rate("the account's shared Lambda control-plane bucket per region"),
          getFunction: Rate('GetFunction per region'),
          autoscaling: Rate('Application Auto Scaling per region'),
          tagging: Rate('Resource Groups Tagging per region'),
        },
        { additionalProperties: false, description: "Client-side budget of this account's quota buckets." },
      ),
    ),
  },
  { additionalProperties: false, 'x-kubernetes-validations': [ACCOUNT_CEL_RULES.roleInAccount] },
);

export const AwsAccountStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        maxItems: 8,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
    lastVerifiedTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'Last successful GetCallerIdentity.' }),
    ),
    policies: Type.Optional(Type.Integer({ minimum: 0, description: 'How many LambdaPolicies target this account.' })),
  },
  { additionalProperties: false, description: 'What the controller observed; written only by the controller.' },
);

export const AwsAccountSchema = Type.Object(
  {
    apiVersion: Type.Literal(GROUP_VERSION),
    kind: Type.Literal(ACCOUNT_KIND),
    metadata: ObjectMetaSchema,
    spec: AwsAccountSpecSchema,
    status: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export type AwsAccountSpec = Static<typeof AwsAccountSpecSchema>;
export type AwsAccountStatus = Static<typeof AwsAccountStatusSchema>;
export interface AwsAccount {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    generation?: number;
    uid?: string;
    resourceVersion?: string;
  };
  spec: AwsAccountSpec;
  status?: unknown;
}
