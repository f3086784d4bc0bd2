package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/ipfs/go-cid"
)

// maxMissingNamed bounds the blobs a stalled transfer names; the rest are
// counted.
const maxMissingNamed = 4

// explainStall adds to err, when a stall watch ended the transfer, which
// of p's blobs the repo does not wholly hold: "no block arrived" alone
// does not tell a peer holding part of an image from a network that
// failed, nor what to look for elsewhere.
func (b *localBackend) explainStall(ctx context.Context, p *pullPlan, err error) error {
	if !errors.Is(err, errStalled) || len(p.blobs) != len(p.export.Blobs()) {
		return err
	}
	// ctx ended with the stall; the repo is still there to read.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var named []string
	missing := 0
	for i, d := range p.export.Blobs() {
		st, lerr := b.repo.Local(ctx, []cid.Cid{p.blobs[i]})
		if lerr != nil {
			return err
		}
		if st.Complete() {
			continue
		}
		missing++
		if len(named) < maxMissingNamed {
			named = append(named, fmt.Sprintf("%s %s (%s of %s here)", blobKind(d.MediaType), d.Digest,
				humanize.IBytes(uint64(min(st.Bytes, d.Size))), humanize.IBytes(uint64(d.Size))))
		}
	}
	if missing == 0 {
		return err
	}
	more := ""
	if missing > len(named) {
		more = fmt.Sprintf(" and %d more", missing-len(named))
	}
	return fmt.Errorf("%w; still missing %d of %d blobs: %s%s", err, missing, len(p.blobs), strings.Join(named, ", "), more)
}

// blobKind names what a blob is to an image, as its media type says.
func blobKind(mt types.MediaType) string {
	switch {
	case mt.IsIndex():
		return "index"
	case mt.IsImage():
		return "manifest"
	case mt.IsConfig():
		return "config"
	case mt.IsLayer():
		return "layer"
	}
	return "blob"
}
