package store

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRepoRecordsItsFormat(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	id := r.Identity
	r.Close()
	if raw, err := os.ReadFile(filepath.Join(dir, versionFile)); err != nil || string(raw) != "2\n" {
		t.Fatalf("a new repo's %s: %q, %v; want \"2\\n\"", versionFile, raw, err)
	}

	// A repo made before the file existed is format 1, keeps its data,
	// and is recorded as format 2, which reads it as it is.
	if err := os.Remove(filepath.Join(dir, versionFile)); err != nil {
		t.Fatal(err)
	}
	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("a repo without %s: %v", versionFile, err)
	}
	if !r.Identity.Equals(id) {
		t.Error("reopening a repo without a format gave it a new identity")
	}
	r.Close()
	if raw, _ := os.ReadFile(filepath.Join(dir, versionFile)); string(raw) != "2\n" {
		t.Errorf("a repo without %s got %q", versionFile, raw)
	}
}

// A repo of a newer format is refused before badger opens it: badger
// would replay, compact or rewrite files an older imgp2p may not read
// right.
func TestNewerRepoFormatIsRefusedUntouched(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	for _, tc := range []struct{ content, want string }{
		{"3\n", "format 3, made by a newer imgp2p"},
		{"frob", `holds "frob", not a repo format number`},
	} {
		if err := os.WriteFile(filepath.Join(dir, versionFile), []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, filepath.Join(dir, "datastore"))
		_, err := Open(ctx, dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Open of a repo whose %s holds %q: %v; want an error naming the repo and %q", versionFile, tc.content, err, tc.want)
		}
		if after := snapshot(t, filepath.Join(dir, "datastore")); after != before {
			t.Errorf("the refused repo's datastore changed:\n%s\nbecame\n%s", before, after)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, versionFile), []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open once the format is 1 again: %v", err)
	}
	r.Close()
}

// snapshot lists every file under dir with its size and modification time.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b.WriteString(path + " " + info.ModTime().Format(time.RFC3339Nano) + " " + strconv.FormatInt(info.Size(), 10) + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
