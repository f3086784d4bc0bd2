package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var podmanReady = sync.OnceValue(func() error {
	if msg, err := exec.Command("podman", "--version").CombinedOutput(); err != nil {
		return fmt.Errorf("podman --version: %v: %s", err, msg)
	}
	return nil
})

// podmanStore is a podman with its own storage under the test's temp dir,
// vfs so it needs no kernel overlay support, and no systemd or journald.
type podmanStore struct {
	t    *testing.T
	base []string
}

func newPodman(t *testing.T) *podmanStore {
	t.Helper()
	need(t, "podman", podmanReady())
	dir := t.TempDir()
	return &podmanStore{t: t, base: []string{
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
	}}
}

// run runs podman and fails the test unless it exits 0.
func (p *podmanStore) run(args ...string) result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	res := execute(exec.CommandContext(ctx, "podman", append(append([]string{}, p.base...), args...)...), nil)
	if res.code != 0 {
		p.t.Fatalf("podman failed: %v", res)
	}
	return res
}
