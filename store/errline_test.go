package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenErrorIsOneLine: badger's errors for a file it cannot open carry
// a Go stack trace; what Open returns is the one line that names the file.
func TestOpenErrorIsOneLine(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	logs, _ := filepath.Glob(filepath.Join(dir, "datastore", "*.vlog"))
	if len(logs) == 0 {
		t.Fatal("no value-log file in a new repo")
	}
	// A directory where badger expects its value log: as root (which
	// bypasses file modes), the one open failure a test can cause.
	if err := os.Remove(logs[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(logs[0], 0o700); err != nil {
		t.Fatal(err)
	}
	r, err = Open(ctx, dir)
	if err == nil {
		r.Close()
		t.Fatal("opened a repo whose value log is a directory")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, logs[0]) {
		t.Errorf("want one line naming %s, got %d lines:\n%s", logs[0], strings.Count(msg, "\n")+1, msg)
	}
}
