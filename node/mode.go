package node

import "fmt"

// Mode is how far a node reaches.
type Mode string

const (
	// ModeLAN finds peers by mDNS and the LAN DHT and talks only to
	// loopback, private, link-local and unique-local addresses. Nothing
	// leaves the local network.
	ModeLAN Mode = "lan"
	// ModePublic also joins the public IPFS network (Amino DHT, bootstrap
	// peers), so Kubo nodes anywhere can fetch from it and serve to it.
	ModePublic Mode = "public"
	// ModeOffline builds no host at all, like `ipfs daemon --offline`.
	ModeOffline Mode = "offline"
)

// ParseMode reads a mode name as written in the config.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeLAN, ModePublic, ModeOffline:
		return m, nil
	case "":
		return ModeLAN, nil
	}
	return "", fmt.Errorf("unknown network mode %q: want lan, public or offline", s)
}
