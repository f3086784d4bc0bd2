package e2e

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// TestArm64MixedFleet is a fleet of both architectures: an amd64 build
// server and arm64 edge machines (the linux/arm64 release build, run under
// qemu-aarch64-static). Each side's daemon serves the other over loopback;
// a pull with no --platform writes the image of the puller's own platform
// from a multi-platform root; a push gives the same CID on either
// architecture. The random arm64 image spans many 1 MiB blocks, so the
// arm64 build's value-log writes (badger's mmap, and the fadvise and
// sync_file_range ahead of it) carry real volume both ways.
func TestArm64MixedFleet(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		// The host's build is the fleet's amd64 half; on an arm64 host both
		// halves would be arm64 and the platform checks would not hold.
		t.Skipf("the fleet's amd64 half is this host's build, and this host is %s", runtime.GOARCH)
	}
	armExe := arm64Exe(t)
	multi := multiLayout(t)
	random := filepath.Join(t.TempDir(), "random-arm64")
	if err := testimage.WriteRandom(random, 24, 64, "arm64"); err != nil {
		t.Fatal(err)
	}
	images := imagesByPlatform(t, multi)

	amd := newRepo(t)
	amdDaemon := amd.startDaemon()
	multiCID, randomCID := amd.push(multi), amd.push(random)
	// What an amd64 machine writes for the arm64 image, for the arm64
	// builds' pulls to match byte for byte.
	randomTar := filepath.Join(t.TempDir(), "random-amd64-local.tar")
	amd.ok("pull", "--platform", "linux/arm64", "-o", randomTar, randomCID)

	t.Run("arm64 pulls from amd64", func(t *testing.T) {
		arm := newArm64Repo(t, armExe)
		out := filepath.Join(t.TempDir(), "multi.tar")
		res := arm.ok("pull", "--peer", amdDaemon.Addr, "--timeout", "2m", "-o", out, multiCID)
		fetchedFromOnly(t, res, amdDaemon.ID)
		helloBin := checkArchive(t, out, images["linux/arm64"])
		runHelloBinary(t, helloBin, armExe[0])

		out = filepath.Join(t.TempDir(), "random.tar")
		res = arm.ok("pull", "--peer", amdDaemon.Addr, "--timeout", "2m", "-o", out, randomCID)
		fetchedFromOnly(t, res, amdDaemon.ID)
		sameBytes(t, "arm64 pull of the random image", out, randomTar)
	})

	t.Run("amd64 pulls from arm64", func(t *testing.T) {
		arm := newArm64Repo(t, armExe)
		armDaemon := arm.startDaemon()
		// Through the arm64 daemon's API: push, then a pull the daemon
		// writes into the descriptor the client hands it.
		if got := arm.push(multi); got != multiCID {
			t.Errorf("arm64 push of the multi-platform layout: CID %s, amd64's %s", got, multiCID)
		}
		if got := arm.push(random); got != randomCID {
			t.Errorf("arm64 push of the random layout: CID %s, amd64's %s", got, randomCID)
		}
		local := filepath.Join(t.TempDir(), "arm64-local.tar")
		arm.ok("pull", "-o", local, multiCID)
		checkArchive(t, local, images["linux/arm64"])

		puller := newRepo(t)
		out := filepath.Join(t.TempDir(), "multi.tar")
		res := puller.ok("pull", "--peer", armDaemon.Addr, "--timeout", "2m", "-o", out, multiCID)
		fetchedFromOnly(t, res, armDaemon.ID)
		runHelloBinary(t, checkArchive(t, out, images["linux/amd64"]), "")
		// Every platform's blobs, byte for byte, as the arm64 side holds
		// them.
		layout := filepath.Join(t.TempDir(), "multi-oci")
		puller.ok("pull", "--peer", armDaemon.Addr, "--timeout", "2m", "--format", "oci", "-o", layout, multiCID)
		sameLayout(t, layout, multi)

		out = filepath.Join(t.TempDir(), "random.tar")
		res = puller.ok("pull", "--peer", armDaemon.Addr, "--timeout", "2m", "--platform", "linux/arm64", "-o", out, randomCID)
		fetchedFromOnly(t, res, armDaemon.ID)
		sameBytes(t, "amd64 pull of the random image from arm64", out, randomTar)
	})
}

// platformImage is what a docker-archive of one platform's image must
// hold.
type platformImage struct {
	config v1.Hash
	layers []v1.Hash
}

// imagesByPlatform reads the config and layer digests of every image the
// layout at dir reaches, by the os/arch its config names.
func imagesByPlatform(t *testing.T, dir string) map[string]platformImage {
	t.Helper()
	out := map[string]platformImage{}
	for _, img := range walkLayout(t, dir).images {
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		p := platformImage{config: m.Config.Digest}
		for _, l := range m.Layers {
			p.layers = append(p.layers, l.Digest)
		}
		out[configArch(t, img)] = p
	}
	for _, p := range testimage.MultiPlatforms {
		if _, ok := out[p.OS+"/"+p.Architecture]; !ok {
			t.Fatalf("layout %s has no %s image: %v", dir, p, out)
		}
	}
	return out
}

// checkArchive fails unless the docker-archive at path holds exactly one
// image, want's config (docker's image ID) and layers, and returns the
// hello program it carries, written to a file.
func checkArchive(t *testing.T, path string, want platformImage) string {
	t.Helper()
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatalf("%s is not a docker-archive of one image: %v", path, err)
	}
	config, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if config != want.config {
		t.Errorf("%s: image ID %s, want %s", path, config, want.config)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var got []v1.Hash
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	if !slices.Equal(got, want.layers) || len(layers) != 1 {
		t.Fatalf("%s: layers %v, want %v (the hello image's one layer)", path, got, want.layers)
	}
	return helloFromLayer(t, layers[0])
}

// helloFromLayer writes the /hello program of layer to a file.
func helloFromLayer(t *testing.T, layer v1.Layer) string {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("the layer holds no hello program")
		}
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Clean(hdr.Name) == "hello" {
			path := filepath.Join(t.TempDir(), "hello")
			if err := writeEntry(path, tr); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
}

// runHelloBinary runs the hello program at path, under the emulator
// given (or natively for ""), and checks what it prints: the image pulled
// runs on the platform it was chosen for.
func runHelloBinary(t *testing.T, path, emulator string) {
	t.Helper()
	argv := []string{path}
	if emulator != "" {
		argv = []string{emulator, path}
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil || string(out) != testimage.HelloLine+"\n" {
		t.Errorf("%v: %v, printed %q; want %q", argv, err, out, testimage.HelloLine+"\n")
	}
}

// fetchedFromOnly fails unless the pull's summary says its blocks came
// from one peer, the one with ID id.
func fetchedFromOnly(t *testing.T, res result, id string) {
	t.Helper()
	if !bytes.Contains(res.stderr, []byte("from 1 peer(s)")) || !bytes.Contains(res.stderr, []byte(id[len(id)-8:])) {
		t.Errorf("pull did not fetch from the one peer %s: %v", id, res)
	}
}
