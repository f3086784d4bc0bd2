package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// Interop with a real Kubo (REFERENCE.md §1, §5): the same CIDs, and blocks
// moving over bitswap in both directions.

// ociLayoutFile is the oci-layout file of every imgp2p root (README, "The
// image DAG format"), whatever the source's said: ggcr, which writes the
// test layouts, indents it, so a source layout's own CID differs from
// imgp2p's by that one file.
const ociLayoutFile = `{"imageLayoutVersion":"1.0.0"}`

// kuboCase is one image the Kubo tests move around.
type kuboCase struct {
	name   string
	layout func(testing.TB) string
	// single is true for a layout whose index.json names one image manifest
	// (skopeo then reads its digest), false for a nested index.
	single bool
	// runs is true for the hello images, which docker can run.
	runs bool
}

func kuboCases() []kuboCase {
	return []kuboCase{
		{name: "hello", layout: helloLayout, single: true, runs: true},
		{name: "multi", layout: multiLayout, runs: true},
		// 24 one-MiB chunks under one balanced file node, not a single block.
		{name: "random-24MiB", layout: func(t testing.TB) string { return randomLayout(t, 24, 7) }, single: true},
	}
}

// TestKuboSameCID: `ipfs add -r` of the layout `imgp2p pull --format oci`
// writes, under Kubo's unixfs-v1-2025 import profile, gives imgp2p's CID.
// With 3000 layers, blobs/sha256 is a HAMT: Kubo shards it as imgp2p does,
// so a root either makes reads the same.
// The 1025 MiB layer has more chunks than one file node may link (1024), so
// its DAG has a second level: the balanced layout's shape is checked too.
func TestKuboSameCID(t *testing.T) {
	needKubo(t)
	cases := append(kuboCases(), kuboCase{name: "sharded-3000-layers", single: true, layout: manyLayout})
	if !testing.Short() {
		cases = append(cases, kuboCase{name: "random-1025MiB", single: true,
			layout: func(t testing.TB) string { return randomLayout(t, 1025, 8) }})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKubo(t) // no daemon: `ipfs add` runs in-process, offline
			r := newRepo(t)
			src := tc.layout(t)
			cid := r.push(src)
			out := filepath.Join(t.TempDir(), "pulled")
			r.ok("pull", "--offline", "--format", "oci", "-o", out, cid)
			sameLayout(t, out, src)
			onlyLayoutFiles(t, out)

			got := k.add(out, "--only-hash")
			if got.Root != cid {
				t.Errorf("Kubo computes %s for the layout imgp2p wrote, imgp2p says %s\n%s",
					got.Root, cid, explainAdd(t, out, got))
			}
		})
	}
}

// layoutEntry matches every path an imgp2p root may hold.
var layoutEntry = regexp.MustCompile(`^(oci-layout|index\.json|blobs|blobs/sha256|blobs/sha256/[0-9a-f]{64})$`)

// onlyLayoutFiles fails the test if dir holds anything but an OCI layout's
// files: a temp file or a stray directory would change the root CID.
func onlyLayoutFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if !layoutEntry.MatchString(filepath.ToSlash(rel)) {
			t.Errorf("%s holds %s, which is no part of an OCI layout", dir, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// explainAdd lays Kubo's per-path CIDs next to what imgp2p's format fixes
// without a lookup (a blob of up to 1 MiB is one raw block), so a mismatch
// report says which node differs first.
func explainAdd(t *testing.T, dir string, a kuboAdd) string {
	var b strings.Builder
	base := filepath.Base(dir)
	paths := make([]string, 0, len(a.CIDs))
	for p := range a.CIDs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	fmt.Fprintf(&b, "ipfs add -r --only-hash (unixfs-v1-2025) of %s:\n", dir)
	for _, p := range paths {
		note := ""
		rel := strings.TrimPrefix(p, base+"/")
		if hex, ok := strings.CutPrefix(rel, "blobs/sha256/"); ok {
			if fi, err := os.Stat(filepath.Join(dir, rel)); err == nil && fi.Size() <= 1<<20 {
				want := rawCID(v1.Hash{Algorithm: "sha256", Hex: hex})
				if want == a.CIDs[p] {
					note = "  (= raw block of the blob's digest, as imgp2p stores it)"
				} else {
					note = "  (imgp2p stores this blob as " + want + ")"
				}
			}
		}
		fmt.Fprintf(&b, "  %s  %s%s\n", a.CIDs[p], p, note)
	}
	return b.String()
}

// TestKuboGetsFromImgp2p: a Kubo node connected to an imgp2p daemon fetches
// an image with `ipfs get` and gets a valid OCI layout, every blob
// byte-identical to the source.
func TestKuboGetsFromImgp2p(t *testing.T) {
	needKubo(t)
	k := newKubo(t)
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	k.startDaemon()
	k.connect(da.Addr)
	tmp := t.TempDir()

	for _, tc := range kuboCases() {
		t.Run(tc.name, func(t *testing.T) {
			a, k := a.forTest(t), k.forTest(t)
			src := tc.layout(t)
			cid := a.push(src)
			out := filepath.Join(tmp, tc.name)
			k.ok("get", "--progress=false", "-o", out, cid)

			sameLayout(t, out, src)
			onlyLayoutFiles(t, out)
			if got := readFile(t, filepath.Join(out, "oci-layout")); string(got) != ociLayoutFile {
				t.Errorf("oci-layout is %q, want %q", got, ociLayoutFile)
			}
			checkWithSkopeo(t, out, src, tc.single)
			// What Kubo wrote out hashes back to the root it fetched.
			if got := k.add(out, "--only-hash").Root; got != cid {
				t.Errorf("ipfs add --only-hash of what ipfs get wrote gives %s, want %s", got, cid)
			}
		})
	}
	da.stop(t)
}

// checkWithSkopeo reads the layout at dir with containers/image: the
// manifest index.json points at must be the source's, byte for byte, and a
// single image must resolve to the source's manifest digest.
func checkWithSkopeo(t *testing.T, dir, src string, single bool) {
	t.Helper()
	var idx v1.IndexManifest
	if err := json.Unmarshal(readFile(t, filepath.Join(src, "index.json")), &idx); err != nil || len(idx.Manifests) == 0 {
		t.Fatalf("source index.json: %v (%d manifests)", err, len(idx.Manifests))
	}
	want := readFile(t, testimage.BlobPath(src, idx.Manifests[0].Digest))
	if raw := skopeo(t, "inspect", "--raw", "oci:"+dir).stdout; !bytes.Equal(bytes.TrimSpace(raw), bytes.TrimSpace(want)) {
		t.Errorf("skopeo inspect --raw oci:%s:\n%s\nwant %s", dir, raw, want)
	}
	if single {
		if got, want := inspectDigest(t, "oci:"+dir), idx.Manifests[0].Digest.String(); got != want {
			t.Errorf("skopeo reads manifest %s, want %s", got, want)
		}
	}
}

// TestKuboServesImgp2p: an image only a Kubo node holds, added there with
// `ipfs add -r` under unixfs-v1-2025, is pulled by imgp2p from that node and
// loads into docker; an OCI layout pulled the same way has every blob
// byte-identical to the source.
func TestKuboServesImgp2p(t *testing.T) {
	needKubo(t)
	k := newKubo(t)
	kd := k.startDaemon()

	for _, tc := range kuboCases() {
		t.Run(tc.name, func(t *testing.T) {
			k := k.forTest(t)
			// The layout as ggcr wrote it, indented oci-layout and all: a
			// root another tool made need not be byte-identical to the one
			// imgp2p would make for the image, only an OCI layout.
			src := tc.layout(t)
			cid := k.add(src, "--pin=true").Root
			r := newRepo(t) // empty: whatever it gets comes from Kubo
			peer := []string{"--peer", kd.Addr, "--mdns=false", "--timeout", "2m"}

			if tc.runs {
				needDocker(t)
				pull, load := r.pipeToDocker(append(append([]string{"pull"}, peer...), cid)...)
				if pull.code != 0 || load.code != 0 {
					t.Fatalf("imgp2p pull --peer <kubo> | docker load:\n%v\n%v%s", pull, load, k.daemonLog())
				}
				fetchedFromKubo(t, pull, kd.ID)
				ref := loadedImage(t, load)
				removeImageOnCleanup(t, ref)
				if tc.single {
					if got, want := imageID(t, ref), digests(t, src).Config.String(); got != want {
						t.Errorf("loaded image ID %s, want config digest %s", got, want)
					}
				}
				runHello(t, ref)
			}
			// Every platform and every blob, byte for byte. For the images
			// above this fetches only what docker's platform did not need.
			out := filepath.Join(t.TempDir(), "out")
			res := r.run(nil, append(append([]string{"pull", "--format", "oci", "-o", out}, peer...), cid)...)
			if res.code != 0 {
				t.Fatalf("want success: %v%s", res, k.daemonLog())
			}
			if !tc.runs {
				fetchedFromKubo(t, res, kd.ID)
			}
			sameLayout(t, out, src)
		})
	}
}

// fetchedFromKubo checks pull's summary line: blocks came from one peer,
// listed by the tail of its ID, and that peer is the Kubo node id.
func fetchedFromKubo(t *testing.T, pull result, id string) {
	t.Helper()
	if !bytes.Contains(pull.stderr, []byte("from 1 peer(s)")) || !bytes.Contains(pull.stderr, []byte(id[len(id)-8:])) {
		t.Errorf("pull's summary does not say it fetched from the one Kubo peer %s:\n%s", id, pull.stderr)
	}
}

// forTest is r driven by t, for a subtest using its parent's repo: failures
// must be reported on the goroutine of the test that hit them.
func (r *repo) forTest(t testing.TB) *repo {
	c := *r
	c.t = t
	return &c
}

// forTest is k driven by t, for a subtest using its parent's Kubo node.
func (k *kubo) forTest(t testing.TB) *kubo {
	c := *k
	c.t = t
	return &c
}
