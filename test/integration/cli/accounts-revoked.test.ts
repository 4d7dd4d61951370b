/**
 * `apply` after a namespace's grant of an account was revoked: the scheduled actions its policy created there stay,
 * even where another team's policy, still granted, governs the same function (its pass would otherwise remove
 * provisioned-concurrency schedules nothing it knows declares).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { awsArgs, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const EU = 'eu-central-1';
const HOME = '123456789012';
const PAYMENTS = '210987654321';
const PREFIX = 'lambda-policy-controller.payments.windows.business-hours';

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

function repo(paymentsTeam: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lpc-revoked-cli-'));
  writeFileSync(
    join(dir, 'grants.yaml'),
    [
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: payments, labels: { team: ${paymentsTeam} } }\n`,
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: platform, labels: { team: payments } }\n`,
      `apiVersion: lambdapolicy.io/v1alpha1
kind: AwsAccount
metadata: { name: payments-prod }
spec:
  accountId: "${PAYMENTS}"
  regions: [${EU}]
  assumeRole: { roleArn: "arn:aws:iam::${PAYMENTS}:role/lpc" }
  policyNamespaces: { matchLabels: { team: payments } }
`,
    ].join('---\n'),
  );
  writeFileSync(
    join(dir, 'policies.yaml'),
    [
      `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: windows, namespace: payments }
spec:
  selector: { accounts: [payments-prod], functionNames: [payments-api] }
  settings:
    provisionedConcurrency:
      qualifier: live
      value: 1
      windows:
        - { name: business-hours, start: "0 8 * * 1-5", end: "0 19 * * 1-5", timezone: Europe/Berlin, value: 2 }
`,
      `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: memory, namespace: platform }
spec:
  selector: { accounts: [payments-prod], functionNames: ["*"] }
  settings: { memorySize: 1024 }
`,
    ].join('---\n'),
  );
  return dir;
}

const actionNames = (e: TestEmulator) =>
  [...(e.emulator.runtime.accounts.get(PAYMENTS)?.store.regions.get(EU)?.actions.values() ?? [])]
    .map((a) => a.name)
    .sort();

describe('apply after a revoked grant', () => {
  it('leaves the refused policy’s scheduled actions in place while the granted policy is applied', async () => {
    emu = await startTestEmulator({
      accountId: HOME,
      functions: [],
      accounts: [
        {
          accountId: PAYMENTS,
          roles: [{ name: 'lpc' }],
          functions: [{ name: 'payments-api', region: EU, memorySize: 512, aliases: [{ name: 'live', version: '1' }] }],
        },
      ],
    });
    const granted = await runCli(['apply', '-f', repo('payments'), '--yes', ...awsArgs(emu.url)]);
    expect(granted.stderr).not.toMatch(/error/i);
    expect(actionNames(emu)).toEqual([`${PREFIX}.end`, `${PREFIX}.start`]);
    const writesBefore = emu.emulator.runtime.accounts.get(PAYMENTS)?.writes.length ?? 0;

    const revoked = await runCli(['apply', '-f', repo('elsewhere'), '--yes', ...awsArgs(emu.url)]);

    expect(revoked.stderr).toContain('policy payments/windows: OutOfScope');
    expect(actionNames(emu)).toEqual([`${PREFIX}.end`, `${PREFIX}.start`]);
    const after = emu.emulator.runtime.accounts.get(PAYMENTS)?.writes.slice(writesBefore) ?? [];
    expect(after.map((w) => w.api)).not.toContain('DeleteScheduledAction');
    expect(after.map((w) => w.api)).not.toContain('DeregisterScalableTarget');
  });
});
