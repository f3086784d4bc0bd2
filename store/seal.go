package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
)

// sealPrefix names the padding written to seal the value log's head file.
var sealPrefix = []byte("/imgp2p/gc/seal/")

const (
	// sealWorthIt is how much data the head value-log file must hold
	// before sealing it is worth writing padding.
	sealWorthIt = 4 << 20
	sealChunk   = 1 << 20
)

// sealHeadValueLog makes badger start a new value-log file, so that the
// one being written now can be garbage-collected: badger never rewrites
// the file it appends to, and offers no call to rotate it. A long-running
// daemon would otherwise keep every deleted block of its recent pulls on
// disk until restarted. Padding is written until badger rotates (at most
// one file's worth) and dropped again; it is garbage in the sealed file
// and goes with it. Skipped when the disk has no room for the padding:
// running out of space mid-write is far worse than reclaiming less.
func (r *Repo) sealHeadValueLog() error {
	dir := filepath.Join(r.Path, "datastore")
	head, used, err := headValueLog(dir)
	if err != nil || used < sealWorthIt {
		return err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("check free space: %w", err)
	}
	fileSize := r.Datastore.DB.Opts().ValueLogFileSize
	if free := int64(st.Bavail) * int64(st.Bsize); free < 2*fileSize {
		return nil
	}
	pad := make([]byte, sealChunk)
	for i := 0; int64(i)*sealChunk <= fileSize+sealChunk; i++ {
		key := fmt.Appendf(append([]byte{}, sealPrefix...), "%08d", i)
		if err := r.Datastore.DB.Update(func(txn *badger.Txn) error { return txn.Set(key, pad) }); err != nil {
			return fmt.Errorf("seal value log: %w", err)
		}
		if now, _, err := headValueLog(dir); err != nil || now != head {
			break
		}
	}
	if err := r.Datastore.DB.DropPrefix(sealPrefix); err != nil {
		return fmt.Errorf("seal value log: %w", err)
	}
	return nil
}

// headValueLog returns the newest value-log file in dir and the bytes of
// disk it uses (badger's files are sparse).
func headValueLog(dir string) (name string, used int64, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", 0, err
	}
	for _, e := range entries {
		// Fixed-width numbered names: the last in order is the newest.
		if strings.HasSuffix(e.Name(), ".vlog") && e.Name() > name {
			name = e.Name()
		}
	}
	if name == "" {
		return "", 0, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, name), &st); err != nil {
		return "", 0, err
	}
	return name, st.Blocks * 512, nil
}
