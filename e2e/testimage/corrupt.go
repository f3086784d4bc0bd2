package testimage

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BlobPath is where the blob h lives in the OCI layout at dir.
func BlobPath(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// CorruptBlob flips every bit of one byte in the middle of blob h of the
// layout at dir. The size stays the same, so only a reader that checks the
// digest notices.
func CorruptBlob(dir string, h v1.Hash) error {
	f, err := os.OpenFile(BlobPath(dir, h), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return fmt.Errorf("blob %s is empty: nothing to corrupt", h)
	}
	b := make([]byte, 1)
	off := fi.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		return err
	}
	return f.Close()
}
