package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/imgp2p/imgp2p/node"
)

// resolveWatch runs while a pull looks for an image: it searches the DHT
// for providers (dialing them) and tells the user, every few seconds, what
// it sees, so a pull that waits never waits in silence.
type resolveWatch struct {
	providers atomic.Int64
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

const waitReportInterval = 2 * time.Second

func watchResolve(ctx context.Context, n *node.Node, root cid.Cid, logf func(string, ...any)) *resolveWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &resolveWatch{cancel: cancel}
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		for range n.FindProviders(ctx, root) {
			w.providers.Add(1)
		}
	}()
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(waitReportInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				logf("waiting for %s: %s, %d providers found", root, peerCounts(n), w.providers.Load())
			}
		}
	}()
	return w
}

func (w *resolveWatch) stop() {
	w.cancel()
	w.wg.Wait()
}

// peerCounts says how many peers are connected and how they were found.
func peerCounts(n *node.Node) string {
	by := map[string]int{}
	peers := n.Peers()
	for _, p := range peers {
		by[p.Source]++
	}
	if len(peers) == 0 {
		return "no peers connected"
	}
	var parts []string
	for src, k := range by {
		parts = append(parts, fmt.Sprintf("%s %d", src, k))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d peers connected (%s)", len(peers), strings.Join(parts, ", "))
}
