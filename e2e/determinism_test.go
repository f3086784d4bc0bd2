package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestSameImageSameCID: the CID depends on the image only — not on the repo,
// how the repo is selected, or whether the layout came as a dir or a tar.
func TestSameImageSameCID(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	cid := r.push(layout)

	if got := newRepo(t).push(helloLayout(t)); got != cid {
		t.Errorf("second repo, regenerated layout: CID %s, want %s", got, cid)
	}
	env := newRepo(t)
	env.viaEnv = true
	if got := env.push(layout); got != cid {
		t.Errorf("repo chosen by IMGP2P_PATH: CID %s, want %s", got, cid)
	}
	archive := ociArchive(t, layout)
	if got := newRepo(t).push(archive); got != cid {
		t.Errorf("oci-archive of the same layout: CID %s, want %s", got, cid)
	}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := newRepo(t).pushFrom(f, "-"); got != cid {
		t.Errorf("oci-archive on stdin: CID %s, want %s", got, cid)
	}
	if other := newRepo(t).push(randomLayout(t, 1, 1)); other == cid {
		t.Errorf("a different image got the same CID %s", cid)
	}
}

// TestMultiPlatformRoundTrip: a nested multi-platform index comes back from
// `pull --format oci` with index.json and every blob byte-identical.
func TestMultiPlatformRoundTrip(t *testing.T) {
	r := newRepo(t)
	src := multiLayout(t)
	cid := r.push(src)
	out := filepath.Join(t.TempDir(), "out")
	res := r.ok("pull", "--format", "oci", "-o", out, cid)
	if len(res.stdout) != 0 {
		t.Errorf("pull -o wrote to stdout: %q", res.stdout)
	}
	sameLayout(t, out, src)
}

// TestPushPlatform: `push --platform` keeps the one matching image and
// nothing of the others, without rewriting that image's manifest.
func TestPushPlatform(t *testing.T) {
	src := multiLayout(t)
	full := newRepo(t).push(src)
	srcImages := walkLayout(t, src).images

	r := newRepo(t)
	cid := r.push("--platform", "linux/arm64", src)
	if cid == full {
		t.Fatalf("--platform linux/arm64 gave the same CID as the whole index")
	}
	out := filepath.Join(t.TempDir(), "out")
	r.ok("pull", "--format", "oci", "-o", out, cid)
	got := walkLayout(t, out)
	if len(got.images) != 1 {
		t.Fatalf("filtered layout reaches %d images, want 1", len(got.images))
	}
	for digest, img := range got.images {
		if arch := configArch(t, img); arch != "linux/arm64" {
			t.Errorf("kept image is %s, want linux/arm64", arch)
		}
		if _, ok := srcImages[digest]; !ok {
			t.Errorf("kept manifest %s is not one of the source's: it was rewritten", digest)
		}
	}
	if files := blobFiles(t, out); !slices.Equal(files, got.blobs) {
		t.Errorf("blobs dir holds %v, but index.json reaches only %v", files, got.blobs)
	}
}

// TestPullPlatform: a docker-archive holds one image; pull picks the host's
// platform unless --platform says otherwise. An architecture's default
// variant, which docker and containerd accept, matches images that name
// none (linux/arm64/v8 found "no image for platform linux/arm64/v8 (it has
// [linux/amd64 linux/arm64])").
func TestPullPlatform(t *testing.T) {
	r := newRepo(t)
	cid := r.push(multiLayout(t))
	tmp := t.TempDir()
	for i, tc := range []struct{ flag, want string }{
		{"", "linux/" + runtime.GOARCH},
		{"linux/arm64", "linux/arm64"},
		{"linux/amd64", "linux/amd64"},
		{"linux/arm64/v8", "linux/arm64"},
		{"linux/amd64/v1", "linux/amd64"},
	} {
		out := filepath.Join(tmp, fmt.Sprintf("%d.tar", i))
		args := []string{"pull", "-o", out}
		if tc.flag != "" {
			args = append(args, "--platform", tc.flag)
		}
		r.ok(append(args, cid)...)
		img, err := tarball.ImageFromPath(out, nil)
		if err != nil {
			t.Fatalf("pull %v: output is not a docker-archive: %v", args, err)
		}
		if got := configArch(t, img); got != tc.want {
			t.Errorf("pull %v: got a %s image, want %s", args, got, tc.want)
		}
	}
}

// TestCarriedAcrossAnAirGap: an image carried as a file (a USB stick to
// a ship) keeps its CID: `pull --format oci-archive` on one side, `push`
// of the file into a fresh repo on the other, gives the CID back, so the
// far side's LAN serves and pulls it under the same name. So for an image
// first pushed from a docker-archive (`docker save`).
func TestCarriedAcrossAnAirGap(t *testing.T) {
	r := newRepo(t)
	dockerTar := filepath.Join(t.TempDir(), "saved.tar")
	r.ok("pull", "-o", dockerTar, r.push(helloLayout(t)))
	for what, src := range map[string]string{"an OCI layout": multiLayout(t), "a docker-archive": dockerTar} {
		cid := r.push(src)
		carried := filepath.Join(t.TempDir(), "carried.tar")
		r.ok("pull", "--format", "oci-archive", "-o", carried, cid)
		if got := newRepo(t).push(carried); got != cid {
			t.Errorf("an image pushed from %s, carried as an oci-archive: CID %s on the far side, want %s", what, got, cid)
		}
	}
}
