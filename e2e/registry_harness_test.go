package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// craneBinary finds crane on PATH or where `go install` puts it (CI
// installs github.com/google/go-containerregistry/cmd/crane@v0.22.1).
func craneBinary() (string, error) {
	if p, err := exec.LookPath("crane"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("crane is not on PATH and go env failed: %v", err)
	}
	gobin, gopath, _ := strings.Cut(string(out), "\n")
	gopath = append(filepath.SplitList(strings.TrimSpace(gopath)), "")[0]
	candidates := []string{filepath.Join(gopath, "bin", "crane")}
	if gobin != "" {
		candidates = append([]string{filepath.Join(gobin, "crane")}, candidates...)
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", errors.New("crane not found on PATH or in $GOBIN/$GOPATH/bin: go install github.com/google/go-containerregistry/cmd/crane@v0.22.1")
}

// craneRegistry is `crane registry serve` (in memory) running inside the
// test namespace, where the imgp2p processes can reach it.
type craneRegistry struct {
	bin  string
	Host string // 127.0.0.1:PORT
	proc *os.Process
}

var servingOn = regexp.MustCompile(`serving on port (\d+)`)

// startRegistry starts a registry for the test, stopped when it ends. The
// port is chosen by crane (:0) and read from its log, so parallel tests
// never collide.
func startRegistry(t *testing.T) *craneRegistry {
	t.Helper()
	bin, err := craneBinary()
	need(t, "crane", err)
	need(t, "network namespace", netnsErr)
	argv := inNetns(bin, "registry", "serve", "--address", "127.0.0.1:0")
	port, cmd := startForPort(t, "crane registry serve", argv, servingOn)
	return &craneRegistry{bin: bin, Host: "127.0.0.1:" + port, proc: cmd.Process}
}

// crane runs `crane args...` inside the namespace and fails the test
// unless it succeeds; it returns stdout.
func (r *craneRegistry) crane(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	argv := inNetns(append([]string{r.bin}, args...)...)
	res := execute(exec.CommandContext(ctx, argv[0], argv[1:]...), nil)
	if res.code != 0 {
		t.Fatalf("crane failed: %v", res)
	}
	return res.stdout
}

// nameLayout renames the one image or index of the layout at dir to ref,
// with ggcr's layout writer, as `crane pull --format oci` would have named
// it. It returns that entry's descriptor.
func nameLayout(t *testing.T, dir, ref string) v1.Descriptor {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := topDescriptor(t, dir)
	d.Annotations = map[string]string{testimage.RefNameAnnotation: ref}
	if err := p.RemoveDescriptors(match.Digests(d.Digest)); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendDescriptor(d); err != nil {
		t.Fatal(err)
	}
	return d
}

// topDescriptor is the first index.json entry of the layout at dir.
func topDescriptor(t *testing.T, dir string) v1.Descriptor {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		t.Fatalf("layout %s: index.json lists nothing (%v)", dir, err)
	}
	return m.Manifests[0]
}

// platformManifest is the digest of the manifest for p in the index blob
// of the layout at dir.
func platformManifest(t *testing.T, dir string, index v1.Hash, p v1.Platform) v1.Hash {
	t.Helper()
	m, err := v1.ParseIndexManifest(bytes.NewReader(readFile(t, testimage.BlobPath(dir, index))))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Equals(p) {
			return d.Digest
		}
	}
	t.Fatalf("index %s has no manifest for %v", index, p)
	return v1.Hash{}
}
