/**
 * spec.checks: report-only rules over what the inventory read. Each violated rule is one `{check, actual,
 * message}` entry for the policy that asked; nothing here ever becomes an action.
 */
import type { Checks } from '../../api/schema.ts';
import type { Architecture, ObservedFunction, RuntimeTable, Violation } from '../model.ts';
import { runtimeDeprecation } from './runtimes.ts';
import { describeFinding } from './secrets.ts';

const MB = 1024 * 1024;

const mb = (bytes: number) => Math.round((bytes / MB) * 100) / 100;

export interface CheckContext {
  now: Date;
  runtimes: RuntimeTable;
  /** The architecture the function is meant to have (the governing policy's), when it is governed. */
  desiredArchitecture?: Architecture;
}

export function hasChecks(checks: Checks | undefined): checks is Checks {
  return checks !== undefined && Object.values(checks).some((v) => v !== undefined && v !== false);
}

/** The violations of one policy's checks for one function (in the order of the checks below). */
export function evaluateChecks(fn: ObservedFunction, checks: Checks, policy: string, ctx: CheckContext): Violation[] {
  const out: Violation[] = [];
  const add = (check: Violation['check'], actual: unknown, message: string) =>
    out.push({ check, actual, message, policy });

  if (checks.maxPackageSizeMB !== undefined && fn.packageType === 'Zip' && fn.codeSize !== undefined) {
    const layers = fn.layers ?? [];
    const layerBytes = layers.reduce((sum, l) => sum + l.codeSize, 0);
    const total = fn.codeSize + layerBytes;
    if (total > checks.maxPackageSizeMB * MB) {
      const parts =
        layers.length > 0
          ? ` (code ${mb(fn.codeSize)} MB + ${layers.length} layer${layers.length === 1 ? '' : 's'} ${mb(layerBytes)} MB)`
          : '';
      add('maxPackageSizeMB', mb(total), `package is ${mb(total)} MB${parts}, above ${checks.maxPackageSizeMB} MB`);
    }
  }

  if (checks.runtime !== undefined) {
    const message = runtimeDeprecation(fn.runtime, checks.runtime.deprecatedWithinDays, ctx.now, ctx.runtimes);
    if (message !== undefined) add('runtime', fn.runtime, message);
  }

  if (checks.noSecretsInEnvironment === true) {
    if (fn.environmentError !== undefined) {
      add(
        'noSecretsInEnvironment',
        'not read',
        `environment variables could not be read (${fn.environmentError}): the controller may not use their KMS key`,
      );
    }
    for (const finding of fn.secretLikeVariables ?? []) {
      add('noSecretsInEnvironment', finding.name, describeFinding(finding));
    }
  }

  if (checks.asyncFailureDestination === 'Required' && fn.deadLetterTarget === undefined) {
    if (fn.asyncConfig === undefined) {
      add('asyncFailureDestination', 'not read', 'the asynchronous invocation config was not read');
    } else if (!fn.asyncConfig?.onFailureDestination) {
      add(
        'asyncFailureDestination',
        'none',
        'failed asynchronous events are dropped: set a dead-letter queue (DeadLetterConfig) or an on-failure destination',
      );
    }
  }

  if (checks.layersSupportArchitecture === true) {
    const wanted = [...new Set([fn.architecture, ...(ctx.desiredArchitecture ? [ctx.desiredArchitecture] : [])])];
    for (const layer of fn.layers ?? []) {
      const archs = layer.compatibleArchitectures;
      if (archs === undefined) {
        const why = layer.readError ? ` (${layer.readError})` : '';
        add(
          'layersSupportArchitecture',
          layer.arn,
          `CompatibleArchitectures of layer ${layer.arn} could not be read${why}`,
        );
        continue;
      }
      const missing = wanted.filter((a) => !archs.includes(a));
      if (missing.length === 0) continue;
      const listed = archs.length > 0 ? archs.join(', ') : 'none';
      add(
        'layersSupportArchitecture',
        layer.arn,
        `layer ${layer.arn} lists CompatibleArchitectures ${listed}, not ${missing.join(', ')}`,
      );
    }
  }
  return out;
}
