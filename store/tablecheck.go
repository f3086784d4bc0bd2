package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/table"
)

// checkTables refuses, with an error naming the file, a repo whose badger
// tables badger itself would crash on. badger opens each table its
// manifest lists in a goroutine of its own and locates the table's index
// from lengths stored in the file's last bytes, without checking them
// against the file's size: a truncated table (a copy cut short, a damaged
// disk) panics there, killing the process with a goroutine dump instead
// of an error. Content damage within bounds is left to badger, which
// checks the index's checksum and reports it.
func checkTables(dir string) error {
	f, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if err != nil {
		return nil // a new repo, or one badger reports on
	}
	defer f.Close()
	manifest, _, err := badger.ReplayManifestFile(f, 0)
	if err != nil {
		return nil // badger says what is wrong with the manifest
	}
	for id := range manifest.Tables {
		name := table.NewFilename(id, dir)
		err := checkTableFooter(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // badger reports a missing table itself
		}
		if err != nil {
			return fmt.Errorf("open datastore: table %s is damaged (%v); the repo cannot be opened: move it aside and push or pull its images again", name, err)
		}
	}
	return nil
}

// checkTableFooter checks that a table's footer fits in the file: the
// last 4 bytes give the length of the checksum before them, and the 4
// bytes before that checksum the length of the index before it.
func checkTableFooter(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	u32At := func(off int64) (int64, error) {
		var b [4]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			return 0, err
		}
		return int64(binary.BigEndian.Uint32(b[:])), nil
	}
	if size < 8 {
		return fmt.Errorf("%d bytes long, too short for a table", size)
	}
	checksumLen, err := u32At(size - 4)
	if err != nil {
		return err
	}
	if checksumLen > size-8 {
		return fmt.Errorf("its footer gives a %d-byte checksum in a %d-byte file", checksumLen, size)
	}
	indexLen, err := u32At(size - 8 - checksumLen)
	if err != nil {
		return err
	}
	if indexLen > size-8-checksumLen {
		return fmt.Errorf("its footer gives a %d-byte index in a %d-byte file", indexLen, size)
	}
	return nil
}
