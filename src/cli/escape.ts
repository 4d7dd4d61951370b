/**
 * Text that reaches a terminal from outside the program — function names and tags read from AWS, AWS error
 * messages, file names, policy text — is escaped first: a control character could move the cursor, rewrite what
 * was printed before, set the window title or hide text (ANSI escape sequences), and bidirectional overrides can
 * make a line read differently from what it holds. Printable text, including non-ASCII letters, is kept.
 */

/** C0 controls (incl. ESC, CR, LF, TAB), DEL, C1 controls (incl. the 8-bit CSI), bidi embeddings/isolates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this is for
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw of the above (it escapes C0 itself; its own line breaks are structure). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function hex(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** One line of terminal-safe text: every unsafe character as `\xNN` / `\u{NNNN}`, backslashes left as they are. */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (ch) => hex(ch.codePointAt(0) ?? 0));
}

/** Multi-line text whose own line breaks are kept (each line escaped). */
export function escapeTerminalLines(text: string): string {
  return text
    .split('\n')
    .map((line) => escapeTerminal(line))
    .join('\n');
}

/**
 * JSON text with the characters JSON.stringify leaves raw but a terminal may act on (DEL, C1, bidi) written as
 * `\uNNNN` escapes: the document parses to the same value, and `plan -o json` printed to a terminal stays inert.
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** Whether `text` holds anything `escapeTerminal` would change. */
export function hasUnsafe(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text);
}
