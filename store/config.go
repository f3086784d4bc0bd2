package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const configFile = "config.json"

// Config is the repo's small, user-editable settings file.
type Config struct {
	// Listen are the daemon's default listen multiaddrs.
	Listen []string `json:"Listen"`
	// Peers are multiaddrs (with /p2p/ID) the daemon dials at start and
	// keeps connected.
	Peers []string `json:"Peers"`
	// Mode is the default network mode: lan, public or offline.
	Mode string `json:"Mode"`
	// MDNS turns LAN discovery on; unset means on.
	MDNS *bool `json:"MDNS,omitempty"`
	// Bootstrap overrides the public network's bootstrap peers.
	Bootstrap []string `json:"Bootstrap,omitempty"`
}

// DefaultConfig listens on all interfaces, like Kubo's default swarm
// addresses, so that peers on the LAN can reach the daemon.
func DefaultConfig() Config {
	return Config{
		Listen: []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1", "/ip6/::/tcp/4001", "/ip6/::/udp/4001/quic-v1"},
		Peers:  []string{},
		Mode:   "lan",
	}
}

func loadOrCreateConfig(dir string) (Config, error) {
	path := filepath.Join(dir, configFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		cfg := DefaultConfig()
		return cfg, saveConfig(dir, cfg)
	}
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return Config{}, fmt.Errorf("parse config %s: %w", path, err)
	}
	return cfg, nil
}

func saveConfig(dir string, cfg Config) error {
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, configFile), append(raw, '\n'), 0o600)
}
