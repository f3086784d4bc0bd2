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
	if len(k.PSK) != 32 || k.Warning != "" || len(k.Fingerprint) != 32 {
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

// TestFingerprintIsKubos: the key below made Kubo 0.43.1's daemon print
// "Swarm key fingerprint: e0cdfa6738712846d22916f94af10207".
func TestFingerprintIsKubos(t *testing.T) {
	path := filepath.Join(t.TempDir(), SwarmKeyFile)
	key := "/key/swarm/psk/1.0.0/\n/base16/\n04252637cc66cd23040b2c6b72dcf3d4dca8913180df3a2d9f45084fc4e562f9\n"
	if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadSwarmKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "e0cdfa6738712846d22916f94af10207"; k.Fingerprint != want {
		t.Fatalf("fingerprint %s, Kubo prints %s for the same key", k.Fingerprint, want)
	}
}
