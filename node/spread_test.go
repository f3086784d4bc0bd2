package node

import (
	"context"
	"testing"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	bsnet "github.com/ipfs/boxo/bitswap/network"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// wireStub stands for the wire under a spreadingNetwork: it hands over the
// receiver bitswap registers and accepts every send.
type wireStub struct {
	bsnet.BitSwapNetwork
	receiver bsnet.Receiver
}

func (w *wireStub) Start(rs ...bsnet.Receiver) { w.receiver = rs[0] }

func (w *wireStub) SendMessage(context.Context, peer.ID, bsmsg.BitSwapMessage) error { return nil }

// delivery is one want as bitswap's server got it.
type delivery struct {
	from peer.ID
	cid  cid.Cid
	at   time.Time
}

// serverStub records the wants that reach bitswap.
type serverStub struct {
	bsnet.Receiver
	got chan delivery
}

func (s serverStub) ReceiveMessage(_ context.Context, p peer.ID, msg bsmsg.BitSwapMessage) {
	for _, e := range msg.Wantlist() {
		if !e.Cancel {
			s.got <- delivery{p, e.Cid, time.Now()}
		}
	}
}

func (serverStub) PeerDisconnected(peer.ID) {}

func newSpreadingStub(t *testing.T, has bool) (*spreadingNetwork, *wireStub, chan delivery) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wire := &wireStub{}
	s := newSpreadingNetwork(ctx, wire, func(context.Context, cid.Cid) (bool, error) { return has, nil })
	got := make(chan delivery, 16)
	s.Start(serverStub{got: got})
	return s, wire, got
}

func want(wire *wireStub, from peer.ID, c cid.Cid, typ pb.Message_Wantlist_WantType) {
	msg := bsmsg.New(false)
	msg.AddEntry(c, 1, typ, false)
	wire.receiver.ReceiveMessage(context.Background(), from, msg)
}

func cancelWant(wire *wireStub, from peer.ID, c cid.Cid) {
	msg := bsmsg.New(false)
	msg.Cancel(c)
	wire.receiver.ReceiveMessage(context.Background(), from, msg)
}

func nextDelivery(t *testing.T, got chan delivery, within time.Duration) delivery {
	t.Helper()
	select {
	case d := <-got:
		return d
	case <-time.After(within):
		t.Fatalf("no want reached bitswap within %v", within)
		return delivery{}
	}
}

func noDelivery(t *testing.T, got chan delivery) {
	t.Helper()
	select {
	case d := <-got:
		t.Fatalf("want for %s from %s reached bitswap, want it held", d.cid, d.from)
	default:
	}
}

func testBlock(data string) blocks.Block { return blocks.NewBlock([]byte(data)) }

// A want-have for a block given to nobody yet is answered at once; one
// for a block already promised to another peer waits until that peer has
// it, and then a little longer, so the new holder answers first.
func TestSpreadingHoldsHavesUntilACopyLands(t *testing.T) {
	s, wire, got := newSpreadingStub(t, true)
	a, c := peer.ID("puller-a"), peer.ID("puller-c")
	blk := testBlock("spread me")

	want(wire, a, blk.Cid(), pb.Message_Wantlist_Have)
	if d := nextDelivery(t, got, time.Second); d.from != a {
		t.Fatalf("first want-have delivered for %s, want for %s", d.from, a)
	}
	want(wire, a, blk.Cid(), pb.Message_Wantlist_Block)
	nextDelivery(t, got, time.Second)

	asked := time.Now()
	want(wire, c, blk.Cid(), pb.Message_Wantlist_Have)
	noDelivery(t, got)
	// A's own second ask is not held: it was given nothing by others.
	want(wire, a, blk.Cid(), pb.Message_Wantlist_Have)
	nextDelivery(t, got, time.Second)

	msg := bsmsg.New(false)
	msg.AddBlock(blk)
	if err := s.SendMessage(context.Background(), a, msg); err != nil {
		t.Fatal(err)
	}
	noDelivery(t, got)
	cancelWant(wire, a, blk.Cid()) // a has the block now
	d := nextDelivery(t, got, askerPatience+5*time.Second)
	if d.from != c || !d.cid.Equals(blk.Cid()) {
		t.Fatalf("released %s's want for %s, want %s's for %s", d.from, d.cid, c, blk.Cid())
	}
	if waited := d.at.Sub(asked); waited < askerPatience {
		t.Errorf("held want-have released after %v, want at least %v", waited, askerPatience)
	}
}

// A held want-have that its asker cancels, or replaces by asking for the
// block itself, is never handed to bitswap afterwards.
func TestSpreadingDropsHeldHavesTheAskerWithdraws(t *testing.T) {
	s, wire, got := newSpreadingStub(t, true)
	a, c, d := peer.ID("puller-a"), peer.ID("puller-c"), peer.ID("puller-d")
	blk := testBlock("withdrawn")
	want(wire, a, blk.Cid(), pb.Message_Wantlist_Block)
	nextDelivery(t, got, time.Second)

	want(wire, c, blk.Cid(), pb.Message_Wantlist_Have)
	want(wire, d, blk.Cid(), pb.Message_Wantlist_Have)
	noDelivery(t, got)
	cancelWant(wire, c, blk.Cid())
	want(wire, d, blk.Cid(), pb.Message_Wantlist_Block)
	if dl := nextDelivery(t, got, time.Second); dl.from != d {
		t.Fatalf("delivered a want from %s, want only %s's want-block", dl.from, d)
	}
	cancelWant(wire, a, blk.Cid())
	s.mu.Lock()
	held := len(s.held)
	s.mu.Unlock()
	if held != 0 {
		t.Errorf("%d want-haves still held after their askers withdrew them", held)
	}
}

// A peer that disconnected holds nothing for others: want-haves for the
// blocks it was given are answered at once.
func TestSpreadingForgetsPeersThatLeft(t *testing.T) {
	_, wire, got := newSpreadingStub(t, true)
	a, c := peer.ID("puller-a"), peer.ID("puller-c")
	blk := testBlock("taken away")
	want(wire, a, blk.Cid(), pb.Message_Wantlist_Block)
	nextDelivery(t, got, time.Second)
	wire.receiver.PeerDisconnected(a)
	want(wire, c, blk.Cid(), pb.Message_Wantlist_Have)
	if d := nextDelivery(t, got, time.Second); d.from != c {
		t.Fatalf("delivered %s's want, want %s's", d.from, c)
	}
}

// Copies given or promised long ago no longer count: their receivers
// may have collected them since.
func TestSpreadingForgetsOldGifts(t *testing.T) {
	s, wire, got := newSpreadingStub(t, true)
	a, c := peer.ID("puller-a"), peer.ID("puller-c")
	blk := testBlock("promised long ago")
	want(wire, a, blk.Cid(), pb.Message_Wantlist_Have) // answered at once: a promise
	nextDelivery(t, got, time.Second)
	s.mu.Lock()
	s.gift(string(blk.Cid().Hash())).given = time.Now().Add(-recentGift - time.Second)
	s.mu.Unlock()
	want(wire, c, blk.Cid(), pb.Message_Wantlist_Have)
	if d := nextDelivery(t, got, time.Second); d.from != c {
		t.Fatalf("delivered %s's want, want %s's", d.from, c)
	}

	// Given again today (to c, answered above), it counts again.
	want(wire, peer.ID("puller-d"), blk.Cid(), pb.Message_Wantlist_Have)
	noDelivery(t, got)
}

// A node that lacks the block holds nothing back, and a peer's want-have
// does not count as a copy given.
func TestSpreadingPassesWantsForBlocksNotHere(t *testing.T) {
	_, wire, got := newSpreadingStub(t, false)
	blk := testBlock("not here")
	for _, p := range []peer.ID{"puller-a", "puller-c"} {
		want(wire, p, blk.Cid(), pb.Message_Wantlist_Have)
		if d := nextDelivery(t, got, time.Second); d.from != p {
			t.Fatalf("delivered %s's want, want %s's", d.from, p)
		}
	}
}

// The release time follows the first copy: until it leaves, only the
// maxHaveDelay bound; once it left, copyLanded more; once its receiver
// has it, askerPatience per copy given, and never before the asker
// waited that long.
func TestSpreadingReleaseTimes(t *testing.T) {
	s := &spreadingNetwork{}
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	h := &heldHave{asked: t0, copies: 2}
	cases := []struct {
		name string
		g    gift
		want time.Time
	}{
		{"copy still here", gift{}, t0.Add(maxHaveDelay)},
		{"copy left", gift{sent: t0.Add(time.Second)}, t0.Add(time.Second + copyLanded + 2*askerPatience)},
		{"copy landed", gift{sent: t0, landed: t0.Add(3 * time.Second)}, t0.Add(3*time.Second + 2*askerPatience)},
		{"copy landed before the ask", gift{sent: t0.Add(-time.Minute), landed: t0.Add(-time.Minute)}, t0.Add(2 * askerPatience)},
	}
	for _, tc := range cases {
		if got := s.releaseAt(&tc.g, h); !got.Equal(tc.want) {
			t.Errorf("%s: released at %v, want %v", tc.name, got.Sub(t0), tc.want.Sub(t0))
		}
	}
}

// A puller connected to the seeder and to a peer that pulled the image
// before it takes the blocks from that peer: the seeder, which gave each
// block away already, answers last.
func TestPullersFetchFromEachOtherBeforeTheSeeder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seeder, first, second := loopbackNode(t, ctx), loopbackNode(t, ctx), loopbackNode(t, ctx)
	const leaves, leafSize = 32, 256 << 10
	parent, _ := putRandomDAG(t, ctx, []*Node{seeder}, leaves, leafSize)
	root := []cid.Cid{parent.Cid()}

	if err := first.Connect(ctx, []string{seeder.Addrs()[0].String()}); err != nil {
		t.Fatal(err)
	}
	if err := first.Fetch(ctx, root); err != nil {
		t.Fatal(err)
	}
	if err := second.Connect(ctx, []string{seeder.Addrs()[0].String(), first.Addrs()[0].String()}); err != nil {
		t.Fatal(err)
	}
	if err := second.Fetch(ctx, root); err != nil {
		t.Fatal(err)
	}
	wantFetchedOnce(t, ctx, second, parent.Cid(), leaves+1)
	st := second.Stats()
	if fromFirst := st.PeerBytes[first.Host.ID()]; fromFirst < st.Bytes*9/10 {
		t.Errorf("second puller fetched %d of %d bytes from the first, %d from the seeder; want at least 90%% from the first",
			fromFirst, st.Bytes, st.PeerBytes[seeder.Host.ID()])
	}
}
