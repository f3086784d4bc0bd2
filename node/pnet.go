package node

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/libp2p/go-libp2p/core/pnet"
)

// SwarmKeyFile is the name of a repo's private-network key, as in Kubo.
const SwarmKeyFile = "swarm.key"

// SwarmKey is a private network's pre-shared key.
type SwarmKey struct {
	PSK  pnet.PSK
	Path string
	// Fingerprint identifies the network in logs without revealing the key.
	Fingerprint string
	// Warning is set when the file is readable by group or others.
	Warning string
}

// ReadSwarmKey reads a Kubo-format swarm.key (/key/swarm/psk/1.0.0/).
func ReadSwarmKey(path string) (*SwarmKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read swarm key: %w", err)
	}
	psk, err := pnet.DecodeV1PSK(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("swarm key %s: %w (want Kubo's format: /key/swarm/psk/1.0.0/, /base16/, 64 hex digits)", path, err)
	}
	sum := sha256.Sum256(psk)
	k := &SwarmKey{PSK: psk, Path: path, Fingerprint: hex.EncodeToString(sum[:8])}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		k.Warning = fmt.Sprintf("swarm key %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	return k, nil
}

// GenerateSwarmKey returns a new random key in Kubo's swarm.key format.
func GenerateSwarmKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return []byte("/key/swarm/psk/1.0.0/\n/base16/\n" + hex.EncodeToString(key) + "\n"), nil
}
