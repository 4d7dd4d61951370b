/**
 * A Kubernetes label selector (matchLabels + matchExpressions), as AwsAccount.spec.policyNamespaces and
 * LambdaPolicy.spec.selector.accountSelector use it, and its evaluation over a label set. Evaluation follows
 * apimachinery: every matchLabels pair and every expression must hold; an empty selector matches everything.
 */
import Type, { type Static } from 'typebox';

const LABEL_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';

export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 63 }), {
        maxProperties: 32,
        description: 'Labels that must all be present with exactly these values.',
      }),
    ),
    matchExpressions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String({ minLength: 1, maxLength: 317, pattern: LABEL_KEY_PATTERN }),
            operator: Type.Enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], { type: 'string' }),
            values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 64 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 16, description: 'Label expressions that must all hold.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'A Kubernetes label selector; {} matches everything.' },
);

export type LabelSelector = Static<typeof LabelSelectorSchema>;

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === 'Exists'
        ? has
        : e.operator === 'DoesNotExist'
          ? !has
          : e.operator === 'In'
            ? has && values.includes(labels[e.key] ?? '')
            : !has || !values.includes(labels[e.key] ?? '');
    if (!ok) return false;
  }
  return true;
}
