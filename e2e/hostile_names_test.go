package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// renameLayout sets the ref name of every entry of layout's index.json.
func renameLayout(t *testing.T, layout, name string) {
	t.Helper()
	path := filepath.Join(layout, "index.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]any
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	for _, m := range idx["manifests"].([]any) {
		m.(map[string]any)["annotations"] = map[string]string{"org.opencontainers.image.ref.name": name}
	}
	if raw, err = json.Marshal(idx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostileNamesPrintAsText: an image's names come from whoever wrote
// its index.json (a layout or archive pushed, a DAG pulled), and `ls`
// prints them on a terminal. Before, a name holding a newline printed a
// row of the author's choosing, and escape sequences reached the
// terminal as they were (here, one retitling the window and one clearing
// the screen).
func TestHostileNamesPrintAsText(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	const fake = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi\tubuntu:latest\tlinux/amd64\t1.0 MiB\ttrue"
	renameLayout(t, layout, "evil:v1\n"+fake+"\x1b]0;owned\x07\x1b[2J")
	cid := r.push(layout)
	out := r.ok("ls").stdout
	if bytes.ContainsAny(out, "\x1b\x07") {
		t.Errorf("ls printed control characters from an image name: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], cid) {
		t.Errorf("ls of one image printed %d lines, want the header and its row:\n%s", len(lines), out)
	}
	if !strings.Contains(lines[len(lines)-1], `evil:v1\n`) {
		t.Errorf("ls does not show the name with its newline escaped:\n%s", out)
	}
}
