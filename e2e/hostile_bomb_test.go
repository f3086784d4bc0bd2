package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"
)

// gzipBomb is a gzip'd tar of one entry of mib MiB, each MiB distinct (a
// counter at its start) and otherwise zeros: about 1 KB of gzip per MiB,
// and nothing the repo can store once for many chunks.
func gzipBomb(t *testing.T, mib int) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "junk", Mode: 0o644, Size: int64(mib) << 20, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range mib {
		binary.BigEndian.PutUint64(chunk, uint64(i)+1)
		if _, err := tw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// TestHostileGzipBombIsReclaimed: an archive streamed to push is stored
// as it arrives (a pipe cannot be read twice, and a docker-archive names
// its images last), so a gzip bomb costs the repo its expanded size until
// push learns it holds no image, as `docker load` costs its disk. What
// must hold: the push fails saying why, pins and lists nothing, and gc
// gives every byte back.
func TestHostileGzipBombIsReclaimed(t *testing.T) {
	r := newRepo(t)
	r.ok("gc") // the repo exists, empty
	empty := diskUsage(t, r.dir)
	const mib = 384
	bomb := gzipBomb(t, mib)
	res := r.run(bytes.NewReader(bomb), "push", "-")
	if res.code == 0 || !strings.Contains(string(res.stderr), "not an image archive") {
		t.Fatalf("push of a %d KiB gzip bomb: want it refused as no image archive: %v", len(bomb)>>10, res)
	}
	grown := diskUsage(t, r.dir)
	t.Logf("a %d KiB gzip bomb of %d MiB grew the repo from %d to %d MiB", len(bomb)>>10, mib, empty>>20, grown>>20)
	if ls := r.ok("ls", "-q").stdout; len(ls) != 0 {
		t.Errorf("a failed push listed images: %q", ls)
	}
	if n := r.gc(); n < mib {
		t.Errorf("gc removed %d blocks after a failed push of %d MiB", n, mib)
	}
	if after := diskUsage(t, r.dir); after > empty+(64<<20) {
		t.Errorf("after gc the repo holds %d MiB, %d MiB when empty", after>>20, empty>>20)
	}
}
