/**
 * The cross-field rules of LambdaPolicy, written once. Each rule carries the CEL expression the API server
 * evaluates (attached to the schema as `x-kubernetes-validations`) and the message both the API server and the
 * CLI print; rules.ts implements the same checks in TypeScript and reuses these messages, so `kubectl apply` and
 * `lambda-policy-controller plan` say the same thing about the same mistake.
 *
 * The regular expressions are shared too: they are written in the common subset of JavaScript and RE2 syntax
 * (CEL's `matches()` uses RE2) and are quoted into CEL string literals by `celString`.
 */

/** One entry of `x-kubernetes-validations` (apiextensions.k8s.io/v1 ValidationRule). */
export interface CelRule {
  rule: string;
  message: string;
  /** JSONPath relative to the node carrying the rule, so the server names the field, not its parent. */
  fieldPath?: string;
}

/** Five whitespace-separated cron fields; each field only holds the characters that field can use. */
export const CRON_PATTERN =
  '^\\s*[0-9*,/-]+\\s+[0-9*,/-]+\\s+[0-9*,/?L-]+\\s+[0-9A-Za-z*,/-]+\\s+[0-9A-Za-z*,/?L#-]+\\s*$';

/**
 * AWS cron cannot restrict day-of-month and day-of-week together (one of them must be `?`), so a 5-field
 * expression is only translatable when one of the two is `*` or `?`.
 */
export const CRON_DAY_FIELDS_PATTERN = '^\\s*\\S+\\s+\\S+\\s+([*?]\\s+\\S+\\s+\\S+|\\S+\\s+\\S+\\s+[*?])\\s*$';

/** The shape of an IANA zone name (Area/Location, up to three segments) or a single word such as UTC. */
export const TIMEZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$';

/**
 * A Go duration as CEL's `duration()` and time.ParseDuration read it, restricted to ms/s/m/h and to sizes that
 * cannot overflow Go's int64 nanoseconds within the field's maxLength.
 */
export const DURATION_PATTERN = '^([0-9]{1,6}(\\.[0-9]{1,9})?(ms|s|m|h))+$';

/** Quotes a string as a CEL single-quoted string literal (backslashes and quotes escaped). */
export function celString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export const MIN_INTERVAL = '30s';
/** A day: long enough for any re-check cadence, far below the ~596 h at which a JavaScript timer overflows. */
export const MAX_INTERVAL = '24h';
/**
 * Wildcards per function name glob. Matching is linear whatever the glob; the limit keeps selectors readable and
 * the API server's own regular expression checks cheap.
 */
export const MAX_GLOB_WILDCARDS = 16;
/** At most MAX_GLOB_WILDCARDS of `*` and `?`; the two classes are disjoint, so RE2 and JavaScript run it in linear time. */
export const GLOB_WILDCARDS_PATTERN = `^[^*?]*([*?][^*?]*){0,${MAX_GLOB_WILDCARDS}}$`;

/** The retention periods CloudWatch Logs' PutRetentionPolicy accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
export const MAX_RESERVED_CONCURRENCY = 100000;

export const CEL_RULES = {
  selectorNotEmpty: {
    rule:
      '(has(self.functionNames) && size(self.functionNames) > 0) || (has(self.tags) && size(self.tags) > 0) || ' +
      '(has(self.tagExpressions) && size(self.tagExpressions) > 0)',
    message:
      'must set at least one of functionNames, tags or tagExpressions (functionNames: ["*"] matches every function on purpose)',
  },
  tagExpressionValuesRequired: {
    rule: "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
    message: 'must be non-empty when operator is In or NotIn',
    fieldPath: '.values',
  },
  tagExpressionValuesForbidden: {
    rule: "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
    message: 'must be empty when operator is Exists or DoesNotExist',
    fieldPath: '.values',
  },
  qualifierNotLatest: {
    rule: "self != '$LATEST'",
    message: 'must not be $LATEST: provisioned concurrency needs an alias or a published version',
  },
  cronShape: {
    rule: `self.matches(${celString(CRON_PATTERN)})`,
    message: 'must be a 5-field cron expression: minute hour day-of-month month day-of-week',
  },
  cronDayFields: {
    // Only meaningful once the shape holds; the shape rule reports malformed expressions.
    rule: `!self.matches(${celString(CRON_PATTERN)}) || self.matches(${celString(CRON_DAY_FIELDS_PATTERN)})`,
    message: 'must leave day-of-month or day-of-week as * or ?: AWS schedules cannot restrict both',
  },
  timezoneShape: {
    rule: `self.matches(${celString(TIMEZONE_PATTERN)})`,
    message: 'must be an IANA time zone name such as UTC or Europe/Berlin',
  },
  intervalMinimum: {
    // The pattern guard keeps duration() from failing on a malformed value; the schema's pattern reports that.
    rule: `!self.matches(${celString(DURATION_PATTERN)}) || duration(self) >= duration('${MIN_INTERVAL}')`,
    message: `must be at least ${MIN_INTERVAL}`,
  },
  intervalMaximum: {
    rule: `!self.matches(${celString(DURATION_PATTERN)}) || duration(self) <= duration('${MAX_INTERVAL}')`,
    message: `must be at most ${MAX_INTERVAL}`,
  },
  globWildcards: {
    rule: `self.matches(${celString(GLOB_WILDCARDS_PATTERN)})`,
    message: `must have at most ${MAX_GLOB_WILDCARDS} wildcards (* or ?)`,
  },
  reservedConcurrencyValue: {
    // The field is int-or-string in the CRD (a structural schema allows no richer anyOf), so the allowed values
    // are spelled out here. In the CLI the TypeBox union enforces the same set.
    rule: `type(self) == string ? self == 'Unreserved' : (self >= 0 && self <= ${MAX_RESERVED_CONCURRENCY})`,
    message: `must be an integer >= 0 (at most ${MAX_RESERVED_CONCURRENCY}) or "Unreserved"`,
  },
  loggingLevelsNeedJson: {
    // Lambda refuses ApplicationLogLevel/SystemLogLevel unless LogFormat is JSON.
    rule: "self.format == 'JSON' || (!has(self.applicationLogLevel) && !has(self.systemLogLevel))",
    message: 'applicationLogLevel and systemLogLevel need format: JSON (Lambda refuses log levels with Text)',
  },
  asyncInvocationNotEmpty: {
    rule: 'has(self.maximumRetryAttempts) || has(self.maximumEventAgeSeconds)',
    message: 'must set maximumRetryAttempts or maximumEventAgeSeconds',
  },
  rolloutBatchWithinLimit: {
    // A batch larger than maxFunctions could never run: the guard stops the pass before the batch is taken.
    rule: '!has(self.batchSize) || !has(self.maxFunctions) || self.batchSize <= self.maxFunctions',
    message: 'must not exceed maxFunctions: a batch larger than the limit would always be stopped',
    fieldPath: '.batchSize',
  },
} as const satisfies Record<string, CelRule>;
