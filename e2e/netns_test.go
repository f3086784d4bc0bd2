package e2e

import (
	"fmt"
	"os"
	"os/exec"
)

// Every imgp2p process runs inside one network namespace made for this test
// run, holding only a loopback interface. Whatever the binary does by
// default (DHT bootstrap, mDNS, DNS look-ups) cannot leave the machine, and
// daemons and clients in the namespace still reach each other on 127.0.0.1.
var (
	netns    string
	netnsErr error
)

func setupNetns() (cleanup func(), err error) {
	name := fmt.Sprintf("imgp2p-e2e-%d", os.Getpid())
	if msg, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add (needs root and iproute2): %v: %s", err, msg)
	}
	cleanup = func() { exec.Command("ip", "netns", "delete", name).Run() }
	if msg, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		cleanup()
		return nil, fmt.Errorf("bringing up lo in %s: %v: %s", name, err, msg)
	}
	netns = name
	return cleanup, nil
}

// inNetns wraps argv so that it runs inside the test namespace. `ip netns
// exec` execs the command in place, so the PID, signals and exit status seen
// by the test are the command's own.
func inNetns(argv ...string) []string {
	return inNamespace(netns, argv...)
}

// inNamespace wraps argv so that it runs inside the namespace ns.
func inNamespace(ns string, argv ...string) []string {
	return append([]string{"ip", "netns", "exec", ns}, argv...)
}
