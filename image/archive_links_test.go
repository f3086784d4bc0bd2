package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// An archive's symlinks and hardlinks name other entries of the archive,
// never files on the machine: a blob linked to a local file the archive's
// author knows the digest of (here one the test writes) is missing from
// the archive, however the link is written.
func TestArchiveLinksNeverReachLocalFiles(t *testing.T) {
	ctx := context.Background()
	secret := filepath.Join(t.TempDir(), "secret")
	layer := []byte("the bytes of a local file")
	if err := os.WriteFile(secret, layer, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _ := smallImage()
	m := []byte(manifestNaming(descOf(types.OCIConfigJSON, cfg), descOf(types.OCILayer, layer), `"x":"y"}}`))
	index := []byte(`{"schemaVersion":2,"manifests":[` + string(mustJSON(t, descOf(types.OCIManifestSchema1, m))) + `]}`)
	layerPath := "blobs/sha256/" + descOf("", layer).Digest.Hex
	for _, link := range []tar.Header{
		{Typeflag: tar.TypeSymlink, Name: layerPath, Linkname: secret},
		{Typeflag: tar.TypeSymlink, Name: layerPath, Linkname: "../../../../../../../.." + secret},
		{Typeflag: tar.TypeLink, Name: layerPath, Linkname: secret},
		{Typeflag: tar.TypeLink, Name: layerPath, Linkname: strings.TrimPrefix(secret, "/")},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for name, b := range map[string][]byte{layoutFile: []byte(layoutVersion), indexFile: index, "blobs/sha256/" + descOf("", cfg).Digest.Hex: cfg, "blobs/sha256/" + descOf("", m).Digest.Hex: m} {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b))})
			tw.Write(b)
		}
		if err := tw.WriteHeader(&link); err != nil {
			t.Fatal(err)
		}
		tw.Close()
		_, err := ImportArchive(ctx, mdtest.Mock(), &buf, ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), "missing from the archive") {
			t.Errorf("layer as a %c link to %s: %v, want the layer missing from the archive", link.Typeflag, link.Linkname, err)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
