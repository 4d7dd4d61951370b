/** `text` cut to `max` characters with an ellipsis (status messages, condition messages, event notes). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // The ellipsis counts towards the limit; never cut a surrogate pair in half (the API server counts code points).
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
