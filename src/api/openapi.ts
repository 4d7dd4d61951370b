/**
 * Converts the TypeBox (JSON Schema) definitions into the structural OpenAPI v3 schema a CRD needs:
 * - unions of string literals and `const` become `enum`s with `type: string`;
 * - `Record` (patternProperties "^.*$") becomes `additionalProperties`;
 * - an integer-or-string union becomes `x-kubernetes-int-or-string: true` (a structural schema allows no richer
 *   `anyOf`; the allowed values are then a CEL rule the node already carries);
 * - `additionalProperties: false` is dropped (the API server prunes or, with strict field validation, rejects
 *   unknown fields instead);
 * - annotations private to this project (`x-error-message`) are dropped.
 * Anything else it does not know makes it throw, so a new keyword can never slip into the CRD unconverted.
 */

export type OpenApiSchema = { [key: string]: unknown };

/** Keywords copied as they are. */
const PASSTHROUGH = new Set([
  'type',
  'format',
  'description',
  'default',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'required',
  'nullable',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
]);

const DROPPED = new Set(['x-error-message', '$schema', '$id', 'title', 'examples']);

export class SchemaConversionError extends Error {
  override readonly name = 'SchemaConversionError';
  readonly code = 'SchemaConversion';
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path || '<root>'}: ${message}`);
    this.path = path;
  }
}

/** Converts one JSON Schema node (and everything below it) into its structural OpenAPI v3 form. */
export function toStructuralSchema(schema: unknown, path = ''): OpenApiSchema {
  if (!isRecord(schema)) throw new SchemaConversionError(path, 'schema node is not an object');
  const out: OpenApiSchema = {};

  if ('anyOf' in schema) Object.assign(out, convertUnion(schema.anyOf, path));
  if ('const' in schema) Object.assign(out, literal(schema.const, path));

  for (const [key, value] of Object.entries(schema)) {
    if (key === 'anyOf' || key === 'const' || DROPPED.has(key)) continue;
    if (PASSTHROUGH.has(key)) {
      out[key] = structuredClone(value);
    } else if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, child]) => [
          name,
          toStructuralSchema(child, `${path}.${name}`),
        ]),
      );
    } else if (key === 'items') {
      out.items = toStructuralSchema(value, `${path}[*]`);
    } else if (key === 'patternProperties') {
      const entries = Object.entries(value as Record<string, unknown>);
      const [pattern, child] = entries[0] ?? [];
      if (entries.length !== 1 || pattern !== '^.*$') {
        throw new SchemaConversionError(path, 'only a Record with free-form keys can become a structural map');
      }
      out.additionalProperties = toStructuralSchema(child, `${path}[*]`);
    } else if (key === 'additionalProperties') {
      if (value === false) continue;
      if (value === true) out['x-kubernetes-preserve-unknown-fields'] = true;
      else out.additionalProperties = toStructuralSchema(value, `${path}[*]`);
    } else {
      throw new SchemaConversionError(path, `keyword "${key}" has no structural form`);
    }
  }

  if (Array.isArray(out.enum) && out.type === undefined) out.type = enumType(out.enum, path);
  // Type.Unknown(): only legal in a structural schema as an explicitly open node.
  if (out.type === undefined && !out['x-kubernetes-int-or-string'] && !out['x-kubernetes-preserve-unknown-fields']) {
    throw new SchemaConversionError(path, 'node has no type (mark it x-kubernetes-preserve-unknown-fields)');
  }
  return inCanonicalOrder(out);
}

/** Key order of the generated YAML: what a node is first, its constraints next, its children and rules last. */
const KEY_ORDER = [
  'type',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'format',
  'nullable',
  'description',
  'default',
  'enum',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'items',
  'additionalProperties',
  'x-kubernetes-map-type',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-validations',
];

function inCanonicalOrder(node: OpenApiSchema): OpenApiSchema {
  const rank = (key: string) => {
    const index = KEY_ORDER.indexOf(key);
    return index === -1 ? KEY_ORDER.length : index;
  };
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => rank(a) - rank(b)));
}

function convertUnion(branches: unknown, path: string): OpenApiSchema {
  if (!Array.isArray(branches) || branches.length === 0) throw new SchemaConversionError(path, 'empty anyOf');
  const records = branches.filter(isRecord);
  if (records.length !== branches.length) throw new SchemaConversionError(path, 'anyOf branch is not a schema');
  if (records.every((branch) => 'const' in branch)) {
    const values = records.map((branch) => branch.const);
    return { type: enumType(values, path), enum: values };
  }
  const types = new Set(records.map((branch) => (typeof branch.type === 'string' ? branch.type : 'const-or-other')));
  if (types.size === 2 && types.has('integer') && types.has('string')) {
    return { 'x-kubernetes-int-or-string': true };
  }
  if (types.size === 2 && types.has('string') && types.has('null')) {
    return { type: 'string', nullable: true };
  }
  throw new SchemaConversionError(path, 'anyOf has no structural form (only enums and int-or-string are supported)');
}

function literal(value: unknown, path: string): OpenApiSchema {
  return { type: enumType([value], path), enum: [value] };
}

function enumType(values: readonly unknown[], path: string): string {
  const kinds = new Set(values.map((value) => (Number.isInteger(value) ? 'integer' : typeof value)));
  const [kind] = kinds;
  if (kinds.size !== 1 || (kind !== 'string' && kind !== 'integer' && kind !== 'boolean')) {
    throw new SchemaConversionError(path, 'enum values must all be strings, integers or booleans');
  }
  return kind;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
