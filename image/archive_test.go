package image

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// `tar -cf app.tar app-layout` puts the layout under app-layout/; the push
// said only that the archive had neither index.json nor manifest.json,
// though it had app-layout/index.json. It now names it and says how to tar.
func TestArchiveOfALayoutDirectoryNamesWhatItHolds(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{
		"app-layout/oci-layout": layoutVersion,
		"app-layout/index.json": `{"schemaVersion":2,"manifests":[]}`,
	} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(body)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	_, err := ImportArchive(context.Background(), mdtest.Mock(), &buf, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "only app-layout/index.json") || !strings.Contains(err.Error(), "tar -C app-layout") {
		t.Fatalf("import of a tarred layout directory: %v, want an error naming app-layout/index.json and how to tar it", err)
	}
}
