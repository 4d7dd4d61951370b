// The Argo CD health runner's module. Only the pins matter here: hack/argocd-health/build.sh copies this folder
// into the test-infrastructure cache, adds Argo CD's own replace directives (its k8s.io/* pins) and resolves the
// rest from the Go module proxy there, so no go.sum lives in the repository.
//
// argo-cd v3.3.x: later releases build with Go >= 1.27 or vendor gitops-engine as a nested module the proxy does
// not serve at the pinned pseudo-version.
module local/lpc-argocd-health

go 1.26

require (
	github.com/argoproj/argo-cd/v3 v3.3.9
	sigs.k8s.io/cli-utils v0.37.2
)
