// Command argocd-health evaluates a LambdaPolicy health.lua the way Argo CD does, with Argo CD's own Lua runtime
// (github.com/argoproj/argo-cd/v3/util/lua, the code its resource_customizations tests run), and reads the same
// objects with kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status, what Flux uses), so one run says whether the two
// agree.
//
// Usage: argocd-health DIR [OBJECT.yaml...]
//
// DIR is laid out as an upstream contribution, resource_customizations/<group>/<Kind>/: health.lua,
// health_test.yaml (tests: [{healthStatus: {status, message}, inputPath}]) and the testdata it names. Every test
// and every extra OBJECT is printed as one JSON line:
//
//	{"input":"testdata/x.yaml","expected":{...},"argocd":{"status":"Healthy","message":"..."},
//	 "kstatus":{"status":"Current","message":"..."}}
//
// The exit code is 1 when Argo CD's verdict differs from a test's expected healthStatus (as upstream's test would
// fail), 2 when the input cannot be read.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/argoproj/argo-cd/v3/util/lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type healthTest struct {
	HealthStatus healthStatus `json:"healthStatus"`
	InputPath    string       `json:"inputPath"`
}

type result struct {
	Input    string        `json:"input"`
	Expected *healthStatus `json:"expected,omitempty"`
	ArgoCD   healthStatus  `json:"argocd"`
	Kstatus  healthStatus  `json:"kstatus"`
	Error    string        `json:"error,omitempty"`
}

func readObject(path string) (*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Through JSON and apimachinery's decoder, so integers are int64 as in objects read from the API server
	// (kstatus refuses a float64 generation).
	jsonBytes, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(jsonBytes); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return obj, nil
}

func evaluate(script, path string) result {
	out := result{Input: path}
	obj, err := readObject(path)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	// As upstream's resource_customizations test does: open libraries allowed, the script given directly.
	vm := lua.VM{UseOpenLibs: true}
	health, err := vm.ExecuteHealthLua(obj, script)
	if err != nil {
		out.Error = err.Error()
	} else {
		out.ArgoCD = healthStatus{Status: string(health.Status), Message: health.Message}
	}
	computed, err := status.Compute(obj)
	if err != nil {
		out.Error = err.Error()
	} else {
		out.Kstatus = healthStatus{Status: computed.Status.String(), Message: computed.Message}
	}
	return out
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health DIR [OBJECT.yaml...]")
		os.Exit(2)
	}
	dir := os.Args[1]
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testsYaml, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var tests struct {
		Tests []healthTest `json:"tests"`
	}
	if err := yaml.Unmarshal(testsYaml, &tests); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	encoder := json.NewEncoder(os.Stdout)
	failed := false
	for _, test := range tests.Tests {
		expected := test.HealthStatus
		out := evaluate(string(script), filepath.Join(dir, test.InputPath))
		out.Input = test.InputPath
		out.Expected = &expected
		if out.Error != "" || out.ArgoCD != expected {
			failed = true
		}
		if err := encoder.Encode(out); err != nil {
			os.Exit(2)
		}
	}
	for _, path := range os.Args[2:] {
		out := evaluate(string(script), path)
		if out.Error != "" {
			failed = true
		}
		if err := encoder.Encode(out); err != nil {
			os.Exit(2)
		}
	}
	if failed {
		os.Exit(1)
	}
}
