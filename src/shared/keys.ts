/**
 * The `namespace/name` key of a namespaced object, the one way every part of the controller names a policy (work
 * queue, caches, status, events, metrics). A missing namespace is `default`, as kubectl and policy files read it.
 */
export const DEFAULT_NAMESPACE = 'default';

export interface NamespacedObject {
  metadata: { name: string; namespace?: string | undefined };
}

export function namespaceOf(object: NamespacedObject): string {
  return object.metadata.namespace ?? DEFAULT_NAMESPACE;
}

export function objectKey(object: NamespacedObject): string {
  return `${namespaceOf(object)}/${object.metadata.name}`;
}
