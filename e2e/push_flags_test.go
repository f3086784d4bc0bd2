package e2e

import (
	"bytes"
	"testing"
)

// TestPushListsNoNetworkFlags: push starts no node, yet its help offered
// --offline, --public ("also join the public IPFS network"), --mdns and
// --swarm-key, as if a push announced anything. They are gone from the
// help and still accepted, so command lines written with them keep working.
func TestPushListsNoNetworkFlags(t *testing.T) {
	r := newRepo(t)
	help := r.ok("push", "--help").stdout
	for _, flag := range []string{"--offline", "--public", "--mdns", "--swarm-key"} {
		if bytes.Contains(help, []byte(flag)) {
			t.Errorf("push --help lists %s, which push never uses:\n%s", flag, help)
		}
	}
	if !bytes.Contains(help, []byte("--platform")) {
		t.Fatalf("control: push --help does not list --platform:\n%s", help)
	}
	r.push("--offline", "--public", "--mdns=false", helloLayout(t))
}
