package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/ipfs/boxo/ipld/merkledag"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
)

// lyingFile links the first n chunks of a 3 MiB file under a node whose
// block sizes each say size, and whose file size is their sum.
func lyingFile(t *testing.T, f addedFile, n int, size uint64) *merkledag.ProtoNode {
	t.Helper()
	fsn := unixfs.NewFSNode(unixfs.TFile)
	nd := merkledag.NodeWithData(nil)
	for _, l := range f.node.Links()[:n] {
		fsn.AddBlockSize(size)
		nd.AddRawLink("", l)
	}
	raw, err := fsn.GetBytes()
	if err != nil {
		t.Fatal(err)
	}
	nd.SetData(raw)
	return nd
}

// A file node's sizes are its author's word. Through OpenBlob (pull's
// reader, boxo's DagReader) as through the gateway's writeRange, a file
// that holds less than its size says, or whose chunks hold more than its
// block sizes say, fails the read before the last promised byte. The
// second held no wrong bytes out (the gateway cut each chunk to its
// stated size and the digest matched), but the gateway served a blob
// that pull and verify refuse; now both refuse it.
func TestOpenBlobRefusesFileSizesThatLie(t *testing.T) {
	ctx := context.Background()
	dag := mdtest.Mock()
	data, f := randomFile(t, dag, 3<<20, 11)
	for _, tc := range []struct {
		name    string
		nd      *merkledag.ProtoNode
		content []byte // what the descriptor says the blob is
	}{
		// Claims 3 MiB, links two chunks: the last one's bytes are never there.
		{"short", lyingFile(t, f, 2, 3<<19), data},
		// Claims 1000 bytes a chunk: each chunk holds 1 MiB.
		{"long", lyingFile(t, f, 3, 1000), append(append(append([]byte{}, data[:1000]...), data[1<<20:1<<20+1000]...), data[2<<20:2<<20+1000]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := dag.Add(ctx, tc.nd); err != nil {
				t.Fatal(err)
			}
			d := v1.Descriptor{Size: int64(len(tc.content)), Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(tc.content))}}
			r := &Root{dag: dag, blobs: dirBlobs{links: map[string]cid.Cid{d.Digest.Hex: tc.nd.Cid()}}}
			rc, err := r.OpenBlob(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err == nil || int64(len(got)) >= d.Size {
				t.Errorf("OpenBlob: %d of %d bytes, err %v; want an error before the last byte", len(got), d.Size, err)
			}
			var out bytes.Buffer
			if err := r.WriteBlob(ctx, d, &out); err == nil || int64(out.Len()) >= d.Size {
				t.Errorf("WriteBlob: %d of %d bytes, err %v; want an error before the last byte", out.Len(), d.Size, err)
			}
		})
	}
}

// A docker-archive's tags come from ref names a DAG's author wrote: none
// may name a path, add a manifest.json entry, or carry a control
// character into docker load. Names that are not docker tags are left out
// (go-containerregistry's name.NewTag refuses them), and an image left
// with none gets the root's default name.
func TestDockerArchiveTagsFromHostileNames(t *testing.T) {
	ctx := context.Background()
	dag := mdtest.Mock()
	cfg, layer := smallImage()
	m := []byte(manifestNaming(descOf(types.OCIConfigJSON, cfg), descOf(types.OCILayer, layer), `"x":"y"}}`))
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	hostile := []string{"../../../etc/cron.d/x:latest", "/abs/path:v1", "a\nb:c", "ok:v1\x00", `a"],"x":["b:c`, "evil:v1\r\n", "UPPER:v1", "x:" + strings.Repeat("t", 200)}
	for _, n := range hostile {
		d := descOf(types.OCIManifestSchema1, m)
		d.Annotations = map[string]string{AnnotationRefName: n}
		idx.Manifests = append(idx.Manifests, d)
	}
	index, _ := json.Marshal(idx)
	root := hostileRoot(t, dag, [][]byte{cfg, layer, m}, index)
	r, err := Open(ctx, dag, root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := r.Plan(ctx, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := exp.WriteDockerArchive(ctx, &out, nil); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&out)
	var manifests [][]byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(hdr.Name, "/\\\n\x00") || strings.Contains(hdr.Name, "..") {
			t.Errorf("archive entry %q", hdr.Name)
		}
		if hdr.Name == "manifest.json" {
			raw, _ := io.ReadAll(tr)
			manifests = append(manifests, raw)
		}
	}
	if len(manifests) != 1 {
		t.Fatalf("%d manifest.json entries, want 1", len(manifests))
	}
	var entries []struct{ RepoTags []string }
	if err := json.Unmarshal(manifests[0], &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || len(entries[0].RepoTags) != 1 || entries[0].RepoTags[0] != DefaultName(root)+":latest" {
		t.Errorf("manifest.json %s; want one image tagged %s:latest", manifests[0], DefaultName(root))
	}
	for _, e := range entries {
		for _, tag := range e.RepoTags {
			if _, err := name.NewTag(tag, name.StrictValidation); err != nil {
				t.Errorf("tag %q: %v", tag, err)
			}
		}
	}
}
