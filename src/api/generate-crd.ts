/**
 * Writes the LambdaPolicy CRD to crds/ and to the Helm chart's crds/ (run as `npm run generate:crd`), or with
 * `--check` exits 1 when a checked-in file is stale. Both files are generated from the one schema, so the chart
 * never carries a hand-kept copy. Runs directly on Node 24's type stripping: `node src/api/generate-crd.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCOUNT_CRD_FILE, CRD_FILE, renderAccountCrdYaml, renderCrdYaml } from './crd.ts';
import { ORGANIZATION_CRD_FILE, renderOrganizationCrdYaml } from './organization-crd.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
/** Same relative path inside the chart: charts/lambda-policy-controller/crds/<name>.yaml. */
const targets = [
  ...[CRD_FILE, join('charts', 'lambda-policy-controller', CRD_FILE)].map((file) => ({
    file,
    rendered: renderCrdYaml(),
  })),
  ...[ACCOUNT_CRD_FILE, join('charts', 'lambda-policy-controller', ACCOUNT_CRD_FILE)].map((file) => ({
    file,
    rendered: renderAccountCrdYaml(),
  })),
  ...[ORGANIZATION_CRD_FILE, join('charts', 'lambda-policy-controller', ORGANIZATION_CRD_FILE)].map((file) => ({
    file,
    rendered: renderOrganizationCrdYaml(),
  })),
];

if (process.argv.includes('--check')) {
  let stale = false;
  for (const { file, rendered } of targets) {
    let current = '';
    try {
      current = readFileSync(join(repoRoot, file), 'utf8');
    } catch {
      // A missing file is stale too.
    }
    if (current !== rendered) {
      console.error(`${file} is stale: run npm run generate:crd`);
      stale = true;
    } else {
      console.log(`${file} is up to date`);
    }
  }
  if (stale) process.exit(1);
} else {
  for (const { file, rendered } of targets) {
    writeFileSync(join(repoRoot, file), rendered);
    console.log(`wrote ${file}`);
  }
}
