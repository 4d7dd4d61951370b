/**
 * The AwsOrganization resource (cluster-scoped): where to discover accounts (roots/OUs of an AWS Organization,
 * read through the organization's own role) and the template every discovered ACTIVE account's AwsAccount is kept
 * in step from (owned by the AwsOrganization, so accounts that leave are deleted with theirs). Written by the
 * platform team. The CRD (crds/awsorganizations.lambdapolicy.io.yaml) comes from these schemas, with the same
 * building blocks as AwsAccount.
 */
import Type, { type Static } from 'typebox';
import { AwsAccountSpecSchema } from './account-schema.ts';
import { CEL_RULES, DURATION_PATTERN } from './cel.ts';
import { ConditionSchema, type GROUP_VERSION } from './schema.ts';

export const ORGANIZATION_KIND = 'AwsOrganization';
export const ORGANIZATION_PLURAL = 'awsorganizations';
/** A root (r-…) or an organizational unit (ou-…-…), as Organizations spells their ids. */
export const PARENT_ID_PATTERN = '^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$';
/** AWS nests OUs at most five levels below the root. */
export const MAX_ORGANIZATION_DEPTH = 5;
export const DEFAULT_ORGANIZATION_INTERVAL = '15m';
export const DEFAULT_MAX_ACCOUNTS = 1000;

const account = AwsAccountSpecSchema.properties;

export const AwsOrganizationSpecSchema = Type.Object(
  {
    assumeRole: Type.Optional(
      Type.Object(
        {
          roleArn: account.assumeRole.properties.roleArn,
          externalId: account.assumeRole.properties.externalId,
          sessionName: account.assumeRole.properties.sessionName,
        },
        {
          additionalProperties: false,
          description:
            "The role (in the management account or a delegated administrator) that may call organizations:List*. Absent: the controller's own credentials.",
        },
      ),
    ),
    parents: Type.Array(
      Type.String({
        maxLength: 70,
        pattern: PARENT_ID_PATTERN,
        'x-error-message': 'must be a root id (r-xxxx) or an OU id (ou-xxxx-xxxxxxxx)',
      }),
      {
        minItems: 1,
        maxItems: 20,
        'x-kubernetes-list-type': 'set',
        description: 'Roots and OUs whose ACTIVE accounts are governed (their child OUs too, down to maxDepth).',
      },
    ),
    maxDepth: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_ORGANIZATION_DEPTH,
        default: MAX_ORGANIZATION_DEPTH,
        description: 'OU levels followed below each parent (0: only the parents’ own accounts).',
      }),
    ),
    maxAccounts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        default: DEFAULT_MAX_ACCOUNTS,
        description: 'At most this many AwsAccounts; past it the listing is reported truncated and nothing is deleted.',
      }),
    ),
    interval: Type.Optional(
      Type.String({
        default: DEFAULT_ORGANIZATION_INTERVAL,
        maxLength: 20,
        pattern: DURATION_PATTERN,
        description:
          'How often the organization is listed again (Go duration). Default 15m, minimum 30s, maximum 24h: Organizations throttles bursts of reads.',
        'x-error-message': 'must be a duration such as 10m or 1h',
        'x-kubernetes-validations': [CEL_RULES.intervalMinimum, CEL_RULES.intervalMaximum],
      }),
    ),
    template: Type.Object(
      {
        roleName: Type.String({
          minLength: 1,
          maxLength: 512,
          pattern: '^([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$',
          description: 'The role assumed in every discovered account: arn:aws:iam::<account>:role/<roleName>.',
          'x-error-message': 'must be an IAM role name, optionally with a path (path/name)',
        }),
        externalId: account.assumeRole.properties.externalId,
        sessionName: account.assumeRole.properties.sessionName,
        regions: account.regions,
        policyNamespaces: account.policyNamespaces,
        scope: account.scope,
        rates: account.rates,
        labels: Type.Optional(
          Type.Record(Type.String({ maxLength: 316 }), Type.String({ maxLength: 63 }), {
            maxProperties: 32,
            description: "Labels every AwsAccount gets besides the account's tags.",
          }),
        ),
      },
      { additionalProperties: false, description: 'What each discovered account’s AwsAccount says.' },
    ),
  },
  { additionalProperties: false },
);

export const AwsOrganizationStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        maxItems: 8,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
    organizationId: Type.Optional(Type.String({ maxLength: 64 })),
    accounts: Type.Optional(
      Type.Integer({ minimum: 0, description: 'ACTIVE accounts discovered (each has an AwsAccount).' }),
    ),
    lastSyncTime: Type.Optional(
      Type.String({ format: 'date-time', description: 'Last complete listing of the organization.' }),
    ),
  },
  { additionalProperties: false, description: 'What the controller observed; written only by the controller.' },
);

export type AwsOrganizationSpec = Static<typeof AwsOrganizationSpecSchema>;
export type AwsOrganizationStatus = Static<typeof AwsOrganizationStatusSchema>;

export interface AwsOrganization {
  apiVersion: typeof GROUP_VERSION;
  kind: typeof ORGANIZATION_KIND;
  metadata: { name: string; uid?: string; generation?: number; resourceVersion?: string };
  spec: AwsOrganizationSpec;
  status?: AwsOrganizationStatus;
}
