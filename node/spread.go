package node

import (
	"context"
	"slices"
	"sync"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	bsnet "github.com/ipfs/boxo/bitswap/network"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// copyLanded is how long after a block leaves here its receiver
	// surely holds it, when its cancel does not say so sooner: socket
	// buffers and a 400 ms link queue on a busy uplink hold seconds.
	copyLanded = 4 * time.Second
	// askerPatience is how long a holder has to answer first, per copy
	// given: its HAVE may queue behind the blocks it is sending.
	askerPatience = time.Second
	// maxGiftsCounted caps how much each extra copy given delays a HAVE.
	maxGiftsCounted = 4
	// maxHaveDelay bounds the wait while the first copy has not left: it
	// may queue here for many seconds behind others, but its asker may
	// also have gone.
	maxHaveDelay = 30 * time.Second
	// recentGift is how long a copy given or promised counts, from the
	// first ask: a peer that got a block yesterday may have collected it
	// since, and one promised it may have taken it from someone else.
	recentGift = 2 * time.Minute
	// maxHeld bounds the want-haves held at once, whatever peers send.
	maxHeld = 8192
	// giftWindow bounds the blocks remembered per generation, as in tally.
	giftWindow = 16384
)

// spreadingNetwork makes a node that has already given a block away slow
// to tell others it has it, so peers pulling the same image fetch from the
// peer that got the copy instead of all from the seeder.
//
// imgp2p pulling from several peers asks them all whether they have a
// block (a want-have) and fetches it from the first that says yes.
// Bitswap's server answers at once, so the seeder, which has every block
// before anyone else, wins those races and its uplink carries the image
// many times over. Here a want-have for a block already asked of us by
// another peer is held back until that copy has left and landed, plus a
// little more for each further copy, so a holder answers first. Nothing
// is refused (a DONT_HAVE is not asked again for 30 s): if no holder
// answers, the late HAVE still comes and the block is served as before.
type spreadingNetwork struct {
	bsnet.BitSwapNetwork
	ctx context.Context

	has func(context.Context, cid.Cid) (bool, error)

	mu sync.Mutex
	// gifts maps a block's multihash to who asked us for it, in two
	// generations: when current fills, it becomes previous.
	gifts, previous map[string]*gift
	// held are the want-haves not yet handed to bitswap, by askedKey.
	held map[string]*heldHave
}

// gift is what this node gave of one block.
type gift struct {
	to    []peer.ID // peers that asked for the block itself
	given time.Time // when the first of them asked
	sent  time.Time // when the first copy left; zero until then
	// landed is when a peer given the block cancelled its want: it holds
	// the block from then on. Zero until then.
	landed time.Time
}

type heldHave struct {
	mh       string
	asked    time.Time
	copies   int // given to others when asked
	timer    *time.Timer
	priority int32
	dontHave bool
}

func newSpreadingNetwork(ctx context.Context, inner bsnet.BitSwapNetwork, has func(context.Context, cid.Cid) (bool, error)) *spreadingNetwork {
	return &spreadingNetwork{
		BitSwapNetwork: inner,
		ctx:            ctx,
		has:            has,
		gifts:          map[string]*gift{},
		held:           map[string]*heldHave{},
	}
}

func (s *spreadingNetwork) Start(receivers ...bsnet.Receiver) {
	wrapped := make([]bsnet.Receiver, len(receivers))
	for i, r := range receivers {
		wrapped[i] = spreadingReceiver{Receiver: r, net: s}
	}
	s.BitSwapNetwork.Start(wrapped...)
}

func (s *spreadingNetwork) SendMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	err := s.BitSwapNetwork.SendMessage(ctx, p, msg)
	if err == nil && len(msg.Blocks()) > 0 {
		s.sent(msg)
	}
	return err
}

// sent notes the first copy of each block in msg leaving, and reschedules
// the HAVEs that waited for it.
func (s *spreadingNetwork) sent(msg bsmsg.BitSwapMessage) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range msg.Blocks() {
		mh := string(b.Cid().Hash())
		g := s.gift(mh)
		if g == nil || !g.sent.IsZero() {
			continue
		}
		g.sent = now
		s.reschedule(g, mh)
	}
}

func (s *spreadingNetwork) gift(mh string) *gift {
	if g, ok := s.gifts[mh]; ok {
		return g
	}
	return s.previous[mh]
}

// copiesFor counts the copies given recently to peers other than p.
func (s *spreadingNetwork) copiesFor(p peer.ID, g *gift) int {
	if g == nil || time.Since(g.given) > recentGift {
		return 0
	}
	n := 0
	for _, q := range g.to {
		if q != p {
			n++
		}
	}
	return min(n, maxGiftsCounted)
}

func (s *spreadingNetwork) give(p peer.ID, mh string) {
	g := s.gift(mh)
	if g == nil || time.Since(g.given) > recentGift {
		// A block given long ago is given anew: today's copies count.
		if len(s.gifts) >= giftWindow {
			s.previous, s.gifts = s.gifts, make(map[string]*gift, giftWindow)
		}
		g = &gift{given: time.Now()}
		s.gifts[mh] = g
	}
	for _, q := range g.to {
		if q == p {
			return
		}
	}
	g.to = append(g.to, p)
}

// landed notes p cancelling its want for a block we gave it: p has the
// block now (or gave up on it), and will answer want-haves for it.
func (s *spreadingNetwork) landed(p peer.ID, mh string, now time.Time) {
	g := s.gift(mh)
	if g == nil || !g.landed.IsZero() || !slices.Contains(g.to, p) {
		return
	}
	g.landed = now
	s.reschedule(g, mh)
}

func (s *spreadingNetwork) reschedule(g *gift, mh string) {
	for _, h := range s.held {
		if h.mh == mh {
			h.timer.Reset(time.Until(s.releaseAt(g, h)))
		}
	}
}

// releaseAt is when a held want-have goes to bitswap: a little after the
// first copy has landed, more for each copy given, or once maxHaveDelay
// has passed with the first copy still here.
func (s *spreadingNetwork) releaseAt(g *gift, h *heldHave) time.Time {
	patience := time.Duration(h.copies) * askerPatience
	var at time.Time
	switch {
	case !g.landed.IsZero():
		at = g.landed.Add(patience)
	case !g.sent.IsZero():
		at = g.sent.Add(copyLanded + patience)
	default:
		return h.asked.Add(maxHaveDelay)
	}
	return later(at, h.asked.Add(patience))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sift takes out of msg the want-haves to answer later and holds them;
// the rest of msg goes to bitswap now.
func (s *spreadingNetwork) sift(p peer.ID, msg bsmsg.BitSwapMessage, deliver func(bsmsg.BitSwapMessage)) {
	wants := msg.Wantlist()
	if len(wants) == 0 {
		return
	}
	// Looked up before locking: the blockstore is slower than the maps.
	here := make([]bool, len(wants))
	for i, e := range wants {
		if !e.Cancel {
			here[i], _ = s.has(s.ctx, e.Cid)
		}
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range wants {
		mh := string(e.Cid.Hash())
		k := askedKey(p, e.Cid.Hash())
		if h, ok := s.held[k]; ok {
			if e.WantType == pb.Message_Wantlist_Have && !e.Cancel {
				// Asked again (a rebroadcast): the first ask's wait stands.
				msg.Remove(e.Cid)
				continue
			}
			h.timer.Stop()
			delete(s.held, k)
		}
		if e.Cancel {
			s.landed(p, mh, now)
			continue
		}
		if !here[i] {
			continue
		}
		if e.WantType == pb.Message_Wantlist_Block {
			s.give(p, mh)
			continue
		}
		g := s.gift(mh)
		copies := s.copiesFor(p, g)
		if copies == 0 || len(s.held) >= maxHeld {
			// Answered at once, so p will most likely ask for the block
			// itself: later askers wait for this copy as for one given.
			s.give(p, mh)
			continue
		}
		msg.Remove(e.Cid)
		h := &heldHave{mh: mh, asked: now, copies: copies, priority: e.Priority, dontHave: e.SendDontHave}
		c := e.Cid
		h.timer = time.AfterFunc(time.Until(s.releaseAt(g, h)), func() {
			if s.release(k, h) {
				want := bsmsg.New(false)
				want.AddEntry(c, h.priority, pb.Message_Wantlist_Have, h.dontHave)
				deliver(want)
			}
		})
		s.held[k] = h
	}
}

// release reports whether h is still held, and lets go of it.
func (s *spreadingNetwork) release(k string, h *heldHave) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[k] != h || s.ctx.Err() != nil {
		return false
	}
	delete(s.held, k)
	return true
}

type spreadingReceiver struct {
	bsnet.Receiver
	net *spreadingNetwork
}

// PeerDisconnected forgets what p was given: gone, it holds nothing for
// others (a one-shot pull that finished, say), so later askers need not
// wait for it.
func (r spreadingReceiver) PeerDisconnected(p peer.ID) {
	r.net.forget(p)
	r.Receiver.PeerDisconnected(p)
}

func (s *spreadingNetwork) forget(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, gen := range []map[string]*gift{s.gifts, s.previous} {
		for _, g := range gen {
			g.to = slices.DeleteFunc(g.to, func(q peer.ID) bool { return q == p })
		}
	}
}

func (r spreadingReceiver) ReceiveMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) {
	r.net.sift(p, msg, func(want bsmsg.BitSwapMessage) {
		r.Receiver.ReceiveMessage(r.net.ctx, p, want)
	})
	r.Receiver.ReceiveMessage(ctx, p, msg)
}
