/**
 * Writes the LambdaPolicy CRD to crds/ (run as `npm run generate:crd`), or with `--check` exits 1 when the
 * checked-in file is stale. Runs directly on Node 24's type stripping: `node src/api/generate-crd.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_FILE, renderCrdYaml } from './crd.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const target = join(repoRoot, CRD_FILE);
const rendered = renderCrdYaml();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  if (current !== rendered) {
    console.error(`${CRD_FILE} is stale: run npm run generate:crd`);
    process.exit(1);
  }
  console.log(`${CRD_FILE} is up to date`);
} else {
  writeFileSync(target, rendered);
  console.log(`wrote ${CRD_FILE}`);
}
