package node

import (
	"context"
	"sync"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsnet "github.com/ipfs/boxo/bitswap/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// askedWindow bounds the wants remembered per generation. A want is kept
// for at least this many later wants, far longer than any honest peer
// takes to answer.
const askedWindow = 1 << 16

// honestNetwork sits between bitswap and the wire and drops peers that
// send blocks they were never asked for. Bitswap computes a received
// block's CID from its bytes, so a peer answering a want with wrong bytes
// delivers a block nobody asked for; bitswap would quietly ignore it and
// keep waiting on that peer, stalling the pull. Here the peer is banned
// and disconnected at once, and its session asks the others.
type honestNetwork struct {
	bsnet.BitSwapNetwork
	onLiar func(peer.ID)

	mu sync.Mutex
	// asked holds peer+multihash keys of wants sent, in two generations.
	asked, previous map[string]struct{}
}

func newHonestNetwork(inner bsnet.BitSwapNetwork, onLiar func(peer.ID)) *honestNetwork {
	return &honestNetwork{BitSwapNetwork: inner, onLiar: onLiar, asked: map[string]struct{}{}}
}

func askedKey(p peer.ID, mh []byte) string { return string(p) + string(mh) }

// recordWants notes what msg asks of p, before it is on the wire, so no
// answer can overtake it.
func (h *honestNetwork) recordWants(p peer.ID, msg bsmsg.BitSwapMessage) {
	wants := msg.Wantlist()
	if len(wants) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range wants {
		if e.Cancel {
			continue
		}
		if len(h.asked) >= askedWindow {
			h.previous, h.asked = h.asked, make(map[string]struct{}, askedWindow)
		}
		h.asked[askedKey(p, e.Cid.Hash())] = struct{}{}
	}
}

// honest reports whether every block in msg answers a want sent to p.
func (h *honestNetwork) honest(p peer.ID, msg bsmsg.BitSwapMessage) bool {
	blks := msg.Blocks()
	if len(blks) == 0 {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range blks {
		k := askedKey(p, b.Cid().Hash())
		_, now := h.asked[k]
		_, before := h.previous[k]
		if !now && !before {
			return false
		}
	}
	return true
}

func (h *honestNetwork) SendMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	h.recordWants(p, msg)
	return h.BitSwapNetwork.SendMessage(ctx, p, msg)
}

func (h *honestNetwork) NewMessageSender(ctx context.Context, p peer.ID, opts *bsnet.MessageSenderOpts) (bsnet.MessageSender, error) {
	s, err := h.BitSwapNetwork.NewMessageSender(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	return recordingSender{MessageSender: s, peer: p, net: h}, nil
}

func (h *honestNetwork) Start(receivers ...bsnet.Receiver) {
	wrapped := make([]bsnet.Receiver, len(receivers))
	for i, r := range receivers {
		wrapped[i] = honestReceiver{Receiver: r, net: h}
	}
	h.BitSwapNetwork.Start(wrapped...)
}

type recordingSender struct {
	bsnet.MessageSender
	peer peer.ID
	net  *honestNetwork
}

func (s recordingSender) SendMsg(ctx context.Context, msg bsmsg.BitSwapMessage) error {
	s.net.recordWants(s.peer, msg)
	return s.MessageSender.SendMsg(ctx, msg)
}

type honestReceiver struct {
	bsnet.Receiver
	net *honestNetwork
}

// ReceiveMessage drops a lying peer's whole message: a peer that sends one
// wrong block is not trusted for its HAVEs either.
func (r honestReceiver) ReceiveMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) {
	if !r.net.honest(p, msg) {
		r.net.onLiar(p)
		return
	}
	r.Receiver.ReceiveMessage(ctx, p, msg)
}
