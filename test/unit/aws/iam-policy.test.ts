/**
 * docs/iam/ against the code: the AWS calls are derived from src/aws (every SDK Command class a file imports from
 * an @aws-sdk/client-* package and sends with `new XCommand(`, and every SDK paginator `paginateX(` it calls),
 * turned into IAM actions, and compared with the
 * policy JSON files. A new SDK call without its permission, or a permission no code needs, fails here. The few
 * actions that are not an SDK call of ours are listed with the reason AWS requires them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..', '..');
const SRC_AWS = join(REPO, 'src', 'aws');
const IAM_DIR = join(REPO, 'docs', 'iam');

/** The IAM service prefix of each SDK client package the adapters use. */
const SERVICE_PREFIX: Record<string, string> = {
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-application-auto-scaling': 'application-autoscaling',
  '@aws-sdk/client-resource-groups-tagging-api': 'tag',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-organizations': 'organizations',
};

/** Operations whose IAM action is not named like the operation (Service Authorization Reference). */
const ACTION_OF_OPERATION: Record<string, string> = {
  'lambda:GetLayerVersionByArn': 'lambda:GetLayerVersion',
};

/** Operations AWS authorizes without any permission, so a policy has nothing to grant for them. */
const NO_PERMISSION_NEEDED: Record<string, string> = {
  'sts:GetCallerIdentity': 'STS answers it for any valid credentials, even under an explicit Deny',
};

/** Permissions a call needs beyond its own action, with the reason. */
const IMPLIED: Record<string, { actions: string[]; why: string }> = {
  'lambda:GetFunction': {
    actions: ['lambda:ListTags'],
    why: 'GetFunction returns the tags of a tagged function and then also needs lambda:ListTags',
  },
  'application-autoscaling:RegisterScalableTarget': {
    actions: ['iam:CreateServiceLinkedRole', 'lambda:GetProvisionedConcurrencyConfig'],
    why:
      'the first registration in an account creates AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency; ' +
      "Application Auto Scaling wants callers to hold the target service's permissions its service-linked role uses (Put/Get/Delete ProvisionedConcurrencyConfig)",
  },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

interface DerivedCall {
  action: string;
  file: string;
}

/** Every SDK command sent from src/aws, as `prefix:Operation`. */
function derivedCalls(): DerivedCall[] {
  const calls: DerivedCall[] = [];
  const importPattern = /import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g;
  for (const file of sourceFiles(SRC_AWS)) {
    const text = readFileSync(file, 'utf8');
    for (const [, names = '', pkg = ''] of text.matchAll(importPattern)) {
      const imported = names
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '' && !n.startsWith('type '));
      for (const name of imported) {
        // `new XCommand(...)` sends X; an SDK paginator `paginateX(...)` sends X page after page.
        const operation = name.endsWith('Command')
          ? new RegExp(`new\\s+${name}\\s*\\(`).test(text) && name.slice(0, -'Command'.length)
          : /^paginate[A-Z]/.test(name) && new RegExp(`${name}\\s*\\(`).test(text) && name.slice('paginate'.length);
        if (!operation) continue;
        const prefix = SERVICE_PREFIX[pkg];
        if (prefix === undefined) throw new Error(`${relative(REPO, file)}: no IAM prefix known for ${pkg}`);
        calls.push({ action: `${prefix}:${operation}`, file: relative(REPO, file) });
      }
    }
  }
  return calls;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

function statements(file: string): Statement[] {
  const doc = JSON.parse(readFileSync(join(IAM_DIR, file), 'utf8')) as { Version: string; Statement: Statement[] };
  expect(doc.Version).toBe('2012-10-17');
  return doc.Statement;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const allowed = (file: string) =>
  new Set(
    statements(file)
      .filter((s) => s.Effect === 'Allow')
      .flatMap(actionsOf),
  );
const isRead = (action: string) => /^[a-z-]+:(List|Get|Describe)/.test(action);

/** What a policy must grant: each call's action (renamed where IAM differs), plus what it implies. */
function requiredActions(calls: readonly DerivedCall[]): Set<string> {
  const required = new Set<string>();
  for (const { action } of calls) {
    if (action in NO_PERMISSION_NEEDED) continue;
    required.add(ACTION_OF_OPERATION[action] ?? action);
    for (const implied of IMPLIED[action]?.actions ?? []) required.add(implied);
  }
  return required;
}

const allCalls = derivedCalls();
/** Organizations is read through the AwsOrganization's own role (policy-organizations.json), not the fleet role. */
const isOrganizations = (c: DerivedCall) => c.action.startsWith('organizations:');
const calls = allCalls.filter((c) => !isOrganizations(c));
const sorted = (s: Iterable<string>) => [...s].sort();

describe('the IAM policies in docs/iam', () => {
  it('derives the calls from src/aws: reads, writes and the identity check are all found', () => {
    const actions = new Set(calls.map((c) => c.action));

    // A derivation that finds nothing would make every comparison below pass vacuously.
    expect(actions).toContain('lambda:ListFunctions');
    expect(actions).toContain('lambda:UpdateFunctionConfiguration');
    expect(actions).toContain('application-autoscaling:PutScheduledAction');
    expect(actions).toContain('tag:GetResources');
    expect(actions).toContain('sts:GetCallerIdentity');
  });

  it('policy.json grants every action the code needs, and nothing else', () => {
    expect(sorted(allowed('policy.json'))).toEqual(sorted(requiredActions(calls)));
  });

  it('policy-tag-conditioned.json grants the same actions, every Lambda write only on tagged functions', () => {
    // Assert: same actions
    expect(sorted(allowed('policy-tag-conditioned.json'))).toEqual(sorted(requiredActions(calls)));

    // Assert: no Lambda write without the tag condition
    for (const s of statements('policy-tag-conditioned.json')) {
      const lambdaWrites = actionsOf(s).filter((a) => a.startsWith('lambda:') && !isRead(a));
      if (lambdaWrites.length === 0) continue;
      expect(s.Condition?.StringEquals, `${s.Sid} grants ${lambdaWrites.join(', ')}`).toHaveProperty([
        'aws:ResourceTag/lambdapolicy.io/managed',
      ]);
    }
  });

  it('policy-read-only.json (Audit only) grants exactly the reads', () => {
    const reads = sorted([...requiredActions(calls)].filter(isRead));

    expect(sorted(allowed('policy-read-only.json'))).toEqual(reads);
  });

  it('scopes the writes: Lambda writes to functions, Application Auto Scaling writes to Lambda provisioned concurrency', () => {
    for (const file of ['policy.json', 'policy-tag-conditioned.json']) {
      for (const s of statements(file)) {
        const actions = actionsOf(s);
        if (actions.some((a) => a.startsWith('lambda:') && !isRead(a))) {
          expect(s.Resource, `${file} ${s.Sid}`).toBe('arn:aws:lambda:*:*:function:*');
        }
        if (actions.some((a) => a.startsWith('application-autoscaling:') && !isRead(a))) {
          expect(s.Condition?.StringEquals, `${file} ${s.Sid}`).toEqual({
            'application-autoscaling:service-namespace': 'lambda',
            'application-autoscaling:scalable-dimension': 'lambda:function:ProvisionedConcurrency',
          });
        }
        if (actions.includes('iam:CreateServiceLinkedRole')) {
          expect(s.Condition?.StringLike).toEqual({
            'iam:AWSServiceName': 'lambda.application-autoscaling.amazonaws.com',
          });
        }
      }
    }
  });

  it('policy-organizations.json grants exactly the Organizations reads discovery makes', () => {
    const organizations = sorted(requiredActions(allCalls.filter(isOrganizations)));
    expect(organizations).toContain('organizations:ListAccountsForParent');
    expect(organizations.every(isRead)).toBe(true);
    expect(sorted(allowed('policy-organizations.json'))).toEqual(organizations);
  });

  it('trusts exactly the chart ServiceAccount, through IRSA or EKS Pod Identity', () => {
    const [irsa] = statements('trust-irsa.json');
    const [podIdentity] = statements('trust-pod-identity.json');

    expect(irsa?.Action).toBe('sts:AssumeRoleWithWebIdentity');
    const irsaConditions = Object.entries(irsa?.Condition?.StringEquals ?? {});
    expect(irsaConditions.find(([key]) => key.endsWith(':sub'))?.[1]).toBe(
      'system:serviceaccount:lambda-policy-system:lpc-lambda-policy-controller',
    );
    expect(irsaConditions.find(([key]) => key.endsWith(':aud'))?.[1]).toBe('sts.amazonaws.com');
    expect(podIdentity?.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(podIdentity?.Condition?.StringEquals).toMatchObject({
      'aws:RequestTag/kubernetes-namespace': 'lambda-policy-system',
      'aws:RequestTag/kubernetes-service-account': 'lpc-lambda-policy-controller',
    });
  });
});
