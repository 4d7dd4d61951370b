/**
 * Where a field of a YAML (or JSON) document is: the 1-based line of a Kubernetes field path such as
 * `spec.settings.provisionedConcurrency.windows[0].start` or `spec.selector.tags[tier]`. A path that does not
 * exist in the document (a missing required field) resolves to its deepest existing ancestor, so a person is sent
 * to the object the field belongs in.
 */
import { isMap, isScalar, isSeq, type LineCounter, type Node, type ParsedNode } from 'yaml';

/** Splits a field path into keys and indexes: `a.b[0].c[key]` -> ['a', 'b', '0', 'c', 'key']. */
export function pathSegments(path: string): string[] {
  const segments: string[] = [];
  const pattern = /([^.[\]]+)|\[([^\]]*)\]/g;
  for (const match of path.matchAll(pattern)) segments.push(match[1] ?? match[2] ?? '');
  return segments;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

/**
 * The line of `path` in the document whose root node is `root`. Undefined when nothing of the path (not even the
 * root) carries a position, e.g. for a document built in memory.
 */
export function fieldLine(root: ParsedNode | Node | null, lineCounter: LineCounter, path: string): number | undefined {
  let node: unknown = root;
  let offset = isNodeWithRange(root) ? root.range[0] : undefined;
  for (const segment of pathSegments(path)) {
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === segment);
      if (pair === undefined) break;
      // The key's line, not the value's: a nested map's value starts on the line below its key.
      if (isNodeWithRange(pair.key)) offset = pair.key.range[0];
      node = pair.value;
    } else if (isSeq(node)) {
      const index = Number(segment);
      const item = Number.isInteger(index) ? node.items[index] : undefined;
      if (item === undefined) break;
      if (isNodeWithRange(item)) offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}

function isNodeWithRange(value: unknown): value is { range: [number, number, number] } {
  if (typeof value !== 'object' || value === null || !('range' in value)) return false;
  const range = (value as { range: unknown }).range;
  return Array.isArray(range) && typeof range[0] === 'number';
}
