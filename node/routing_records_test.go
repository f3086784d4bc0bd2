package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/multiformats/go-multihash"

	"github.com/imgp2p/imgp2p/store"
)

// A public node serves its LAN's DHT and the Amino DHT. Provider records
// its LAN neighbours send it say which machine of the LAN holds which
// image; the Amino DHT must not hand them to the Internet, nor take the
// Internet's into the LAN's answers. Each DHT keeps its own records.
func TestPublicDHTsKeepTheirOwnProviderRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	repo, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	// A bootstrap peer on loopback that is not there: nothing is dialed
	// beyond it.
	nowhere := "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQEvDdRyuRB11S7UGXnTdF9WzUsR1UUdWvN71SFgnLGhR"
	r, err := newRouter(h, repo, Options{Mode: ModePublic, Bootstrap: []string{nowhere}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	dual := r.(dualRouter)

	for _, tc := range []struct{ from, to string }{{"LAN", "Amino"}, {"Amino", "LAN"}} {
		stored, other := dual.LAN.ProviderStore(), dual.WAN.ProviderStore()
		if tc.from == "Amino" {
			stored, other = other, stored
		}
		key, _, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			t.Fatal(err)
		}
		neighbour, err := peer.IDFromPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		addr := ma.StringCast("/ip4/10.0.0.5/tcp/4001")
		// kad-dht writes provider records to the datastore 256 at a
		// time (and at close): a LAN announcing a few dozen images'
		// blobs, or a daemon restart, gets them there.
		var first multihash.Multihash
		for i := range 256 {
			mh, err := multihash.Sum(fmt.Appendf(nil, "%s %d", tc.from, i), multihash.SHA2_256, -1)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = mh
			}
			if err := stored.AddProvider(ctx, mh, peer.AddrInfo{ID: neighbour, Addrs: []ma.Multiaddr{addr}}); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := stored.GetProviders(ctx, first); err != nil || len(got) != 1 {
			t.Fatalf("control: the %s DHT's own record: %v, %v", tc.from, got, err)
		}
		if got, err := other.GetProviders(ctx, first); err != nil || len(got) != 0 {
			t.Errorf("a record sent to the %s DHT is answered by the %s DHT: %v, %v", tc.from, tc.to, got, err)
		}
	}
}
