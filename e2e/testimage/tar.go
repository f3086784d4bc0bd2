package testimage

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"time"
)

// Epoch is the mtime of every tar entry and the "created" time of every
// config: a fixed time keeps digests independent of when a test runs.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// tarFile writes a one-file tar with fixed owner and mtime to w. The body is
// streamed from r, so multi-MiB layers are never held in memory.
func tarFile(w io.Writer, name string, mode, size int64, r io.Reader) error {
	tw := tar.NewWriter(w)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     mode,
		Size:     size,
		ModTime:  Epoch,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		return err
	}
	return tw.Close()
}

// gzipTarFile is tarFile wrapped in gzip at the given level. compress/gzip
// writes no name and a zero mtime in its header unless asked, so the output
// depends only on the input and the level.
func gzipTarFile(w io.Writer, level int, name string, mode, size int64, r io.Reader) error {
	zw, err := gzip.NewWriterLevel(w, level)
	if err != nil {
		return err
	}
	if err := tarFile(zw, name, mode, size, r); err != nil {
		return err
	}
	return zw.Close()
}
