package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// A docker config naming a credential helper that is not installed (a
// config copied from Docker Desktop: credsStore "desktop") fails every
// registry access, as it does docker's; the error says what to change.
func TestRemoteMissingCredentialHelperSaysWhatToDo(t *testing.T) {
	cfg := t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"credsStore":"imgp2p-test-absent"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	ref := newRegistry(t, nil) + "/x:v1"
	_, err := ImportRemote(context.Background(), mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{})
	for _, want := range []string{"docker-credential-imgp2p-test-absent", "not installed", "remove credsStore"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("import with a missing credential helper: %v; want %q in it", err, want)
		}
	}
}
