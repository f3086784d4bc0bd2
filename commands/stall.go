package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/imgp2p/imgp2p/node"
)

// stallWatch ends a pull that has stopped moving: no block arrived from
// any peer, no peer that owes blocks sent a bitswap byte (a block in
// transit), and nothing was written for the whole --timeout. Before giving
// up it redials the peers, now and then: bitswap can lose track of a want
// (seen after garbage collection removed blocks a peer had sent before),
// and a fresh connection restarts the exchange. Time spent
// blocked in a write does not count; a slow reader (docker load) is not a
// stall.
type stallWatch struct {
	w       io.Writer
	written atomic.Int64
	writing atomic.Bool
}

func (s *stallWatch) Write(p []byte) (int, error) {
	s.writing.Store(true)
	defer s.writing.Store(false)
	n, err := s.w.Write(p)
	s.written.Add(int64(n))
	return n, err
}

// partialLimit bounds, in --timeouts, how long bytes of blocks that never
// become whole count as progress.
const partialLimit = 4

// transitFloor is how many bytes of blocks in transit make progress. Each
// redial opens a new bitswap stream, and the peer's echo of its protocol
// negotiation (41 bytes) was counted as bitswap bytes: new highs of 25
// bytes, one per redial, kept a pull from a peer that had nothing more to
// send redialing for 4× --timeout instead of ending at --timeout (three
// runs in eighteen of TestLANPartialHolder). The node cannot leave those
// bytes out where it counts them: libp2p's bandwidth reporter does not say
// which side opened a stream. 4 KiB is the residue of a hundred redials,
// and what a 2 Mbit/s link brings in 16 ms.
const transitFloor = 4 << 10

// errStalled is what a stall watch cancels the transfer with.
var errStalled = errors.New("stalled")

// stallNode is what watchStalls needs of the node fetching the blocks.
type stallNode interface {
	Stats() node.Stats
	ConnectedPeers() []peer.ID
	Redial(ctx context.Context)
}

// watchStalls returns a writer to write the pull through and a context
// that is cancelled, with an error saying why, once the pull stalls for
// limit. stop ends the watch.
func watchStalls(ctx context.Context, w io.Writer, n stallNode, limit time.Duration, logf func(string, ...any)) (io.Writer, context.Context, func()) {
	s := &stallWatch{w: w}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		every := min(time.Second, limit/4)
		tick := time.NewTicker(every)
		defer tick.Stop()
		lastWritten, lastInTransit, since := int64(-1), int64(-1), time.Now()
		lastBlocks, blockSince := int64(-1), time.Now()
		redialEvery := min(max(limit/4, 2*time.Second), 15*time.Second)
		nextRedial := redialEvery
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				// Blocks still arriving count: on a slow link a block,
				// sent beside the others asked of the same peer, takes
				// longer than the wait for a redial to be whole, and each
				// redial threw away every block in flight (over 2 Mbit/s
				// with --timeout 20s, a 4 MiB image never came).
				// Incoming dips when the node takes back a message that
				// held no block, counted as it was read: only a new
				// high is progress, and only once it adds up to
				// transitFloor: bytes that are no block leave a residue.
				st := n.Stats()
				written, inTransit := s.written.Load(), st.Bytes+st.Incoming
				blockMoved := written != lastWritten || st.Bytes != lastBlocks || s.writing.Load()
				if blockMoved {
					lastBlocks, blockSince = st.Bytes, now
				}
				// But only for so long: a peer that trickles bytes and
				// never finishes a block would otherwise hold the pull
				// for ever. At 2 Mbit/s, 8 MiB sent side by side take
				// 34 s to finish their first block.
				if starved := now.Sub(blockSince).Round(every); starved >= partialLimit*limit {
					cancel(fmt.Errorf("%w: bytes kept coming from %d connected peer(s) but no whole block for %s (%d× --timeout)", errStalled, len(n.ConnectedPeers()), starved, partialLimit))
					return
				}
				if blockMoved || inTransit >= lastInTransit+transitFloor {
					lastWritten, lastInTransit, since = written, max(lastInTransit, inTransit), now
					nextRedial = redialEvery
					continue
				}
				// Whole ticks since the last block: since and now are both
				// tick times, so the wall time between them is a multiple
				// of the tick give or take the ticker's jitter. At
				// --timeout's own tick that jitter decided, about half the
				// time, that a hair was left: the pull then redialed with
				// no time to dial back, dropping the peers it had, and
				// ended a tick late saying "0 connected peer(s)".
				idle := now.Sub(since).Round(every)
				if idle >= limit {
					cancel(fmt.Errorf("%w: no block arrived from any of %d connected peer(s) for %s (--timeout)", errStalled, len(n.ConnectedPeers()), limit))
					return
				}
				if idle >= nextRedial {
					logf("no data for %s: reconnecting to peers", idle.Round(time.Second))
					// Bounded by the time left: dialing a peer that
					// accepts and then hangs waits out libp2p's 5 s
					// handshake limit, which ran --timeout 3s to 8 s.
					rctx, rcancel := context.WithTimeout(ctx, limit-idle)
					n.Redial(rctx)
					rcancel()
					nextRedial += redialEvery
				}
			}
		}
	}()
	return s, ctx, func() { close(done); cancel(nil) }
}
