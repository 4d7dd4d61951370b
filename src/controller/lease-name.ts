/**
 * The name of the controller's leader-election Lease. Kept apart from leader.ts so the CLI can parse
 * `--leader-election-id` without loading the Kubernetes client.
 */

/**
 * The default Lease. The Helm chart passes `<release fullname>-leader` (same as this for a release named
 * lambda-policy-controller) and limits get/update to that name, so two installations in one namespace never share one.
 */
export const DEFAULT_LEASE_NAME = 'lambda-policy-controller-leader';

/** A Lease name is a DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 characters. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function leaseNameProblem(name: string): string | undefined {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return `not a valid Lease name (a DNS-1123 subdomain: lowercase letters, digits, '-' and '.'): ${JSON.stringify(name)}`;
  }
  return undefined;
}
