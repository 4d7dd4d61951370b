/**
 * Log retention: PutRetentionPolicy on the function's log group. Functions can share a group, so the region's
 * context remembers the groups this plan already sets: a shared group is written once, and two retentions wanted
 * for one group are refused (SharedLogGroup) instead of alternating from pass to pass.
 */
import type { DiffOutput, FieldContext } from './common.ts';
import { refuse, tag } from './common.ts';

export function diffLogRetention({ fn, merged, region }: FieldContext, out: DiffOutput): void {
  const retention = merged.logRetentionDays;
  if (!retention) return;
  const group = fn.logGroup;
  if (group === undefined) {
    refuse(out, 'logRetentionDays', 'NotRead', 'the log group was not read', retention.policy);
    return;
  }
  // A group that does not exist yet keeps nothing; Lambda creates it on the first invocation and the next check
  // sets its retention.
  if (!group.exists) return;
  const other = region.retentionPlanned.get(group.name);
  if (other && other.days !== retention.value) {
    refuse(
      out,
      'logRetentionDays',
      'SharedLogGroup',
      `log group ${group.name} is shared with ${other.fn}, whose policy ${other.policy} wants ${other.days} days`,
      retention.policy,
    );
    return;
  }
  if (!other)
    region.retentionPlanned.set(group.name, { days: retention.value, fn: fn.name, policy: retention.policy.id });
  if (group.retentionInDays === retention.value) return;
  out.drift.push({
    field: 'logRetentionDays',
    desired: retention.value,
    actual: group.retentionInDays ?? 'Never expire',
    policy: retention.policy.id,
  });
  // One write per group: the first function of the region that wants it carries the action.
  if (!other)
    out.actions.push(
      tag(
        { api: 'PutRetentionPolicy', logGroupName: group.name, retentionInDays: retention.value },
        'logRetentionDays',
      ),
    );
}
