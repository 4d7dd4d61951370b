/**
 * The layering of src/, checked on the import statements themselves (docs/architecture.md shows the same rules):
 * the engine stays pure, the Kubernetes plumbing stays out of the core and the AWS adapters, and the controller
 * runtime and the policy sources never depend on each other. A violation names the file and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');

/** A folder of src/ (`engine`, `kube`, ...) or, for a package import, the package name. */
interface Import {
  file: string;
  specifier: string;
  /** The src/ folder a relative import lands in; undefined for packages and node: modules. */
  folder: string | undefined;
}

interface Rule {
  name: string;
  /** Folders the rule applies to (the importing side). */
  from: readonly string[];
  /** Whether `imp` breaks the rule. */
  forbids: (imp: Import) => boolean;
}

const inFolders =
  (...folders: string[]) =>
  (imp: Import) =>
    imp.folder !== undefined && folders.includes(imp.folder);

/** What the engine may import: its own modules, the API types, the shared primitives and cron-parser. */
const ENGINE_ALLOWED_FOLDERS = new Set(['engine', 'api', 'shared']);
const ENGINE_ALLOWED_PACKAGES = new Set(['cron-parser']);

const RULES: readonly Rule[] = [
  {
    name: 'the engine does no I/O (only engine, api, shared and cron-parser)',
    from: ['engine'],
    forbids: (imp) =>
      imp.folder === undefined ? !ENGINE_ALLOWED_PACKAGES.has(imp.specifier) : !ENGINE_ALLOWED_FOLDERS.has(imp.folder),
  },
  {
    name: 'Kubernetes is not imported by the engine, the AWS adapters, the API or the shared primitives',
    from: ['engine', 'aws', 'api', 'shared', 'reconcile', 'emulator'],
    forbids: (imp) => imp.folder === 'kube' || imp.specifier.startsWith('@kubernetes/'),
  },
  {
    name: 'the Kubernetes plumbing does not reach up into the runtime, the sources, the pass or the CLI',
    from: ['kube'],
    forbids: inFolders('controller', 'sources', 'reconcile', 'cli', 'aws', 'engine', 'emulator'),
  },
  {
    name: 'the controller runtime does not import the policy sources',
    from: ['controller'],
    forbids: inFolders('sources'),
  },
  {
    name: 'the policy sources do not import the controller runtime',
    from: ['sources'],
    forbids: inFolders('controller'),
  },
  {
    name: 'the shared primitives import nothing of the project',
    from: ['shared'],
    forbids: (imp) => imp.folder !== undefined && imp.folder !== 'shared',
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (specifier === undefined) continue;
    let folder: string | undefined;
    if (specifier.startsWith('.')) {
      const target = relative(SRC, resolve(dirname(file), specifier));
      folder = target.split(/[\\/]/)[0];
    }
    out.push({ file: relative(SRC, file), specifier, folder });
  }
  return out;
}

function violations(imports: readonly Import[], rules: readonly Rule[] = RULES): string[] {
  const out: string[] = [];
  for (const imp of imports) {
    const folder = imp.file.split(/[\\/]/)[0] ?? '';
    for (const rule of rules) {
      if (rule.from.includes(folder) && rule.forbids(imp))
        out.push(`${imp.file} imports '${imp.specifier}': ${rule.name}`);
    }
  }
  return out;
}

describe('import rules of src/', () => {
  const imports = sourceFiles(SRC).flatMap((file) => importsOf(file, readFileSync(file, 'utf8')));

  it('reads the imports of every source file', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports.some((i) => i.file === 'controller/manager.ts' && i.folder === 'kube')).toBe(true);
  });

  it('holds for every import', () => {
    expect(violations(imports)).toEqual([]);
  });

  it.each([
    ['engine/plan.ts', "import { readFile } from 'node:fs/promises';", 'the engine does no I/O'],
    ['engine/plan.ts', "import { Aws } from '../aws/index.ts';", 'the engine does no I/O'],
    ['aws/executor.ts', "import { FINALIZER } from '../kube/finalizers.ts';", 'Kubernetes is not imported'],
    ['engine/diff.ts', "import type { V1Lease } from '@kubernetes/client-node';", 'Kubernetes is not imported'],
    ['controller/manager.ts', "import { FilePolicySource } from '../sources/files.ts';", 'the controller runtime'],
    ['sources/kubernetes.ts', "import { Manager } from '../controller/manager.ts';", 'the policy sources'],
    [
      'kube/sink.ts',
      "import type { PolicyStatusSink } from '../controller/status-publisher.ts';",
      'Kubernetes plumbing',
    ],
  ])('catches %s doing %s', (file, statement, rule) => {
    const found = violations(importsOf(join(SRC, file), statement));
    expect(found.length).toBeGreaterThan(0);
    expect(found.join('\n')).toContain(rule);
  });
});
