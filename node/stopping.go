package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/exchange"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// ErrStopping is why a fetch fails when the node closes under it.
var ErrStopping = errors.New("the node is shutting down (was its daemon stopped?): run the command again")

// stoppingExchange names the cause when a block cannot arrive because the
// node is closing. Bitswap, stopped with the node's context, fails every
// block still wanted with "promise channel was closed", which is all a
// user whose daemon got SIGTERM in the middle of their pull would read.
type stoppingExchange struct {
	exchange.SessionExchange
	node context.Context
}

func (e stoppingExchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := e.SessionExchange.GetBlock(ctx, c)
	return b, explainStop(ctx, e.node, c, err)
}

func (e stoppingExchange) NewSession(ctx context.Context) exchange.Fetcher {
	return stoppingFetcher{Fetcher: e.SessionExchange.NewSession(ctx), node: e.node}
}

type stoppingFetcher struct {
	exchange.Fetcher
	node context.Context
}

func (f stoppingFetcher) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := f.Fetcher.GetBlock(ctx, c)
	return b, explainStop(ctx, f.node, c, err)
}

// explainStop replaces err with ErrStopping when the node, not the caller,
// ended the wait.
func explainStop(caller, node context.Context, c cid.Cid, err error) error {
	if err == nil || caller.Err() != nil || node.Err() == nil {
		return err
	}
	return fmt.Errorf("fetching %s: %w", c, ErrStopping)
}
