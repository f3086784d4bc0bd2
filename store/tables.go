package store

import (
	"errors"
	"fmt"
)

// errTableDamaged reports a table block that failed its checksum.
var errTableDamaged = errors.New("a table block fails its checksum (damaged on disk)")

// CheckTables reads every block of badger's tables (the keys: block
// index, pins, the image list) against its checksum. badger checks each
// table block as it reads it, but a damaged one then only answers "not
// found" for the keys in it and ends iterations at it, silently: what
// gc, verify and ls see would be short, with no error. Tables hold keys
// and small values only, so reading them all is quick.
func (r *Repo) CheckTables() (err error) {
	defer func() {
		// badger v4.5.1's Table.VerifyChecksum dereferences the nil block
		// its failed read returns, so the damage it finds is a panic, in
		// this goroutine.
		if p := recover(); p != nil {
			err = fmt.Errorf("datastore tables: %w", errTableDamaged)
		}
	}()
	if err := r.Datastore.DB.VerifyChecksum(); err != nil {
		return fmt.Errorf("datastore tables: %w", firstLineError{err})
	}
	return nil
}
