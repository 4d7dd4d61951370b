/** Typed errors of the engine. The planner turns them into refusals; they never escape `plan`. */

/** A window's cron or time zone cannot be parsed, or cannot be expressed as an AWS schedule. */
export class ScheduleError extends Error {
  readonly code = 'InvalidSchedule';
  override readonly name = 'ScheduleError';
}
