package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// verifySummary is verify's last line on stderr.
var verifySummary = regexp.MustCompile(`verified (\d+) blocks and (\d+) blobs: (\d+) problems\n?$`)

// wantVerified checks that verify succeeded with 0 problems, nothing on
// stdout, and at least minBlocks blocks and minBlobs blobs checked.
func wantVerified(t testing.TB, res result, minBlocks, minBlobs int) {
	t.Helper()
	m := verifySummary.FindSubmatch(res.stderr)
	if res.code != 0 || m == nil || string(m[3]) != "0" || len(res.stdout) != 0 {
		t.Errorf("want a clean verify (exit 0, `0 problems`, nothing on stdout): %v", res)
		return
	}
	blocks, _ := strconv.Atoi(string(m[1]))
	blobs, _ := strconv.Atoi(string(m[2]))
	if blocks < minBlocks || blobs < minBlobs {
		t.Errorf("verify checked %d blocks and %d blobs, want at least %d and %d: %v", blocks, blobs, minBlocks, minBlobs, res)
	}
}

// corruptStored flips every bit of the one place in r's repo holding
// window, in a pack (where chunks live) or in badger's value log, and
// returns the flipped bytes. Nothing may have the repo open. A window in
// badger's value log must lie in a file other than the newest: badger
// takes a damaged entry in the newest file for a torn write and truncates
// the file there when it next opens, so the damage would be "missing", not
// "corrupt" (callers run one more command after writing the image, which
// starts a new file).
func corruptStored(t testing.TB, r *repo, window []byte) []byte {
	t.Helper()
	vlogs, err := filepath.Glob(filepath.Join(r.dir, "datastore", "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	packs, err := filepath.Glob(filepath.Join(r.dir, "blocks", "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(vlogs) // zero-padded numbers: the last is the newest
	var hit string
	var at int
	for _, f := range append(packs, vlogs...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, window)
		if i < 0 {
			continue
		}
		if hit != "" || bytes.Contains(b[i+1:], window) {
			t.Fatalf("the %d-byte window is stored more than once in the repo: cannot corrupt one copy", len(window))
		}
		hit, at = f, i
	}
	if hit == "" {
		t.Fatalf("the %d-byte window is in no pack or value-log file of %s: blocks are not where this test expects", len(window), r.dir)
	}
	if len(vlogs) > 0 && hit == vlogs[len(vlogs)-1] {
		t.Fatalf("the window is in the newest value-log file %s, which badger truncates at damage on open", hit)
	}
	bad := make([]byte, len(window))
	for i, c := range window {
		bad[i] = ^c
	}
	f, err := os.OpenFile(hit, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bad, int64(at)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	t.Logf("flipped %d bytes at offset %d of %s", len(bad), at, filepath.Base(hit))
	return bad
}

// chunkCID is the CID of the 1 MiB raw leaf i of a blob (fixed-size 1 MiB
// chunks, raw leaves, sha2-256).
func chunkCID(blob []byte, i int) string {
	end := min(len(blob), (i+1)<<20)
	sum := sha256.Sum256(blob[i<<20 : end])
	return rawCID(v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])})
}

// TestVerifyHealthy: verify passes a sound repo, whole, by CID, by name,
// and through a daemon; an unknown name is an error pointing at ls.
func TestVerifyHealthy(t *testing.T) {
	r := newRepo(t)
	hello := r.push(helloLayout(t))
	random := r.push(randomLayout(t, 8, 701))

	// 8 MiB layer: 8 leaves and a file node, plus small blobs and directories.
	wantVerified(t, r.run(nil, "verify"), 9, 6)
	wantVerified(t, r.run(nil, "verify", random), 9, 3)
	wantVerified(t, r.run(nil, "verify", hello), 3, 3)
	wantVerified(t, r.run(nil, "verify", testimage.HelloRef), 3, 3)
	wantVerified(t, r.run(nil, "verify", "ipfs://"+hello), 3, 3)

	res := r.fails("verify", "imgp2p-test/nothing:v1")
	if !bytes.Contains(res.stderr, []byte("imgp2p ls")) {
		t.Errorf("verify of an unknown name should point at `imgp2p ls`: %v", res)
	}

	r.startDaemon("--mdns=false")
	wantVerified(t, r.run(nil, "verify"), 9, 6)
	wantVerified(t, r.run(nil, "verify", testimage.RandomRef), 9, 3)
}

// TestVerifyCorruptBlock: a block damaged on disk (bytes flipped inside a
// layer chunk in badger's value log) is found by verify, which names it
// and exits non-zero; verify of an image not sharing it still passes. A
// pull of the damaged image fails naming the blob, leaves no output file,
// and never emits the damaged bytes.
func TestVerifyCorruptBlock(t *testing.T) {
	r := newRepo(t)
	layout := randomLayout(t, 4, 702)
	cid := r.push(layout)
	hello := r.push(helloLayout(t))
	r.ok("ls") // a new process, a new value-log file: see corruptStored

	layer := digests(t, layout).Layers[0]
	blob := readFile(t, testimage.BlobPath(layout, layer))
	if len(blob) < 3<<20 {
		t.Fatalf("layer is %d bytes, want several 1 MiB chunks", len(blob))
	}
	// 64 bytes well inside the second chunk, which is neither the first
	// nor the last block of the blob.
	bad := corruptStored(t, r, blob[1<<20+4096:1<<20+4096+64])
	damaged := chunkCID(blob, 1)

	for _, args := range [][]string{{"verify"}, {"verify", cid}, {"verify", testimage.RandomRef}} {
		res := r.run(nil, args...)
		if res.code == 0 {
			t.Errorf("verify passed a repo with a damaged block: %v", res)
			continue
		}
		if !bytes.Contains(res.stdout, []byte(damaged)) {
			t.Errorf("verify does not name the damaged block %s on stdout: %v", damaged, res)
		}
		if !bytes.Contains(res.stdout, []byte(layer.String())) {
			t.Errorf("verify does not name the damaged blob %s on stdout: %v", layer, res)
		}
		if m := verifySummary.FindSubmatch(res.stderr); m == nil || string(m[3]) == "0" {
			t.Errorf("verify's summary should count the problems: %v", res)
		}
	}
	wantVerified(t, r.run(nil, "verify", hello), 3, 3)

	// pull: every output form fails naming the blob, and leaves nothing.
	out := t.TempDir()
	for _, args := range [][]string{
		{"-o", filepath.Join(out, "img.tar")},
		{"--format", "oci", "-o", filepath.Join(out, "layout")},
		{"--format", "oci-archive", "-o", filepath.Join(out, "oci.tar")},
		{}, // stdout
	} {
		res := r.run(nil, append(append([]string{"pull", "--offline"}, args...), cid)...)
		if res.code == 0 {
			t.Errorf("pull of an image with a damaged block succeeded: %v", res)
			continue
		}
		if !bytes.Contains(res.stderr, []byte(layer.Hex)) {
			t.Errorf("pull error does not name the damaged blob %s: %v", layer, res)
		}
		if bytes.Contains(res.stdout, bad) {
			t.Errorf("pull wrote the damaged bytes to stdout (%d bytes written before failing)", len(res.stdout))
		}
	}
	emptyDir(t, out)
	// The damage stays where it is: the other image is unaffected.
	r.ok("pull", "--offline", "-o", filepath.Join(t.TempDir(), "hello.tar"), hello)

	// The registry gateway must not serve the damaged bytes either: it
	// cuts the response (or refuses it) before they go out.
	gw := offlineGateway(t, r, nsOf(r))
	resp, err := gw.client.Get(gw.URL + "/v2/ipfs/" + cid + "/blobs/" + layer.String())
	if err != nil {
		t.Fatalf("GET the damaged blob: %v", err)
	}
	body, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && readErr == nil {
		t.Errorf("the gateway served the damaged blob whole (%d bytes, sha256 %s)", len(body), sha256Digest(body))
	}
	if bytes.Contains(body, bad) {
		t.Errorf("the gateway sent the damaged bytes (%s, %d bytes before the cut: %v)", resp.Status, len(body), readErr)
	}
}

// TestVerifyPulledImage: an image pulled intact from a peer verifies, by
// CID and by name, as it does in the repo it came from: every block of its
// DAG is there, oci-layout included, since the repo now serves the image
// to others (`ipfs get` of it must give a whole layout).
func TestVerifyPulledImage(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	cid := a.push(randomLayout(t, 4, 703))
	wantVerified(t, a.run(nil, "verify", cid), 5, 3)

	for _, viaDaemon := range []bool{false, true} {
		b := newRepo(t)
		if viaDaemon {
			b.startDaemon("--mdns=false")
		}
		b.ok("pull", "--mdns=false", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
		what := map[bool]string{false: "pulled without a daemon", true: "pulled through a daemon"}[viaDaemon]
		for _, arg := range []string{cid, testimage.RandomRef} {
			res := b.run(nil, "verify", arg)
			if m := verifySummary.FindSubmatch(res.stderr); res.code != 0 || m == nil || string(m[3]) != "0" {
				t.Errorf("%s, verify %s should pass: %v", what, arg, res)
			}
		}
	}
}

// TestVerifyRepairLetsAPullFetchAgain: a damaged block counts as present,
// so no pull ever fetches it again and its image fails for good (gc
// refuses to run, too). `verify --repair` removes it: verify then finds
// it missing, a pull from a peer that has the image fetches it, and the
// repo verifies whole again, and gc runs.
func TestVerifyRepairLetsAPullFetchAgain(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	layout := randomLayout(t, 4, 704)
	cid := a.push(layout)

	b := newRepo(t)
	if got := b.push(layout); got != cid {
		t.Fatalf("the same layout pushed into B is %s, into A %s", got, cid)
	}
	b.ok("ls") // a new value-log file: see corruptStored
	blob := readFile(t, testimage.BlobPath(layout, digests(t, layout).Layers[0]))
	corruptStored(t, b, blob[1<<20+4096:1<<20+4096+64])
	damaged := chunkCID(blob, 1)

	res := b.run(nil, "verify", "--repair")
	if res.code == 0 || !bytes.Contains(res.stdout, []byte("removed damaged block "+damaged)) || !bytes.Contains(res.stderr, []byte("pull the images that held them again")) {
		t.Fatalf("verify --repair of a damaged block: %v", res)
	}
	res = b.run(nil, "verify", cid)
	if res.code == 0 || !bytes.Contains(res.stdout, []byte(damaged+": missing")) {
		t.Errorf("verify after the repair should find the block missing: %v", res)
	}
	pulled := b.ok("pull", "--peer", da.Addr, "--timeout", "1m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
	if peerShare(t, pulled, da.ID) == 0 {
		t.Errorf("the pull after the repair fetched nothing from A: %s", pulled.stderr)
	}
	wantVerified(t, b.run(nil, "verify"), 5, 3)
	b.ok("gc")
}
