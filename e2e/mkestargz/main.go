// Command mkestargz turns a tar into a real eStargz layer with the
// stargz-snapshotter's own builder, for imgp2p's pass-through tests. It is a
// module of its own so that the main go.mod does not carry the builder.
//
//	mkestargz IN.tar OUT.tar.gz
//
// It writes the blob to OUT and prints, as JSON on stdout, what the layer's
// descriptor and a lazy puller need: the annotations' values, the diffID,
// and where the TOC and the footer sit in the blob.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/containerd/stargz-snapshotter/estargz"
)

type info struct {
	TOCDigest        string `json:"tocDigest"`        // containerd.io/snapshot/stargz/toc.digest
	UncompressedSize int64  `json:"uncompressedSize"` // io.containers.estargz.uncompressed-size
	DiffID           string `json:"diffID"`
	Size             int64  `json:"size"`
	TOCOffset        int64  `json:"tocOffset"`
	FooterSize       int64  `json:"footerSize"`
	// Annotation keys as the library spells them, so the test uses the
	// real ones rather than its own copy.
	TOCDigestAnnotation        string `json:"tocDigestAnnotation"`
	UncompressedSizeAnnotation string `json:"uncompressedSizeAnnotation"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkestargz IN.tar OUT.tar.gz")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "mkestargz:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	blob, err := estargz.Build(io.NewSectionReader(src, 0, fi.Size()))
	if err != nil {
		return fmt.Errorf("building eStargz: %w", err)
	}
	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	defer dst.Close()
	size, err := io.Copy(dst, blob)
	if err != nil {
		return err
	}
	if err := blob.Close(); err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	usize, err := blob.UncompressedSize()
	if err != nil {
		return err
	}
	// Read back what was written the way a lazy puller does: footer first,
	// then the TOC it points at, checked against the TOC digest.
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	sr := io.NewSectionReader(f, 0, size)
	tocOffset, footerSize, err := estargz.OpenFooter(sr)
	if err != nil {
		return fmt.Errorf("reading back the footer: %w", err)
	}
	r, err := estargz.Open(sr, estargz.WithTOCOffset(tocOffset))
	if err != nil {
		return fmt.Errorf("reading back the blob: %w", err)
	}
	if _, err := r.VerifyTOC(blob.TOCDigest()); err != nil {
		return fmt.Errorf("reading back the TOC: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(info{
		TOCDigest:                  blob.TOCDigest().String(),
		UncompressedSize:           usize,
		DiffID:                     blob.DiffID().String(),
		Size:                       size,
		TOCOffset:                  tocOffset,
		FooterSize:                 footerSize,
		TOCDigestAnnotation:        estargz.TOCJSONDigestAnnotation,
		UncompressedSizeAnnotation: estargz.StoreUncompressedSizeAnnotation,
	})
}
