package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRepoForeignDirectory: --repo pointing at a directory that holds
// other things (a mistyped path, a Kubo repo) is refused with one line
// naming the directory and what is in it, and nothing is written there:
// the commands must not quietly succeed on a new, empty repo mixed into
// someone's files.
func TestRepoForeignDirectory(t *testing.T) {
	r := newRepo(t)
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"ls"}, {"push", helloLayout(t)}, {"daemon", "--offline"}} {
		res := r.fails(args...)
		line := bytes.TrimSpace(res.stderr)
		if bytes.Count(line, []byte("\n")) > 0 || !bytes.Contains(line, []byte(r.dir)) || !bytes.Contains(line, []byte("main.go")) {
			t.Errorf("want one line naming %s and main.go: %v", r.dir, res)
		}
		entries, err := os.ReadDir(r.dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{"main.go"}) {
			t.Fatalf("%v wrote into the directory: it now holds %v", args, names)
		}
	}
	// Emptied, the same path is a fine place for a repo.
	os.Remove(filepath.Join(r.dir, "main.go"))
	r.push(helloLayout(t))
}
