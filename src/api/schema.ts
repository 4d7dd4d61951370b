/**
 * The one definition of the LambdaPolicy resource. The TypeScript types (`Static`), the runtime validator
 * (ajv, see validate.ts) and the generated CRD (crds/lambdapolicies.lambdapolicy.io.yaml, see crd.ts) all come
 * from these schemas, so the CLI and the API server can never disagree on what a valid policy is.
 *
 * Cross-field rules that JSON Schema cannot express are attached as `x-kubernetes-validations` (CEL, from cel.ts)
 * and are mirrored in rules.ts for the CLI; the invalid-policy corpus under test/fixtures proves both agree.
 *
 * Two annotations are private to this project and never reach the CRD: `x-error-message` replaces ajv's wording
 * for a failed `pattern` or `anyOf` with one a person can act on.
 */
import Type, { type Static } from 'typebox';
import { CEL_RULES, DURATION_PATTERN, LOG_RETENTION_DAYS, MAX_RESERVED_CONCURRENCY } from './cel.ts';
import { LabelSelectorSchema } from './label-selector.ts';

export const API_GROUP = 'lambdapolicy.io';
export const API_VERSION = 'v1alpha1';
export const KIND = 'LambdaPolicy';
export const PLURAL = 'lambdapolicies';
/** `apiVersion` as it appears in manifests. */
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
/** Lets one generation of a policy past the blast-radius guard; the controller reads it and never writes spec. */
export const APPROVE_GENERATION_ANNOTATION = 'lambdapolicy.io/approve-generation';

/** Lowercase RFC 1123 label, the shape of a namespace or a window name. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** Lowercase RFC 1123 subdomain, the shape of an object name. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const DNS_LABEL_MESSAGE =
  "must be a lowercase RFC 1123 label: lower case alphanumeric characters or '-', starting and ending with an alphanumeric character";
const DNS_SUBDOMAIN_MESSAGE =
  "must be a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character";

export const TagExpressionSchema = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 128, description: 'Tag key the expression tests.' }),
    operator: Type.Enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
      type: 'string',
      description: 'In | NotIn | Exists | DoesNotExist, as in a Kubernetes label selector.',
    }),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 256 }), {
        maxItems: 64,
        description: 'Values for In and NotIn (required, non-empty); must be absent for Exists and DoesNotExist.',
      }),
    ),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [CEL_RULES.tagExpressionValuesRequired, CEL_RULES.tagExpressionValuesForbidden],
  },
);

/** Lambda names have at most 64 characters; a longer glob with at most 16 wildcards could never match one. */
export const MAX_GLOB_LENGTH = 80;

export const FunctionNameGlob = Type.String({
  minLength: 1,
  maxLength: MAX_GLOB_LENGTH,
  pattern: '^[A-Za-z0-9_*?-]+$',
  'x-error-message': "must be a function name glob: letters, digits, '-', '_', '*' (any run) and '?' (one character)",
  'x-kubernetes-validations': [CEL_RULES.globWildcards],
});

export const SelectorSchema = Type.Object(
  {
    regions: Type.Optional(
      Type.Array(
        Type.String({
          pattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
          maxLength: 32,
          'x-error-message': 'must be an AWS region name such as eu-central-1',
        }),
        {
          maxItems: 32,
          description: "AWS regions to look in. Default: the controller's configured regions.",
        },
      ),
    ),
    functionNames: Type.Optional(
      Type.Array(FunctionNameGlob, {
        maxItems: 256,
        description: 'Function name globs (* any run of characters, ? one character). Absent: any name.',
      }),
    ),
    excludeFunctionNames: Type.Optional(
      Type.Array(FunctionNameGlob, {
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
    accounts: Type.Optional(
      Type.Array(
        Type.String({
          minLength: 1,
          maxLength: 253,
          pattern: DNS_SUBDOMAIN_PATTERN,
          'x-error-message': DNS_SUBDOMAIN_MESSAGE,
        }),
        {
          maxItems: 64,
          description:
            "Names of AwsAccount objects to reach. With accountSelector: the union. Both absent: the controller's home account.",
        },
      ),
    ),
    accountSelector: Type.Optional(
      Type.Object(LabelSelectorSchema.properties, {
        additionalProperties: false,
        description: 'A label selector over AwsAccount objects to reach.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Which functions the policy governs. At least one of functionNames, tags or tagExpressions is required, so a policy never matches everything by accident (functionNames: ["*"] says so on purpose).',
    'x-kubernetes-validations': [CEL_RULES.selectorNotEmpty],
  },
);

const CronExpression = (description: string) =>
  Type.String({
    maxLength: 100,
    description,
    'x-kubernetes-validations': [CEL_RULES.cronShape, CEL_RULES.cronDayFields],
  });

export const WindowSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: DNS_LABEL_PATTERN,
      description: 'Window name, unique within the policy (a DNS label); part of the scheduled action names.',
      'x-error-message': DNS_LABEL_MESSAGE,
    }),
    start: CronExpression(
      '5-field cron expression (minute hour day-of-month month day-of-week): when the window opens.',
    ),
    end: CronExpression(
      '5-field cron expression (minute hour day-of-month month day-of-week): when the window closes.',
    ),
    timezone: Type.Optional(
      Type.String({
        maxLength: 64,
        default: 'UTC',
        description:
          'IANA time zone of start and end, e.g. Europe/Berlin. Default UTC; daylight saving time is handled.',
        'x-kubernetes-validations': [CEL_RULES.timezoneShape],
      }),
    ),
    value: Type.Integer({
      minimum: 0,
      maximum: 100000,
      description: 'Provisioned concurrency while the window is open.',
    }),
  },
  { additionalProperties: false },
);

export const ProvisionedConcurrencySchema = Type.Object(
  {
    qualifier: Type.String({
      minLength: 1,
      maxLength: 128,
      // $LATEST passes the pattern on purpose so the CEL rule can say why it is refused.
      pattern: '^([A-Za-z0-9_-]+|\\$LATEST)$',
      description: 'Alias name or version number to provision. Never $LATEST.',
      'x-error-message': "must be an alias name or a version number: letters, digits, '-' and '_'",
      'x-kubernetes-validations': [CEL_RULES.qualifierNotLatest],
    }),
    value: Type.Integer({
      minimum: 0,
      maximum: 100000,
      description: 'Provisioned concurrency outside every window; 0 means none.',
    }),
    windows: Type.Optional(
      Type.Array(WindowSchema, {
        maxItems: 20,
        description:
          'Scheduled windows with their own value, each open from a start firing until the next end firing. Names are unique; windows must not overlap for one function and qualifier.',
        // A list-map keyed by name makes the API server refuse duplicate names without a quadratic CEL rule.
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
  },
  { additionalProperties: false, description: 'Provisioned concurrency on one qualifier, merged as one block.' },
);

export const APPLICATION_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;

export const LoggingSchema = Type.Object(
  {
    format: Type.Enum(['JSON', 'Text'], {
      type: 'string',
      description: 'LoggingConfig.LogFormat: JSON (structured) or Text.',
    }),
    applicationLogLevel: Type.Optional(
      Type.Enum([...APPLICATION_LOG_LEVELS], {
        type: 'string',
        description: 'LoggingConfig.ApplicationLogLevel: TRACE | DEBUG | INFO | WARN | ERROR | FATAL (needs JSON).',
      }),
    ),
    systemLogLevel: Type.Optional(
      Type.Enum([...SYSTEM_LOG_LEVELS], {
        type: 'string',
        description: 'LoggingConfig.SystemLogLevel: DEBUG | INFO | WARN (needs JSON).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Log format and levels, set with UpdateFunctionConfiguration; merged as one block.',
    'x-kubernetes-validations': [CEL_RULES.loggingLevelsNeedJson],
  },
);

export const AsyncInvocationSchema = Type.Object(
  {
    maximumRetryAttempts: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 2, description: 'Retries of a failed asynchronous invocation, 0..2.' }),
    ),
    maximumEventAgeSeconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 21600,
        description: 'Longest an asynchronous event is kept for processing, 60..21600 seconds.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Asynchronous invocation of the unqualified function ($LATEST), set with Put/UpdateFunctionEventInvokeConfig (destinations are left as they are); merged as one block.',
    'x-kubernetes-validations': [CEL_RULES.asyncInvocationNotEmpty],
  },
);

export const SettingsSchema = Type.Object(
  {
    memorySize: Type.Optional(Type.Integer({ minimum: 128, maximum: 10240, description: 'Memory in MB, 128..10240.' })),
    timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 900, description: 'Timeout in seconds, 1..900.' })),
    architecture: Type.Optional(
      Type.Enum(['x86_64', 'arm64'], {
        type: 'string',
        description: 'Instruction set: x86_64 | arm64. Zip functions are re-deployed with the same code.',
      }),
    ),
    reservedConcurrency: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: MAX_RESERVED_CONCURRENCY }), Type.Literal('Unreserved')], {
        description: 'Reserved concurrency (integer >= 0), or "Unreserved": the function must have none.',
        'x-error-message': CEL_RULES.reservedConcurrencyValue.message,
        'x-kubernetes-validations': [CEL_RULES.reservedConcurrencyValue],
      }),
    ),
    provisionedConcurrency: Type.Optional(ProvisionedConcurrencySchema),
    logging: Type.Optional(LoggingSchema),
    tracing: Type.Optional(
      Type.Enum(['Active', 'PassThrough'], {
        type: 'string',
        description: 'TracingConfig.Mode (X-Ray): Active | PassThrough.',
      }),
    ),
    asyncInvocation: Type.Optional(AsyncInvocationSchema),
    logRetentionDays: Type.Optional(
      Type.Integer({
        enum: [...LOG_RETENTION_DAYS],
        description: `Retention of the function's CloudWatch log group (LoggingConfig.LogGroup, default /aws/lambda/NAME), one of the values CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(', ')}.`,
      }),
    ),
  },
  { additionalProperties: false, description: 'Desired settings; an absent field is not governed.' },
);

export const ChecksSchema = Type.Object(
  {
    maxPackageSizeMB: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10240,
        description: "Largest CodeSize of a Zip function plus its layers' CodeSize, in MB (1 MB = 1,048,576 bytes).",
      }),
    ),
    runtime: Type.Optional(
      Type.Object(
        {
          deprecatedWithinDays: Type.Integer({
            minimum: 0,
            maximum: 3650,
            description: 'A runtime AWS deprecates within this many days (or already has) is a violation.',
          }),
        },
        { additionalProperties: false, description: 'Runtime deprecation, from the dated runtime table.' },
      ),
    ),
    noSecretsInEnvironment: Type.Optional(
      Type.Boolean({
        description:
          'true: environment variables whose name or value looks like a credential are violations (the name is reported, never the value).',
      }),
    ),
    asyncFailureDestination: Type.Optional(
      Type.Enum(['Required'], {
        type: 'string',
        description: 'Required: a DeadLetterConfig target or an on-failure destination of asynchronous invocation.',
      }),
    ),
    layersSupportArchitecture: Type.Optional(
      Type.Boolean({
        description:
          "true: every layer's CompatibleArchitectures must list the function's architecture (and the governed one).",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Rules that are only reported, never written: each violation makes the function non-compliant.',
  },
);

/** Upper bound of every rollout limit: far above any account's function quota, small enough to stay exact. */
export const MAX_ROLLOUT_LIMIT = 100000;

export const RolloutSchema = Type.Object(
  {
    maxFunctions: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_ROLLOUT_LIMIT,
        description:
          'A pass that would change more functions than this writes nothing and reports Stalled/RolloutPaused until the generation is approved.',
      }),
    ),
    maxPercent: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          'A pass that would change more than this percentage of the matched functions writes nothing (Stalled/RolloutPaused) until approved.',
      }),
    ),
    batchSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_ROLLOUT_LIMIT,
        description:
          'At most this many functions are changed per pass; the next batch waits for the previous one to succeed, and a failed batch stops the rollout.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Blast-radius limits of an Enforce policy. Absent: the controller's default guard (--max-changes-percent) applies.",
    'x-kubernetes-validations': [CEL_RULES.rolloutBatchWithinLimit],
  },
);

export const IAC_MANAGED_MODES = ['Audit', 'Enforce', 'Skip'] as const;

export const LambdaPolicySpecSchema = Type.Object(
  {
    mode: Type.Optional(
      Type.Enum(['Enforce', 'Audit'], {
        type: 'string',
        default: 'Enforce',
        description: 'Enforce (default) corrects drift; Audit only reports it and never writes.',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({
        default: 0,
        minimum: -1000000,
        maximum: 1000000,
        description:
          'Decides overlaps between Enforce policies, per field: highest wins; ties go to namespace/name order.',
      }),
    ),
    suspend: Type.Optional(
      Type.Boolean({ default: false, description: 'true: no reads, no writes; status says Suspended.' }),
    ),
    interval: Type.Optional(
      Type.String({
        default: '5m',
        maxLength: 20,
        pattern: DURATION_PATTERN,
        description:
          'How often AWS is re-checked for drift (Go duration, e.g. 30s, 5m, 1h30m). Default 5m, minimum 30s, maximum 24h.',
        'x-error-message': 'must be a duration such as 30s, 5m or 1h30m (units ms, s, m, h)',
        'x-kubernetes-validations': [CEL_RULES.intervalMinimum, CEL_RULES.intervalMaximum],
      }),
    ),
    selector: SelectorSchema,
    settings: SettingsSchema,
    checks: Type.Optional(ChecksSchema),
    rollout: Type.Optional(RolloutSchema),
    iacManaged: Type.Optional(
      Type.Enum([...IAC_MANAGED_MODES], {
        type: 'string',
        default: 'Audit',
        description:
          'Functions whose tags show an infrastructure-as-code owner (CloudFormation, SAM, CDK, Serverless, configured tags): Audit (default) reports their drift as IaCManaged naming the stack and template property, never writes; Enforce corrects them; Skip leaves them out of the match.',
      }),
    ),
  },
  { additionalProperties: false, description: 'What the policy selects and the settings it wants.' },
);

// ---------------------------------------------------------------------------------------------------------------
// Status. Written only by the controller through the status subresource.

export const FUNCTION_STATES = [
  'Compliant',
  'Drifted',
  'Remediated',
  'Overridden',
  'Failed',
  'Infeasible',
  'Violating',
  'IaCManaged',
] as const;
export const MAX_STATUS_FUNCTIONS = 50;
export const MAX_STATUS_MESSAGE = 256;
export const MAX_STATUS_ACCOUNTS = 50;

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Timestamp = (description: string) => Type.String({ format: 'date-time', description });

/** metav1.Condition, field for field: what `kubectl explain` and generic tooling expect of a condition. */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      description:
        'Ready (checked at this generation everywhere the policy reaches), Compliant (every matched function in line), Reconciling (work in progress) or Stalled (a person must fix the policy or its grant).',
    }),
    status: Type.Enum(['True', 'False', 'Unknown'], { type: 'string', description: 'True, False or Unknown.' }),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description: 'The metadata.generation the condition was set for; older than the object means out of date.',
      }),
    ),
    lastTransitionTime: Timestamp('When the condition last changed from one status to another.'),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description:
        'Why, as one CamelCase word: for Compliant one of Compliant, Drifted, Violations, Infeasible, Failed (or why it could not be checked).',
    }),
    message: Type.String({ maxLength: 32768, description: 'What a person needs to know, with counts; may be empty.' }),
  },
  { additionalProperties: false },
);

export const DriftStatusSchema = Type.Object(
  {
    field: Type.String({ maxLength: 64, description: 'memorySize, timeout, architecture, reservedConcurrency, ...' }),
    // Values are numbers, strings or small objects depending on the field; only here is the shape left open.
    desired: Type.Optional(
      Type.Unknown({ 'x-kubernetes-preserve-unknown-fields': true, description: 'What the policy wants.' }),
    ),
    actual: Type.Optional(Type.Unknown({ 'x-kubernetes-preserve-unknown-fields': true, description: 'What AWS has.' })),
  },
  { additionalProperties: false, description: 'One field that differs from the policy.' },
);

export const QualifierStatusSchema = Type.Object(
  {
    qualifier: Type.String({ maxLength: 128, description: 'The alias or version provisioned concurrency lives on.' }),
    state: Type.Literal('PendingPublish', {
      description: 'PendingPublish: $LATEST carries the fix, the qualifier gets it with the next publish.',
    }),
    version: Type.String({ maxLength: 16, description: 'The published version the qualifier serves.' }),
    fields: Type.Array(DriftStatusSchema, {
      maxItems: 3,
      description: 'memorySize, timeout, architecture: the policy (desired) against the served version (actual).',
    }),
  },
  { additionalProperties: false, description: 'A governed qualifier whose served version differs from the policy.' },
);

export const ViolationStatusSchema = Type.Object(
  {
    check: Type.String({ maxLength: 64, description: 'maxPackageSizeMB, runtime, noSecretsInEnvironment, ...' }),
    // A size, a runtime name, a variable NAME (never its value), a layer ARN: shape depends on the check.
    actual: Type.Optional(
      Type.Unknown({
        'x-kubernetes-preserve-unknown-fields': true,
        description: 'What AWS has (never a secret value, only its variable name).',
      }),
    ),
    message: Type.Optional(Type.String({ maxLength: MAX_STATUS_MESSAGE, description: 'Why the check fails.' })),
  },
  { additionalProperties: false, description: 'One check the function fails.' },
);

export const FunctionStatusSchema = Type.Object(
  {
    account: Type.Optional(
      Type.String({
        maxLength: 253,
        description: "The AwsAccount the function is in (home: the controller's own credentials).",
      }),
    ),
    region: Type.String({ maxLength: 32, description: 'The AWS region of the function.' }),
    name: Type.String({ maxLength: 170, description: 'The function name.' }),
    state: Type.Enum([...FUNCTION_STATES], {
      type: 'string',
      description: 'Compliant, Drifted, Remediated, Overridden, Failed, Infeasible or Violating.',
    }),
    drift: Type.Optional(Type.Array(DriftStatusSchema, { maxItems: 16, description: 'The fields that differ.' })),
    violations: Type.Optional(
      Type.Array(ViolationStatusSchema, { maxItems: 16, description: 'The checks the function fails.' }),
    ),
    message: Type.Optional(
      Type.String({ maxLength: MAX_STATUS_MESSAGE, description: 'Why, for a person (e.g. the error AWS gave).' }),
    ),
    qualifiers: Type.Optional(
      Type.Array(QualifierStatusSchema, {
        maxItems: 4,
        description: 'Governed qualifiers serving a published version that differs from the policy.',
      }),
    ),
  },
  { additionalProperties: false, description: 'One matched function.' },
);

export const LambdaPolicyStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description: 'The metadata.generation this status is about (0: not visited yet).',
      }),
    ),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description:
          'Ready, Compliant, Reconciling, Stalled (kstatus reads Ready, Reconciling and Stalled; Argo CD reads the same).',
      }),
    ),
    summary: Type.Optional(
      Type.Object(
        {
          matched: Count('Functions the policy selects.'),
          compliant: Count('Matched functions whose governed settings hold.'),
          drifted: Count('Matched functions with drift.'),
          remediated: Count('Functions corrected since the policy was created.'),
          overridden: Count('Matched functions where a higher-priority policy wins a field.'),
          failed: Count('Functions whose correction failed.'),
          infeasible: Type.Optional(Count('Functions where AWS would refuse the desired settings.')),
          violating: Type.Optional(Count('Functions in line with the settings that violate a check.')),
          iacManaged: Type.Optional(
            Count('Of the drifted: functions owned by infrastructure as code (iacManaged: Audit), never written.'),
          ),
        },
        { additionalProperties: false, description: 'Function counts over every region the policy reaches.' },
      ),
    ),
    functions: Type.Optional(
      Type.Array(FunctionStatusSchema, {
        maxItems: MAX_STATUS_FUNCTIONS,
        description: 'At most 50 functions, non-compliant first, then by region and name.',
      }),
    ),
    truncated: Type.Optional(Type.Boolean({ description: 'true when more functions matched than are listed.' })),
    accounts: Type.Optional(
      Type.Array(
        Type.Object(
          {
            account: Type.String({ maxLength: 253, description: "The AwsAccount (home: the controller's own)." }),
            accountId: Type.Optional(Type.String({ maxLength: 12, description: 'Its 12-digit id, when known.' })),
            matched: Count('Functions the policy matches there.'),
            drifted: Count('Of them, functions with drift.'),
            lastCheckTime: Type.Optional(Timestamp('When the account was last read for this policy.')),
            error: Type.Optional(
              Type.String({
                maxLength: MAX_STATUS_MESSAGE,
                description: 'Why the account could not be read, or was refused (OutOfScope).',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        {
          maxItems: MAX_STATUS_ACCOUNTS,
          description:
            'Per account the policy reaches or was refused (at most 50, by name); written for policies that use AwsAccounts.',
        },
      ),
    ),
    problems: Type.Optional(
      Type.Array(Type.String({ maxLength: MAX_STATUS_MESSAGE }), {
        maxItems: 20,
        description: 'Policy-level problems (e.g. an unknown time zone).',
      }),
    ),
    lastCheckTime: Type.Optional(Timestamp('When AWS was last read for this policy.')),
    nextCheckTime: Type.Optional(Timestamp('When AWS will be read next.')),
    provisionedConcurrency: Type.Optional(
      Type.Object(
        {
          desiredNow: Type.Integer({ minimum: 0, description: 'The provisioned concurrency wanted now.' }),
          window: Type.Optional(Type.String({ maxLength: 63, description: 'The window open now, if any.' })),
          nextChange: Type.Optional(
            Type.Object(
              {
                at: Timestamp('When the desired value changes next.'),
                value: Type.Integer({ minimum: 0, description: 'The value from then on.' }),
              },
              { additionalProperties: false, description: 'The next window edge.' },
            ),
          ),
        },
        { additionalProperties: false, description: 'The provisioned-concurrency schedule at the last check.' },
      ),
    ),
    cost: Type.Optional(
      Type.Object(
        {
          provisionedConcurrencyMonthlyUSD: Type.Optional(
            Type.Number({ minimum: 0, description: 'What the schedule costs per month over the matched functions.' }),
          ),
          architectureMonthlySavingUSD: Type.Optional(
            Type.Number({ description: 'What moving to arm64 saves per month, where GB-seconds are known.' }),
          ),
        },
        { additionalProperties: false, description: "From AWS's price table; the same figures appear in plan." },
      ),
    ),
  },
  { additionalProperties: false, description: 'What the controller observed; written only by the controller.' },
);

// ---------------------------------------------------------------------------------------------------------------
// The whole object, as the CLI validates a manifest file. The API server validates metadata itself.

export const ObjectMetaSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN_PATTERN,
      'x-error-message': DNS_SUBDOMAIN_MESSAGE,
    }),
    namespace: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, pattern: DNS_LABEL_PATTERN, 'x-error-message': DNS_LABEL_MESSAGE }),
    ),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    // Fields the server sets; present when a manifest was exported with `kubectl get -o yaml`.
    generation: Type.Optional(Type.Integer()),
    uid: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    creationTimestamp: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    deletionTimestamp: Type.Optional(Type.String()),
    deletionGracePeriodSeconds: Type.Optional(Type.Integer()),
    finalizers: Type.Optional(Type.Array(Type.String())),
    ownerReferences: Type.Optional(Type.Array(Type.Unknown())),
    managedFields: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false },
);

export const LambdaPolicySchema = Type.Object(
  {
    apiVersion: Type.Literal(GROUP_VERSION),
    kind: Type.Literal(KIND),
    metadata: ObjectMetaSchema,
    spec: LambdaPolicySpecSchema,
    // A manifest may carry a status (exported objects do); the CLI ignores it, the API server drops it on create.
    status: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export type TagExpression = Static<typeof TagExpressionSchema>;
export type Selector = Static<typeof SelectorSchema>;
export type Window = Static<typeof WindowSchema>;
export type ProvisionedConcurrency = Static<typeof ProvisionedConcurrencySchema>;
export type Settings = Static<typeof SettingsSchema>;
export type Logging = Static<typeof LoggingSchema>;
export type AsyncInvocation = Static<typeof AsyncInvocationSchema>;
export type Checks = Static<typeof ChecksSchema>;
export type LambdaPolicySpec = Static<typeof LambdaPolicySpecSchema>;
export type Mode = 'Enforce' | 'Audit';
export type Rollout = Static<typeof RolloutSchema>;
export type IacManagedMode = (typeof IAC_MANAGED_MODES)[number];

export type FunctionState = (typeof FUNCTION_STATES)[number];
export type FunctionStatus = Static<typeof FunctionStatusSchema>;
export type LambdaPolicyStatus = Static<typeof LambdaPolicyStatusSchema>;
export type AccountStatusEntry = NonNullable<LambdaPolicyStatus['accounts']>[number];

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
