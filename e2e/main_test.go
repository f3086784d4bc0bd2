// Package e2e tests the built imgp2p binary from the outside, the way a user
// drives it: exec, stdin/stdout, exit codes, and real docker and podman.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

var (
	// binPath is the imgp2p binary built once for the whole run; binErr says
	// why there is none.
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "imgp2p-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	cleanups := []func(){func() { os.RemoveAll(dir) }}
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	defer cleanup()
	if bin := os.Getenv("IMGP2P_E2E_BINARY"); bin != "" {
		// Test a given build (a release binary, say) instead of this tree.
		binPath = bin
		_, binErr = os.Stat(bin)
	} else {
		binPath, binErr = buildBinary(dir, runtime.GOARCH)
	}
	if undo, err := setupNetns(); err != nil {
		netnsErr = err
	} else {
		cleanups = append(cleanups, undo)
	}
	// Per-test LAN namespaces delete themselves in t.Cleanup; this catches
	// what an interrupt leaves.
	cleanups = append(cleanups, deleteLiveNamespaces)
	// An interrupted run (Ctrl-C, CI's kill) would otherwise leave the
	// namespace and the binary behind: the default action skips defers.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		cleanup()
		fmt.Fprintf(os.Stderr, "e2e: %v: cleaned up, exiting\n", s)
		os.Exit(1)
	}()
	return m.Run()
}

// buildBinary builds imgp2p statically for linux/goarch, as it is
// released, into dir.
func buildBinary(dir, goarch string) (string, error) {
	out := filepath.Join(dir, "imgp2p")
	cmd := exec.Command("go", "build", "-o", out, "github.com/imgp2p/imgp2p")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		// Print the compiler's output once here rather than in every test.
		fmt.Fprintf(os.Stderr, "e2e: building imgp2p failed: %v\n%s", err, msg)
		return "", fmt.Errorf("go build failed (compiler output above the test results): %v", err)
	}
	return out, nil
}
