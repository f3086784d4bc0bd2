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

// TestHostileNamesDockerLoad: a docker-archive's tags come from the
// image's ref names, and docker load refuses a whole archive whose
// manifest.json holds one tag it cannot parse. Before, go-containerregistry's
// looser check let a name such as ../../etc/x:v1 through: the pull wrote
// it, and `imgp2p pull CID | docker load` failed with "invalid reference
// format". Such a name is now left out, and the image loads under the
// root's default name.
func TestHostileNamesDockerLoad(t *testing.T) {
	needDocker(t)
	r := newRepo(t)
	layout := helloLayout(t)
	renameLayout(t, layout, "../../etc/cron.d/x:v1")
	cid := r.push(layout)
	pull, load := r.pipeToDocker("pull", cid)
	if pull.code != 0 || load.code != 0 {
		t.Fatalf("imgp2p pull | docker load of an image named ../../etc/cron.d/x:v1:\n%v\n%v", pull, load)
	}
	loaded := loadedImage(t, load)
	removeImageOnCleanup(t, loaded)
	if want := "localhost:5050/ipfs/" + cid + ":latest"; loaded != want {
		t.Errorf("docker loaded %s, want %s", loaded, want)
	}
}
