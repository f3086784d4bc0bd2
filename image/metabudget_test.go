package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Metadata a hostile author can make cost little: blobs alike but for
// their last bytes share every 1 MiB chunk but the last, so a DAG (or a
// gzip'd archive) of a few hundred KB can hold dozens of distinct 3 MiB
// manifests or configs. Each passes the 4 MiB limit on its own; read and
// kept together, they cost a walk 3 MiB of memory apiece. Before the
// limit on all of an image's metadata, 40 of them took a plan 379 MiB of
// heap, and an index.json listing 25,000 would have taken 75 GB.

// padded returns n distinct JSON documents of just over 3 MiB: head,
// then padding as the value of "pad", then "n": i.
func padded(head string, n int) [][]byte {
	pad := strings.Repeat("A", 3<<20)
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `%s"pad":"%s","n":"%08d"}}`, head, pad, i)
	}
	return out
}

func descOf(mt types.MediaType, b []byte) v1.Descriptor {
	return v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}}
}

// tooMuchMetadata is one more 3 MiB blob than the limit allows.
const tooMuchMetadata = maxMetadataTotal/(3<<20) + 1

// hostConfigHead is the start of an image config for the host's platform,
// up to its "config" object: the tests that plan or push for
// HostPlatform() must find their image on an arm64 machine as on amd64.
func hostConfigHead() string {
	p := HostPlatform()
	return fmt.Sprintf(`{"architecture":%q,"os":%q,"rootfs":{"type":"layers","diff_ids":[]},"config":`, p.Architecture, p.OS)
}

// smallImage is a config and a layer that every padded manifest names.
func smallImage() (config, layer []byte) {
	return []byte(hostConfigHead() + `{}}`), []byte("layer")
}

func manifestNaming(config, layer v1.Descriptor, tail string) string {
	raw, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: config, Layers: []v1.Descriptor{layer}})
	return strings.TrimSuffix(string(raw), "}") + `,"annotations":{` + tail
}

// bigManifests is a layout whose index lists n distinct padded manifests
// (no platform, so each is read to learn it), as its blobs and index.json.
func bigManifests(n int) (blobs [][]byte, index []byte) {
	cfg, layer := smallImage()
	head := manifestNaming(descOf(types.OCIConfigJSON, cfg), descOf(types.OCILayer, layer), "")
	blobs = [][]byte{cfg, layer}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, m := range padded(head, n) {
		blobs = append(blobs, m)
		idx.Manifests = append(idx.Manifests, descOf(types.OCIManifestSchema1, m))
	}
	index, _ = json.Marshal(idx)
	return blobs, index
}

// bigConfigs is a layout whose index lists n small manifests for the
// host's platform (so none is read to learn its platform), each naming a
// distinct padded config: what a docker-archive keeps in memory.
func bigConfigs(n int) (blobs [][]byte, index []byte) {
	_, layer := smallImage()
	blobs = [][]byte{layer}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for i, c := range padded(hostConfigHead()+`{"Labels":{`, n) {
		m := []byte(manifestNaming(descOf(types.OCIConfigJSON, c), descOf(types.OCILayer, layer), fmt.Sprintf(`"n":"%d"}}`, i)))
		blobs = append(blobs, c, m)
		d := descOf(types.OCIManifestSchema1, m)
		d.Platform = HostPlatform()
		idx.Manifests = append(idx.Manifests, d)
	}
	index, _ = json.Marshal(idx)
	return blobs, index
}

// hostileRoot stores a native root over blobs and index as anyone could
// build one, without the importer's checks.
func hostileRoot(t *testing.T, dag ipld.DAGService, blobs [][]byte, index []byte) cid.Cid {
	t.Helper()
	ctx := context.Background()
	b := &layoutBuilder{dag: dag, blobs: map[string]addedFile{}}
	for _, raw := range blobs {
		f, err := addBytes(ctx, dag, raw)
		if err != nil {
			t.Fatal(err)
		}
		b.blobs[f.digest.Hex] = f
	}
	root, err := b.writeRoot(ctx, index)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func wantMetadataRefused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "metadata") {
		t.Errorf("%s: %v, want it refused for holding too much metadata", what, err)
	}
}

func TestPlanBoundsAnImagesMetadataInAll(t *testing.T) {
	ctx := context.Background()
	for name, layout := range map[string]func(int) ([][]byte, []byte){"manifests": bigManifests, "configs": bigConfigs} {
		t.Run(name, func(t *testing.T) {
			dag := mdtest.Mock()
			blobs, index := layout(tooMuchMetadata)
			r, err := Open(ctx, dag, hostileRoot(t, dag, blobs, index))
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Plan(ctx, ExportOptions{Platform: HostPlatform()})
			wantMetadataRefused(t, "plan for the host's platform", err)
			_, err = r.Plan(ctx, ExportOptions{})
			wantMetadataRefused(t, "plan of every platform", err)

			// Within the limit, the same images plan as before.
			blobs, index = layout(tooMuchMetadata - 2)
			r, err = Open(ctx, dag, hostileRoot(t, dag, blobs, index))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Plan(ctx, ExportOptions{}); err != nil {
				t.Errorf("plan of %d padded blobs: %v", tooMuchMetadata-2, err)
			}
		})
	}
}

// gzipOCIArchive tars blobs and index as an oci-archive, gzip'd.
func gzipOCIArchive(t *testing.T, blobs [][]byte, index []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	add(layoutFile, []byte(layoutVersion))
	add(indexFile, index)
	for _, b := range blobs {
		add("blobs/sha256/"+descOf("", b).Digest.Hex, b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

func TestPushBoundsAnImagesMetadataInAll(t *testing.T) {
	ctx := context.Background()
	for name, layout := range map[string]func(int) ([][]byte, []byte){"manifests": bigManifests, "configs": bigConfigs} {
		t.Run(name, func(t *testing.T) {
			blobs, index := layout(tooMuchMetadata)
			archive := gzipOCIArchive(t, blobs, index)
			t.Logf("a %d KiB archive", len(archive)>>10)
			_, err := ImportArchive(ctx, mdtest.Mock(), bytes.NewReader(archive), ImportOptions{})
			wantMetadataRefused(t, "push", err)
			_, err = ImportArchive(ctx, mdtest.Mock(), bytes.NewReader(archive), ImportOptions{Platform: HostPlatform()})
			wantMetadataRefused(t, "push --platform", err)
			blobs, index = layout(tooMuchMetadata - 2)
			if _, err := ImportArchive(ctx, mdtest.Mock(), bytes.NewReader(gzipOCIArchive(t, blobs, index)), ImportOptions{}); err != nil {
				t.Errorf("push of %d padded blobs: %v", tooMuchMetadata-2, err)
			}
		})
	}
}

// A nerdctl root's walk reads every index and manifest its urls reach.
func TestOpenNerdctlBoundsAnImagesMetadataInAll(t *testing.T) {
	ctx := context.Background()
	dag := mdtest.Mock()
	withURL := func(mt types.MediaType, raw []byte) v1.Descriptor {
		t.Helper()
		f, err := addBytes(ctx, dag, raw)
		if err != nil {
			t.Fatal(err)
		}
		d := descOf(mt, raw)
		d.URLs = []string{"ipfs://" + f.node.Cid().String()}
		return d
	}
	root := func(n int) cid.Cid {
		t.Helper()
		cfg, layer := smallImage()
		head := manifestNaming(withURL(types.OCIConfigJSON, cfg), withURL(types.OCILayer, layer), "")
		idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
		for _, m := range padded(head, n) {
			idx.Manifests = append(idx.Manifests, withURL(types.OCIManifestSchema1, m))
		}
		raw, _ := json.Marshal(idx)
		top, _ := json.Marshal(withURL(types.OCIImageIndex, raw))
		f, err := addBytes(ctx, dag, top)
		if err != nil {
			t.Fatal(err)
		}
		return f.node.Cid()
	}
	_, err := Open(ctx, dag, root(tooMuchMetadata))
	wantMetadataRefused(t, "open", err)
	if _, err := Open(ctx, dag, root(tooMuchMetadata-2)); err != nil {
		t.Errorf("open of a nerdctl root of %d padded manifests: %v", tooMuchMetadata-2, err)
	}
}
