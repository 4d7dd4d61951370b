/**
 * Reading the field errors out of what kubectl prints when the API server refuses an object. kubectl prints the
 * server's Status as text, in one of these shapes:
 *
 *   The LambdaPolicy "x" is invalid: spec.timeout: Invalid value: 901: ... should be less than or equal to 900
 *   The LambdaPolicy "x" is invalid: \n* spec.mode: Unsupported value: ...\n* <nil>: Invalid value: null: ...
 *   ... cannot be handled as a LambdaPolicy: strict decoding error: unknown field "spec.dryRun"
 *
 * The first two are field.ErrorList causes (`<path>: <detail>`); the third is strict field validation, which names
 * the path inside the message and may list several fields.
 */

export interface ServerFieldError {
  /** The field path as the server names it, e.g. `spec.settings.provisionedConcurrency.windows[0].start`. */
  readonly path: string;
  /** The rest of the server's line for that field (type of error, value, message). */
  readonly detail: string;
}

const INVALID_MARKER = ' is invalid: ';
const UNKNOWN_FIELD = /unknown field "([^"]+)"/g;
const CAUSE = /^([^\s:]+): (.*)$/s;

export function serverFieldErrors(output: string): ServerFieldError[] {
  const errors: ServerFieldError[] = [];
  for (const match of output.matchAll(UNKNOWN_FIELD)) {
    errors.push({ path: match[1] ?? '', detail: match[0] });
  }
  const at = output.indexOf(INVALID_MARKER);
  if (at >= 0) {
    const body = output.slice(at + INVALID_MARKER.length).trim();
    // Several causes come as a bullet list, one cause as the rest of the line.
    const causes = body.startsWith('* ') ? body.split(/^\* /m).filter((cause) => cause.trim() !== '') : [body];
    for (const cause of causes) {
      const parsed = CAUSE.exec(cause.trim());
      if (parsed) errors.push({ path: parsed[1] ?? '', detail: (parsed[2] ?? '').trim() });
    }
  }
  return errors;
}
