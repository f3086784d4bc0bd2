package node

import (
	"bytes"
	"crypto/rand"
	"crypto/sha3"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/libp2p/go-libp2p/core/pnet"
	"golang.org/x/crypto/salsa20"
)

// SwarmKeyFile is the name of a repo's private-network key, as in Kubo.
const SwarmKeyFile = "swarm.key"

// SwarmKey is a private network's pre-shared key.
type SwarmKey struct {
	PSK  pnet.PSK
	Path string
	// Fingerprint identifies the network in logs without revealing the key:
	// Kubo's, so that nodes of both kinds in one network print the same.
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
	k := &SwarmKey{PSK: psk, Path: path, Fingerprint: fingerprint(psk)}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		k.Warning = fmt.Sprintf("swarm key %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	return k, nil
}

// fingerprint is what Kubo prints as "Swarm key fingerprint" (kubo
// core/node/libp2p/pnet.go): 64 zero bytes encrypted with Salsa20 under the
// key and the nonce "finprint", hashed to 16 bytes with SHAKE-128. A user
// comparing a Kubo node's log with ours must see the same value for the
// same key, or the fingerprint cannot tell whether two nodes share a
// network.
func fingerprint(psk pnet.PSK) string {
	var key [32]byte
	copy(key[:], psk)
	enc := make([]byte, 64)
	salsa20.XORKeyStream(enc, make([]byte, 64), []byte("finprint"), &key)
	return hex.EncodeToString(sha3.SumSHAKE128(enc, 16))
}

// GenerateSwarmKey returns a new random key in Kubo's swarm.key format.
func GenerateSwarmKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return []byte("/key/swarm/psk/1.0.0/\n/base16/\n" + hex.EncodeToString(key) + "\n"), nil
}
