package node

import (
	"slices"
	"testing"
)

// TestPrivateNetworkSkipsPublicBootstrap: Kubo's public bootstrap peers are
// used only in public mode, only without a swarm key, and only when the
// config names none. (Tested on the choice alone: no test sends a packet
// to a public address.)
func TestPrivateNetworkSkipsPublicBootstrap(t *testing.T) {
	key := &SwarmKey{Fingerprint: "f"}
	own := []string{"/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWQEvDdRyuRB11S7UGXnTdF9WzUsR1UUdWvN71SFgnLGhR"}
	for _, tc := range []struct {
		name     string
		opts     Options
		want     []string
		wantNote bool
	}{
		{"public", Options{Mode: ModePublic}, DefaultBootstrap(), false},
		{"public, configured", Options{Mode: ModePublic, Bootstrap: own}, own, false},
		{"public, private network", Options{Mode: ModePublic, SwarmKey: key}, nil, true},
		{"public, private network, configured", Options{Mode: ModePublic, SwarmKey: key, Bootstrap: own}, own, false},
		{"lan", Options{Mode: ModeLAN}, nil, false},
		{"lan, private network", Options{Mode: ModeLAN, SwarmKey: key}, nil, false},
	} {
		got, note := bootstrapFor(tc.opts)
		if !slices.Equal(got, tc.want) || (note != "") != tc.wantNote {
			t.Errorf("%s: bootstrap %v, note %q; want %v, a note: %v", tc.name, got, note, tc.want, tc.wantNote)
		}
	}
	if len(DefaultBootstrap()) == 0 {
		t.Fatal("control: no default bootstrap peers to leave out")
	}
}
