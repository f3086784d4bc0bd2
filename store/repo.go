// Package store is imgp2p's repo on disk: the badger datastore, the packs
// that hold image chunks beside it, the blockstore over both, pins, the
// image list, the node identity, the config file and the lock that gives
// one process ownership. It knows nothing of the network.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	ds "github.com/ipfs/go-datastore"
	badgerds "github.com/ipfs/go-ds-badger4"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// EnvPath names the environment variable that selects the repo.
const EnvPath = "IMGP2P_PATH"

// DefaultPath is $IMGP2P_PATH, else ~/.imgp2p.
func DefaultPath() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".imgp2p"
	}
	return filepath.Join(home, ".imgp2p")
}

// OpenWaiting is Open for a long-running owner: while another process
// holds the repo (a one-shot command finishing, say) it retries until wait
// has passed, then fails as Open does.
func OpenWaiting(ctx context.Context, path string, wait time.Duration) (*Repo, error) {
	deadline := time.Now().Add(wait)
	for {
		r, err := Open(ctx, path)
		var locked *LockedError
		if err == nil || !errors.As(err, &locked) || time.Now().After(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Repo is an open, exclusively owned repo.
type Repo struct {
	Path     string
	Config   Config
	Identity crypto.PrivKey

	Datastore *badgerds.Datastore
	// Blocks is the GC-aware blockstore; hold Blocks.PinLock around any
	// import that ends in a pin so a collection cannot run in between.
	Blocks blockstore.GCBlockstore
	Pins   pin.Pinner
	Images *Images
	// Verified lists blob files already found to match their digests.
	Verified *VerifiedBlobs

	lock   *repoLock
	packs  *packBlocks
	ahead  *valueLogAhead
	gcLock *gcLocker
}

// Open creates the repo at path if needed and takes ownership of it. If
// another process owns it, the error is a *LockedError.
func Open(ctx context.Context, path string) (*Repo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := checkNotForeign(abs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create repo %s: %w", abs, err)
	}
	// With no lock file yet no daemon runs on the repo, so another
	// user's directory is refused before the lock file is made: root's
	// 0600 lock file in a directory its owner made (mkdir, swarm.key)
	// would stop the repo opening for the owner.
	if _, err := os.Lstat(filepath.Join(abs, lockFile)); errors.Is(err, fs.ErrNotExist) {
		if err := checkOwner(abs); err != nil {
			return nil, err
		}
	}
	lock, err := acquireLock(abs)
	if err != nil {
		return nil, err
	}
	// Checked once the lock is ours: a repo owned by a running daemon
	// is used through its socket instead, which root may do.
	if err := checkOwner(abs); err != nil {
		lock.release()
		return nil, err
	}
	// A repo is made owner-only, also in a directory made for it
	// beforehand (mkdir -p, then a swarm.key put in it, at the umask's
	// 0755): the API socket, the identity and the blocks rely on it.
	if _, err := os.Lstat(filepath.Join(abs, identityFile)); errors.Is(err, fs.ErrNotExist) {
		if err := os.Chmod(abs, 0o700); err != nil {
			lock.release()
			return nil, fmt.Errorf("create repo %s: %w", abs, err)
		}
	}
	if err := checkVersion(abs); err != nil {
		lock.release()
		return nil, err
	}
	r := &Repo{Path: abs, lock: lock}
	if err := r.open(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Repo) open(ctx context.Context) (err error) {
	if r.Identity, err = loadOrCreateIdentity(r.Path); err != nil {
		return err
	}
	if r.Config, err = loadOrCreateConfig(r.Path); err != nil {
		return err
	}
	dsDir := filepath.Join(r.Path, "datastore")
	if err := checkOpenSpace(r.Path); err != nil {
		return err
	}
	if err := removeEmptyValueLogs(dsDir); err != nil {
		return fmt.Errorf("open datastore in %s: %w", r.Path, err)
	}
	if err := checkTables(dsDir); err != nil {
		return err
	}
	r.Datastore, err = badgerds.NewDatastore(dsDir, badgerOptions())
	if err != nil {
		return fmt.Errorf("open datastore in %s: %w", r.Path, firstLineError{err})
	}
	r.ahead = &valueLogAhead{dir: dsDir, fileSize: r.Datastore.DB.Opts().ValueLogFileSize}
	if r.packs, err = openPackBlocks(ctx, r.Path, r.Datastore); err != nil {
		return err
	}
	var bs blockstore.Blockstore = &splitBlockstore{
		small: &trimmingBlockstore{
			Blockstore: blockstore.NewBlockstore(r.Datastore),
			dir:        dsDir,
			ahead:      r.ahead,
		},
		packs: r.packs,
	}
	bs = &spaceGuardBlockstore{Blockstore: bs, dir: dsDir}
	r.gcLock = newGCLocker()
	r.Blocks = blockstore.NewGCBlockstore(damageCheckingBlockstore{bs}, r.gcLock)
	r.Pins, err = dspinner.New(ctx, r.Datastore, r.OfflineDAG())
	if err != nil {
		return fmt.Errorf("load pins: %w", err)
	}
	r.Images = &Images{ds: r.Datastore}
	r.Verified = &VerifiedBlobs{ds: r.Datastore}
	// Opening reads through badger's mapped files (tables, the value log's
	// head); none of that needs to stay counted as ours.
	r.ReleaseMappedPages()
	return nil
}

// OfflineDAG is a DAG service over the local blockstore only: a missing
// block is an error, never a network fetch.
func (r *Repo) OfflineDAG() ipld.DAGService {
	return merkledag.NewDAGService(blockservice.New(r.Blocks, nil))
}

// SaveConfig persists cfg as the repo's config.
func (r *Repo) SaveConfig(cfg Config) error {
	if err := saveConfig(r.Path, cfg); err != nil {
		return err
	}
	r.Config = cfg
	return nil
}

// Sync makes what the repo holds durable: badger writes without syncing,
// so an image whose CID a push has printed, or a pull has reported, would
// otherwise live in the page cache for seconds, and a power cut (an edge
// box, a ship) would lose it, or its pin, with the command long done.
func (r *Repo) Sync(ctx context.Context) error {
	// Packs first: what badger records (the packs' index, pins, the image
	// list) must not outlive, in a power cut, the blocks it names.
	if err := r.packs.sync(); err != nil {
		return fmt.Errorf("sync repo: %w", err)
	}
	if err := r.Datastore.Sync(ctx, ds.NewKey("/")); err != nil {
		return fmt.Errorf("sync repo: %w", err)
	}
	return nil
}

// Close flushes and releases the repo.
func (r *Repo) Close() error {
	var errs []error
	if r.ahead != nil {
		r.ahead.stop()
	}
	if r.Datastore != nil {
		errs = append(errs, r.Datastore.Close())
	}
	if r.lock != nil {
		errs = append(errs, r.lock.release())
	}
	return errors.Join(errs...)
}
