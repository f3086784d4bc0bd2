package store

import (
	"context"
	"sync/atomic"

	"github.com/ipfs/boxo/blockstore"
	"golang.org/x/sync/semaphore"
)

// gcLocker is boxo's GC locker (any number of pin holders, or one
// collection) with a wait for the collection that its caller can give up.
// boxo's RWMutex cannot be left once waited on: a gc through the daemon
// whose client hung up while it waited behind a long pull stayed queued,
// and since a queued writer holds back new readers, every push and pull
// after it hung until that pull ended. A waiter here leaves the queue
// when its context ends. Waiting collections still go before pin holders
// that come after them, so a stream of pulls cannot starve gc.
type gcLocker struct {
	sem   *semaphore.Weighted
	gcReq atomic.Int32
}

// gcWeight is the whole semaphore: a collection excludes every holder.
const gcWeight = 1 << 40

func newGCLocker() *gcLocker { return &gcLocker{sem: semaphore.NewWeighted(gcWeight)} }

type unlockFunc func()

func (f unlockFunc) Unlock(context.Context) { f() }

// PinLock waits as boxo's does, whatever ctx says: its callers have no
// error to return.
func (l *gcLocker) PinLock(context.Context) blockstore.Unlocker {
	_ = l.sem.Acquire(context.Background(), 1)
	return unlockFunc(func() { l.sem.Release(1) })
}

func (l *gcLocker) GCLock(context.Context) blockstore.Unlocker {
	u, _ := l.gcLock(context.Background())
	return u
}

// gcLock waits for every pin holder to finish, or for ctx to end.
func (l *gcLocker) gcLock(ctx context.Context) (blockstore.Unlocker, error) {
	l.gcReq.Add(1)
	defer l.gcReq.Add(-1)
	if err := l.sem.Acquire(ctx, gcWeight); err != nil {
		return nil, err
	}
	return unlockFunc(func() { l.sem.Release(gcWeight) }), nil
}

func (l *gcLocker) GCRequested(context.Context) bool { return l.gcReq.Load() > 0 }
