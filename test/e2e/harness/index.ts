/** The e2e harness: real kube-apiserver/etcd, kubectl, helm and moto from the pinned cache (docs/test-infra.md). */
export {
  ENSURE_SCRIPT,
  REPO_ROOT,
  TEST_INFRA_TOOLS,
  type TestInfraTool,
  type TestInfraVersions,
  testInfraBinary,
  testInfraBinDir,
  testInfraCacheRoot,
  testInfraVersions,
  testInfraVersionsKey,
} from './binaries.ts';
export { type CertificateFiles, type ClientIdentity, createClientCertificate } from './certs.ts';
export {
  attachControlPlane,
  ClusterClient,
  type ClusterCommandOptions,
  type ServiceAccountIdentity,
  type ServiceAccountKubeconfig,
} from './cluster-client.ts';
export { ControlPlane, type ControlPlaneOptions, startControlPlane } from './control-plane.ts';
export {
  CommandFailedError,
  NotReadyError,
  ProcessExitedError,
  TestInfraError,
  type TestInfraErrorCode,
  TestInfraMissingError,
  ToolMissingError,
} from './errors.ts';
export { type CommandResult, type RunOptions, runCommand } from './exec.ts';
export { type KubeconfigSpec, renderKubeconfig, writeKubeconfig } from './kubeconfig.ts';
export { MOTO_DEFAULT_ENV, type MotoClientConfig, type MotoOptions, type MotoServer, startMoto } from './moto.ts';
export { freeLoopbackPort, waitUntil } from './wait.ts';
