package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestOpenRefusesForeignDirectory: a repo path that is some other
// directory (a project, a Kubo repo) is refused with an error naming what
// is in it, and nothing is written there.
func TestOpenRefusesForeignDirectory(t *testing.T) {
	for name, files := range map[string][]string{
		"project": {"main.go"},
		// Kubo's layout: config, version, a leveldb datastore/ and its
		// own repo.lock.
		"kubo": {"config", "version", "repo.lock", "datastore/CURRENT", "datastore/000001.ldb", "blocks/SHARDING"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, files...)
			before := dirNames(t, dir)
			r, err := Open(context.Background(), dir)
			if err == nil {
				r.Close()
				t.Fatalf("Open made a repo of a directory holding %v", before)
			}
			if !strings.Contains(err.Error(), "not an imgp2p repo") || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q should say %s is not an imgp2p repo", err, dir)
			}
			if after := dirNames(t, dir); !slices.Equal(after, before) {
				t.Errorf("refused Open changed the directory: %v, then %v", before, after)
			}
			if name == "kubo" {
				if after := dirNames(t, filepath.Join(dir, "datastore")); len(after) != 2 {
					t.Errorf("refused Open wrote into the foreign datastore/: %v", after)
				}
			}
		})
	}
}

// TestOpenAcceptsRepoDirectories: new and empty directories, one holding
// only what a user may put there first, and an existing repo holding
// extra files all open.
func TestOpenAcceptsRepoDirectories(t *testing.T) {
	prepared := t.TempDir()
	writeFiles(t, prepared, "swarm.key", "lost+found/x")
	existing := t.TempDir()
	r, err := Open(context.Background(), existing)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	writeFiles(t, existing, "notes.txt")
	for name, dir := range map[string]string{
		"new":      filepath.Join(t.TempDir(), "repo"),
		"empty":    t.TempDir(),
		"prepared": prepared,
		"existing": existing,
	} {
		r, err := Open(context.Background(), dir)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		r.Close()
	}
}
