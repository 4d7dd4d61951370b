// The pod sandbox's process: it holds the pod's namespaces open, reaps zombies (it is PID 1 of a pod that shares
// its process namespace) and exits on SIGINT/SIGTERM. Image registries are unreachable from the test machines, so
// this stands in for registry.k8s.io/pause, whose C original does the same three things.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s == syscall.SIGCHLD {
			for {
				var status syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
