package image

import (
	"archive/tar"
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// dockerArchive tars a docker-archive of one config c, one layer l and
// manifestJSON, in that order.
func dockerArchive(t *testing.T, config []byte, manifestJSON string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"c", config}, {"l", []byte("layer")}, {dockerManifestFile, []byte(manifestJSON)}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A docker-archive's manifest.json is within the 4 MiB limit, but what
// push builds from it was not: each layer name became a descriptor in a
// manifest, each tag an index entry, each image a config read. Before:
// a manifest.json of 1M tags of one image took 3 GB of heap before the
// index was refused; 1M layer names, 1 GB and a 154 MB manifest stored;
// 150,000 images naming one 4 MiB config read it 150,000 times, hours of
// work. A gzip'd archive of any of them is a few KB.
func TestDockerArchiveManifestListingTooMuchIsRefused(t *testing.T) {
	config, _ := smallImage()
	bigConfig := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"comment":"` + strings.Repeat("A", maxMetadataSize-200) + `"}`)
	const n = maxMetadataSize/4 - 100
	for _, tc := range []struct {
		name     string
		config   []byte
		manifest string
	}{
		{"tags", config, `[{"Config":"c","Layers":["l"],"RepoTags":["a"` + strings.Repeat(`,"a"`, n-1) + `]}]`},
		{"layers", config, `[{"Config":"c","RepoTags":["a:b"],"Layers":["l"` + strings.Repeat(`,"l"`, n-1) + `]}]`},
		{"images", bigConfig, `[` + strings.Repeat(`{"Config":"c"},`, maxMetadataSize/16-1) + `{"Config":"c"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ImportArchive(ctx, mdtest.Mock(), bytes.NewReader(dockerArchive(t, tc.config, tc.manifest)), ImportOptions{})
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "manifest.json lists more than") {
				t.Errorf("push: %.300v; want manifest.json refused for listing too much", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("push allocated %d MiB refusing a %d KiB manifest.json", alloc>>20, len(tc.manifest)>>10)
			}
		})
	}
}

// Many images may share one config (docker save of several tags of one
// image does): it is read once.
func TestDockerArchiveImagesSharingAConfigReadItOnce(t *testing.T) {
	bigConfig := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"comment":"` + strings.Repeat("A", maxMetadataSize-200) + `"}`)
	manifest := `[` + strings.Repeat(`{"Config":"c","Layers":["l"]},`, 999) + `{"Config":"c","Layers":["l"]}]`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := ImportArchive(ctx, mdtest.Mock(), bytes.NewReader(dockerArchive(t, bigConfig, manifest)), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("1000 images of one 4 MiB config took %s to push", took)
	}
}
