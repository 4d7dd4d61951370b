import { describe, expect, it } from 'vitest';
import { classifyVariable, describeFinding, findSecretLikeVariables } from '../../../src/engine/checks/secrets.ts';

// Real-looking but invented values; none is a live credential.
const ACCESS_KEY = ['AKIA', 'Z7Q4NVX2KD8PLM3W'].join('');
const SECRET_KEY = ['wJalrXUtnFEMI/K7MDENG', '/bPxRfiCYzEXAMPLEKEY'].join('');
const PEM = ['-----BEGIN RSA PRIVATE', ' KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----'].join('');
const GITHUB = ['ghp_', 'x8Kq2LmN4pR7sT1vW3yZ5aB9cD0eF6gH2jK4'].join('');

describe('secret-looking environment variables', () => {
  it.each<[string, string, string | undefined]>([
    ['DB_PASSWORD', 'hunter2hunter2', 'name'],
    ['STRIPE_SECRET', 'plain', 'name'],
    ['api_token', 'abc', 'name'],
    ['CLIENT_SECRET', 'x', 'name'],
    ['AWS_ACCESS_KEY', ACCESS_KEY, 'aws-access-key'],
    ['SOME_ID', ACCESS_KEY, 'aws-access-key'],
    ['TLS_KEY', PEM, 'private-key'],
    ['GH', GITHUB, 'token'],
    ['DATABASE_URL', 'postgres://app:s3cr3tpw@db.internal:5432/app', 'url-credentials'],
    ['SIGNING', SECRET_KEY, 'high-entropy'],
    // Allowed: names and values that only say where a secret lives.
    ['DB_SECRET_ARN', 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf', undefined],
    ['DB_PASSWORD', 'arn:aws:ssm:eu-central-1:123456789012:parameter/prod/db/password', undefined],
    ['DB_PASSWORD', '/prod/db/password', undefined],
    ['API_KEY', '{{resolve:secretsmanager:prod/api:SecretString:key}}', undefined],
    ['DB_SECRET_NAME', 'prod/db', undefined],
    ['PASSWORD_MIN_LENGTH', '12', undefined],
    ['TOKEN_TTL_SECONDS', '3600', undefined],
    ['DB_PASSWORD', '', undefined],
    // Ordinary configuration.
    ['LOG_LEVEL', 'INFO', undefined],
    ['TABLE_NAME', 'orders-prod', undefined],
    ['REQUEST_ID', '0f8fad5b-d9cb-469f-a165-70867728950e', undefined],
    ['ENDPOINT', 'https://api.example.com/v1/orders?region=eu-central-1', undefined],
    ['COMMIT', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', undefined],
  ])('%s=%s -> %s', (name, value, kind) => {
    expect(classifyVariable(name, value)).toBe(kind);
  });

  it('returns names sorted and never a value, prefix or length', () => {
    const findings = findSecretLikeVariables({ Z_TOKEN: 'zzzzzz', A_KEY: ACCESS_KEY, PLAIN: 'x' });
    expect(findings).toEqual([
      { name: 'A_KEY', kind: 'aws-access-key' },
      { name: 'Z_TOKEN', kind: 'name' },
    ]);
    const text = JSON.stringify(findings) + findings.map(describeFinding).join('\n');
    for (const leak of [ACCESS_KEY, ACCESS_KEY.slice(0, 8), 'zzzzzz', 'AKIA']) expect(text).not.toContain(leak);
  });
});
