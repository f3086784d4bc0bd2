package node

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// fakeAnnouncer is a DHT that refuses to announce while down (no peers),
// and records what it announced.
type fakeAnnouncer struct {
	mu    sync.Mutex
	down  bool
	got   []cid.Cid
	tries map[cid.Cid]int
}

func (f *fakeAnnouncer) Provide(_ context.Context, c cid.Cid, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tries == nil {
		f.tries = map[cid.Cid]int{}
	}
	f.tries[c]++
	if f.down {
		return errors.New("failed to find any peer in table")
	}
	f.got = append(f.got, c)
	return nil
}

func (f *fakeAnnouncer) announced() []cid.Cid {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// tried is how many roots were tried at least once.
func (f *fakeAnnouncer) tried() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tries)
}

func (f *fakeAnnouncer) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// announcingTo is a node's router with its DHTs' announcing replaced.
type announcingTo struct {
	contentRouter
	to []announcer
}

func (r announcingTo) announcers() []announcer { return r.to }

// Each DHT announces on its own: one with no peers yet (the Amino DHT
// before bootstrap, the LAN DHT of a node alone on its LAN) neither stops
// nor delays the other, and gets every root once it has peers. The dual
// DHT's own Provide chose one DHT, so a public node's roots reached only
// one of them.
func TestProvideAnnouncesOnEachDHTOnItsOwn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := loopbackNode(t, ctx)
	up, down := &fakeAnnouncer{}, &fakeAnnouncer{down: true}
	n.router = announcingTo{n.router, []announcer{down, up}}
	var roots []cid.Cid
	for _, s := range []string{"a", "b", "c"} {
		h, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, cid.NewCidV1(cid.Raw, h))
	}
	n.Provide(roots)
	waitFor(t, "every root announced on the DHT with peers", func() bool { return slices.Equal(up.announced(), roots) })
	if got := down.announced(); len(got) != 0 {
		t.Fatalf("a DHT with no peers announced %v", got)
	}
	down.setDown(false)
	waitFor(t, "every root announced on the other DHT once it has peers", func() bool { return slices.Equal(down.announced(), roots) })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// A DHT with no peers (a public server's LAN DHT, on a cloud host) gets
// one retry window per batch of roots, then one try for each root left:
// it spent the window on every root in turn, so 20 roots took 20 windows
// (40 minutes at 2 minutes each) before the last was tried.
func TestProvideRetriesABatchOnceNotEachRoot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := loopbackNode(t, ctx)
	old := provideRetryFor
	provideRetryFor = 300 * time.Millisecond
	t.Cleanup(func() { provideRetryFor = old })
	down := &fakeAnnouncer{down: true}
	n.router = announcingTo{n.router, []announcer{down}}
	var roots []cid.Cid
	for i := range 20 {
		h, err := multihash.Sum([]byte{byte(i)}, multihash.SHA2_256, -1)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, cid.NewCidV1(cid.Raw, h))
	}
	n.Provide(roots)
	// Each root's own window would take 20 × (a try, a 1 s wait, a try).
	waitFor(t, "every root tried once the batch's window is over", func() bool { return down.tried() == len(roots) })
}
