// Command liar is a hostile bitswap peer for imgp2p's e2e tests: it claims
// to have every block anyone asks for and answers each want with bytes that
// are not the block's. boxo's bitswap server sends what the blockstore
// returns as it is, so the wrong bytes really go out under the wanted CID's
// prefix; the receiver must reject them.
//
//	liar [-listen /ip4/127.0.0.1/tcp/0]
//
// It prints one line on stdout once it listens, its dialable multiaddr
// (…/p2p/ID), and on stderr one line per message carrying blocks, then
// totals when it gets SIGINT or SIGTERM:
//
//	liar: sent 3 blocks (768 KiB) to 12D3KooW…
//	liar: total: 41 wants answered, 41 blocks (10 MiB) sent
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/ipfs/boxo/bitswap"
	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// garbageSize is the length of every lie: a whole 1 MiB chunk would only
// make the tests slower, and any length but the true one (or the true
// length with other bytes) must be refused the same way.
const garbageSize = 256 << 10

func main() {
	listen := flag.String("listen", "/ip4/127.0.0.1/tcp/0", "libp2p listen `MULTIADDR`")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("liar: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	h, err := libp2p.New(libp2p.ListenAddrStrings(*listen))
	if err != nil {
		log.Fatalf("starting libp2p host: %v", err)
	}
	defer h.Close()

	var st stats
	bs := bitswap.New(ctx, bsnet.NewFromIpfsHost(h), nil, &lyingBlockstore{st: &st},
		bitswap.WithTracer(&st),
	)
	defer bs.Close()

	addrs := h.Addrs()
	if len(addrs) == 0 {
		log.Fatal("host has no listen address")
	}
	fmt.Printf("%s/p2p/%s\n", addrs[0], h.ID())
	os.Stdout.Sync()

	<-ctx.Done()
	log.Printf("total: %d wants answered, %d blocks (%d bytes) sent", st.wants.Load(), st.blocks.Load(), st.bytes.Load())
}

// lyingBlockstore has every block, and every block is garbage: the bytes
// depend on the CID (so a lie is repeatable) but never hash to it.
type lyingBlockstore struct{ st *stats }

func garbage(c cid.Cid) []byte {
	seed := sha256.Sum256(append([]byte("imgp2p liar: not the bytes of "), c.Bytes()...))
	out := make([]byte, garbageSize)
	for i := 0; i < len(out); i += len(seed) {
		seed = sha256.Sum256(seed[:])
		copy(out[i:], seed[:])
	}
	return out
}

func (l *lyingBlockstore) Has(context.Context, cid.Cid) (bool, error) { return true, nil }

func (l *lyingBlockstore) GetSize(context.Context, cid.Cid) (int, error) { return garbageSize, nil }

func (l *lyingBlockstore) Get(_ context.Context, c cid.Cid) (blocks.Block, error) {
	l.st.wants.Add(1)
	// NewBlockWithCid does not check the bytes against the CID: that is
	// the lie.
	return blocks.NewBlockWithCid(garbage(c), c)
}

func (l *lyingBlockstore) Put(context.Context, blocks.Block) error       { return nil }
func (l *lyingBlockstore) PutMany(context.Context, []blocks.Block) error { return nil }
func (l *lyingBlockstore) DeleteBlock(context.Context, cid.Cid) error    { return nil }

func (l *lyingBlockstore) AllKeysChan(context.Context) (<-chan cid.Cid, error) {
	ch := make(chan cid.Cid)
	close(ch)
	return ch, nil
}

// stats counts what the liar sent; it is bitswap's tracer.
type stats struct {
	wants, blocks, bytes atomic.Int64
}

func (s *stats) MessageReceived(peer.ID, bsmsg.BitSwapMessage) {}

func (s *stats) MessageSent(p peer.ID, msg bsmsg.BitSwapMessage) {
	blks := msg.Blocks()
	if len(blks) == 0 {
		return
	}
	var n int
	for _, b := range blks {
		n += len(b.RawData())
	}
	s.blocks.Add(int64(len(blks)))
	s.bytes.Add(int64(n))
	log.Printf("sent %d blocks (%d bytes) to %s", len(blks), n, p)
}
