package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGeneratedSwarmKeyReadsBackAndPermissionsAreChecked(t *testing.T) {
	raw, err := GenerateSwarmKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), SwarmKeyFile)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadSwarmKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.PSK) != 32 || k.Warning != "" || len(k.Fingerprint) != 16 {
		t.Fatalf("key %d bytes, warning %q, fingerprint %q", len(k.PSK), k.Warning, k.Fingerprint)
	}
	if strings.Contains(string(raw), k.Fingerprint) {
		t.Fatal("the fingerprint reveals part of the key")
	}
	os.Chmod(path, 0o644)
	if k, _ = ReadSwarmKey(path); k.Warning == "" {
		t.Fatal("a world-readable swarm key gave no warning")
	}
	os.WriteFile(path, []byte("/key/swarm/psk/1.0.0/\n/base16/\nzz\n"), 0o600)
	if _, err := ReadSwarmKey(path); err == nil {
		t.Fatal("a malformed key was accepted")
	}
}
