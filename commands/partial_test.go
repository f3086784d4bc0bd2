package commands

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestSweepPartialsRemovesOnlyDeadWriters(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "img.tar")
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(dir, fmt.Sprintf(".img.tar.partial-%d-123", gone.Process.Pid))
	alive := filepath.Join(dir, fmt.Sprintf(".img.tar.partial-%d-456", os.Getpid()))
	other := filepath.Join(dir, fmt.Sprintf(".other.tar.partial-%d-789", gone.Process.Pid))
	for _, p := range []string{dead, alive, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sweepPartials(target)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("a dead pull's leftover %s survived", dead)
	}
	for _, p := range []string{alive, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}
