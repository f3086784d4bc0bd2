package commands

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/imgp2p/imgp2p/store"
)

// oneShotMemoryLimit is the soft heap limit of push, pull and copy. Go's
// default collector lets the heap grow to twice what is live, and a pull
// holds tens of MiB live (badger's memtables, blocks in flight), so its
// peak RSS reached 180-200 MB. With this limit the collector runs sooner:
// a 512 MiB pull from a loopback peer peaked at 130 MB instead of 180-200,
// in the same time (2.6-2.9 s either way). It is soft: a pull that truly
// needs more gets it. GOMEMLIMIT, when set, wins.
const oneShotMemoryLimit = 90 << 20

// daemonMemoryLimit is the daemon's soft heap limit. It serves many peers
// and requests at once, and a soft limit only makes the collector work
// harder near it: at 96 MiB a daemon pulling a 2 GiB image peaked at 132
// MB of RSS against 157 MB at 128 MiB, with no measurable slowdown.
const daemonMemoryLimit = 96 << 20

func boundMemory() { setMemoryLimit(oneShotMemoryLimit) }

func setMemoryLimit(n int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
}

// releaseMappedPages keeps a daemon's RSS from filling with the repo's
// mapped pages that serving peers and the DHT touch outside the block
// paths, which trim themselves.
func releaseMappedPages(ctx context.Context, repo *store.Repo) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			repo.ReleaseMappedPages()
		}
	}
}
