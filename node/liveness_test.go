package node

import (
	"bytes"
	"context"
	"testing"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Only peers that owe blocks and have been silent for the quiet time are
// pinged, each once at a time; bytes from a peer, or the last block it
// owed arriving, take it off the list.
func TestLivenessDue(t *testing.T) {
	l := newLiveness(context.Background(), nil)
	l.quiet = time.Minute
	owing, paid, idle := peer.ID("owing"), peer.ID("paid"), peer.ID("idle")
	l.owe(owing, "a")
	l.owe(owing, "b")
	l.owe(paid, "c")
	l.forgive(paid, "c")
	l.forgive(owing, "a") // still owes b
	h := hearing{l}
	h.LogRecvMessageStream(100, "", idle) // owes nothing: not watched

	later := time.Now().Add(2 * time.Minute)
	if got := l.due(time.Now()); len(got) != 0 {
		t.Errorf("due before the quiet time: %v", got)
	}
	if got := l.due(later); len(got) != 1 || got[0] != owing {
		t.Errorf("due after the quiet time: %v, want [%s]", got, owing)
	}
	if got := l.due(later); len(got) != 0 {
		t.Errorf("due again while being probed: %v", got)
	}
	delete(l.probing, owing)

	// A failed read (a ping reset by its timeout) is no answer.
	start := time.Now()
	v, _ := l.heard.Load(owing)
	v.(*owingPeer).heard.Store(start.Add(-time.Hour).UnixNano())
	h.LogRecvMessageStream(0, "", owing)
	if !l.silentSince(owing, start) {
		t.Errorf("a read of 0 bytes counted as hearing from the peer")
	}
	h.LogRecvMessageStream(1, "", owing)
	if got := l.due(time.Now().Add(l.quiet / 2)); len(got) != 0 {
		t.Errorf("due right after the peer sent bytes: %v", got)
	}
	l.gone(owing)
	if got := l.due(later); len(got) != 0 {
		t.Errorf("due after disconnecting: %v", got)
	}
}

// A peer that disconnected owes nothing, even if a want reached it after
// bitswap said it was gone: it is forgotten, not pinged.
func TestLivenessForgetsPeersNoLongerConnected(t *testing.T) {
	l := newLiveness(context.Background(), nil)
	l.quiet = time.Minute
	ghost, here := peer.ID("ghost"), peer.ID("here")
	l.connected = func(p peer.ID) bool { return p != ghost }
	l.owe(ghost, "a")
	l.owe(here, "b")
	later := time.Now().Add(2 * time.Minute)
	if got := l.due(later); len(got) != 1 || got[0] != here {
		t.Fatalf("due: %v, want only [%s]", got, here)
	}
	if _, ok := l.owed[ghost]; ok || l.probing[ghost] {
		t.Fatalf("a disconnected peer is still watched (owed %v, probing %v)", l.owed[ghost], l.probing[ghost])
	}
}

// Bitswap bytes from a peer that owes blocks count as incoming as they
// are read, before any block is whole; other protocols' bytes, and a peer
// owing nothing, do not.
func TestLivenessCountsIncomingBlockBytes(t *testing.T) {
	l := newLiveness(context.Background(), nil)
	owing, idle := peer.ID("owing"), peer.ID("idle")
	l.owe(owing, "a")
	h := hearing{l}
	h.LogRecvMessageStream(1000, "/ipfs/bitswap/1.2.0", owing)
	h.LogRecvMessageStream(50, "/ipfs/lan/kad/1.0.0", owing)
	h.LogRecvMessageStream(70, "/ipfs/bitswap/1.2.0", idle)
	if got := l.incoming.Load(); got != 1000 {
		t.Errorf("incoming %d bytes, want the owing peer's 1000 bitswap bytes", got)
	}
}

// A message that carries no block is no block in transit: a peer that owes
// blocks and keeps sending its own wants must look as stalled as a silent
// one, or a pull waits 4× --timeout before it redials.
func TestLivenessTakesBackMessagesWithoutBlocks(t *testing.T) {
	l := newLiveness(context.Background(), nil)
	owing := peer.ID("owing")
	l.owe(owing, "a")
	r := owingReceiver{Receiver: nopReceiver{}, l: l}
	h := hearing{l}

	wants := bsmsg.New(false)
	for i := range 20 {
		wants.AddEntry(blocks.NewBlock([]byte{byte(i)}).Cid(), 1, pb.Message_Wantlist_Have, true)
	}
	wants.AddHave(blocks.NewBlock([]byte("have")).Cid())
	var wire bytes.Buffer
	if err := wants.ToNetV1(&wire); err != nil {
		t.Fatal(err)
	}
	h.LogRecvMessageStream(int64(wire.Len()), "/ipfs/bitswap/1.2.0", owing)
	r.ReceiveMessage(context.Background(), owing, wants)
	if got := l.incoming.Load(); got > 0 {
		t.Errorf("after a %d-byte message of wants and HAVEs, incoming is %d bytes, want none", wire.Len(), got)
	}

	// Wants read before the peer owed anything were never counted: taking
	// them back would leave incoming tens of KB short, hiding as many
	// bytes of the next block.
	stranger := peer.ID("stranger")
	wire.Reset()
	if err := wants.ToNetV1(&wire); err != nil {
		t.Fatal(err)
	}
	h.LogRecvMessageStream(int64(wire.Len()), "/ipfs/bitswap/1.2.0", stranger)
	l.owe(stranger, "x")
	before := l.incoming.Load()
	r.ReceiveMessage(context.Background(), stranger, wants)
	if got := l.incoming.Load(); got != before {
		t.Errorf("a message read before its peer owed took %d bytes back from incoming", before-got)
	}

	before = l.incoming.Load()
	withBlock := bsmsg.New(false)
	withBlock.AddBlock(blocks.NewBlock(make([]byte, 1000)))
	wire.Reset()
	if err := withBlock.ToNetV1(&wire); err != nil {
		t.Fatal(err)
	}
	h.LogRecvMessageStream(int64(wire.Len()), "/ipfs/bitswap/1.2.0", owing)
	r.ReceiveMessage(context.Background(), owing, withBlock)
	if got := l.incoming.Load() - before; got < 1000 {
		t.Errorf("a message with a 1000-byte block added %d bytes to incoming", got)
	}
}

type nopReceiver struct{}

func (nopReceiver) ReceiveMessage(context.Context, peer.ID, bsmsg.BitSwapMessage) {}
func (nopReceiver) ReceiveError(error)                                            {}
func (nopReceiver) PeerConnected(peer.ID)                                         {}
func (nopReceiver) PeerDisconnected(peer.ID)                                      {}
