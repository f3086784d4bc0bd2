package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGCWaitCanBeAbandoned: a collection waiting behind a pull (a pin lock
// holder) leaves the queue when its context ends, so pushes and pulls
// that come after it are not held back by a gc nobody waits for any more.
func TestGCWaitCanBeAbandoned(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pull := r.Blocks.PinLock(ctx)

	gcCtx, cancel := context.WithCancel(ctx)
	gcDone := make(chan error, 1)
	go func() {
		_, err := r.GC(gcCtx)
		gcDone <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !r.Blocks.GCRequested(ctx) {
		if time.Now().After(deadline) {
			t.Fatal("GC never asked for the lock")
		}
		time.Sleep(time.Millisecond) // poll interval, bounded by the deadline
	}
	cancel()
	select {
	case err := <-gcDone:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("abandoned GC returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GC still waits for the lock 10s after its context was cancelled")
	}

	// A push arriving now gets the lock although the first pull holds it.
	next := make(chan struct{})
	go func() {
		r.Blocks.PinLock(ctx).Unlock(ctx)
		close(next)
	}()
	select {
	case <-next:
	case <-time.After(10 * time.Second):
		t.Fatal("a new pin lock holder still waits behind the abandoned GC")
	}
	pull.Unlock(ctx)

	// A GC nobody abandons still runs once the holders are gone.
	if _, err := r.GC(ctx); err != nil {
		t.Fatalf("GC after the pull: %v", err)
	}
}
