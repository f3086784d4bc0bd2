package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// runHello runs ref in dockerd with no network and checks what it prints.
func runHello(t *testing.T, ref string) {
	t.Helper()
	out := docker(t, nil, "run", "--rm", "--network", "none", ref).stdout
	if string(out) != testimage.HelloLine+"\n" {
		t.Errorf("docker run %s printed %q, want %q", ref, out, testimage.HelloLine+"\n")
	}
}

// TestPullIntoDocker is the README demo: push a layout, `imgp2p pull CID |
// docker load`, run it.
func TestPullIntoDocker(t *testing.T) {
	needDocker(t)
	r := newRepo(t)
	layout := helloLayout(t)
	want := digests(t, layout).Config.String()
	cid := r.push(layout)

	pull, load := r.pipeToDocker("pull", cid)
	if pull.code != 0 || load.code != 0 {
		t.Fatalf("imgp2p pull | docker load:\n%v\n%v", pull, load)
	}
	ref := loadedImage(t, load)
	removeImageOnCleanup(t, ref)
	// Docker's image ID is the config digest: equal IDs mean the config
	// went through untouched.
	if got := imageID(t, ref); got != want {
		t.Errorf("loaded image ID %s, want the layout's config digest %s", got, want)
	}
	runHello(t, ref)

	tag := "imgp2p-e2e/hello:tagged"
	pull, load = r.pipeToDocker("pull", "--tag", tag, cid)
	if pull.code != 0 || load.code != 0 {
		t.Fatalf("imgp2p pull --tag | docker load:\n%v\n%v", pull, load)
	}
	removeImageOnCleanup(t, tag)
	if got := loadedImage(t, load); got != tag {
		t.Errorf("with --tag %s, docker loaded %q", tag, got)
	}
	runHello(t, tag)
}

// TestPullIntoPodman loads the same docker-archive into podman and runs it.
func TestPullIntoPodman(t *testing.T) {
	pm := newPodman(t)
	r := newRepo(t)
	layout := helloLayout(t)
	want := digests(t, layout).Config.Hex
	cid := r.push(layout)
	tar := filepath.Join(t.TempDir(), "hello.tar")
	r.ok("pull", "-o", tar, cid)

	ref := loadedImage(t, pm.run("load", "-i", tar))
	if got := strings.TrimSpace(string(pm.run("image", "inspect", "--format", "{{.Id}}", ref).stdout)); got != want {
		t.Errorf("podman image ID %s, want config digest %s", got, want)
	}
	if ids := string(pm.run("images", "--no-trunc", "--format", "{{.ID}}").stdout); !strings.Contains(ids, want) {
		t.Errorf("podman images does not list %s:\n%s", want, ids)
	}
	out := pm.run("run", "--rm", "--network", "none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", ref).stdout
	if string(out) != testimage.HelloLine+"\n" {
		t.Errorf("podman run printed %q", out)
	}
}

// TestDockerSaveRoundTrip pushes what `docker save` wrote, from stdin, and
// loads it back: same image ID, and the layers stored as docker saved them.
func TestDockerSaveRoundTrip(t *testing.T) {
	needDocker(t)
	tmp := t.TempDir()
	tag := "imgp2p-e2e/saved:v1"
	archive := filepath.Join(tmp, "ggcr.tar")
	if err := testimage.WriteDockerArchive(archive, helloLayout(t), tag); err != nil {
		t.Fatal(err)
	}
	removeImageOnCleanup(t, tag)
	docker(t, nil, "load", "-i", archive)
	origID := imageID(t, tag)
	saved := filepath.Join(tmp, "saved.tar")
	docker(t, nil, "save", "-o", saved, tag)
	docker(t, nil, "image", "rm", tag)

	r := newRepo(t)
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cid := r.pushFrom(f, "-")
	if byPath := newRepo(t).push(saved); byPath != cid {
		t.Errorf("same docker-archive gave %s from stdin but %s from its path", cid, byPath)
	}

	pull, load := r.pipeToDocker("pull", cid)
	if pull.code != 0 || load.code != 0 {
		t.Fatalf("imgp2p pull | docker load:\n%v\n%v", pull, load)
	}
	ref := loadedImage(t, load)
	removeImageOnCleanup(t, ref)
	if got := imageID(t, ref); got != origID {
		t.Errorf("round trip changed the image ID: %s, want %s", got, origID)
	}
	runHello(t, ref)

	// docker save writes uncompressed layers, so a layer stored as given
	// has digest == diffID. A recompressed one would not.
	out := filepath.Join(tmp, "oci")
	r.ok("pull", "--format", "oci", "-o", out, cid)
	for digest, img := range walkLayout(t, out).images {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range layers {
			d, _ := l.Digest()
			if d != cf.RootFS.DiffIDs[i] {
				t.Errorf("image %s layer %d: digest %s != diffID %s: layer was rewritten", digest, i, d, cf.RootFS.DiffIDs[i])
			}
		}
	}
}
