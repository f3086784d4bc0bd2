package commands

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/imgp2p/imgp2p/image"
)

// Copy pushes a root to a registry. The root is resolved as a pull
// resolves it: from the repo alone when it holds every block, else with
// the missing blocks fetched from peers ahead of the upload.
func (b *localBackend) Copy(ctx context.Context, req copyRequest) (copyResult, error) {
	start := time.Now()
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ro := image.RemoteOptions{Insecure: req.Insecure, UserAgent: userAgent(), StallTimeout: timeout}
	if err := ro.Check(req.Ref); err != nil {
		return copyResult{}, fmt.Errorf("copy to %s: %w", req.Ref, err)
	}
	root, err := b.resolveRoot(ctx, req.Root)
	if err != nil {
		return copyResult{}, err
	}
	var opts image.ExportOptions
	if req.Platform != "" {
		if opts.Platform, err = image.ParsePlatform(req.Platform); err != nil {
			return copyResult{}, err
		}
	}
	p, err := b.plan(ctx, root, opts, pullRequest{Root: req.Root, Peers: req.Peers, Timeout: timeout, Offline: req.Offline})
	if err != nil {
		return copyResult{}, err
	}
	defer p.close()
	if p.node != nil {
		// As for pull: blocks that stop coming from peers end the copy
		// after --timeout, whether the upload is waiting for them or the
		// registry had every blob and only the fetch is left. Bytes
		// handed to the registry count as progress.
		var stop func()
		ro.Sent, ctx, stop = watchStalls(ctx, io.Discard, p.node, timeout, logfFrom(ctx, b.logf))
		defer stop()
	}
	d, err := p.export.WriteRemote(ctx, req.Ref, ro)
	if err != nil {
		return copyResult{}, fmt.Errorf("copy %s to %s: %w", root, req.Ref, b.explainStall(ctx, p, stallCause(ctx, err)))
	}
	if err := p.complete(ctx); err != nil {
		return copyResult{}, fmt.Errorf("fetch %s: %w", root, b.explainStall(ctx, p, stallCause(ctx, err)))
	}
	if err := b.recordPulled(ctx, root, p.export); err != nil {
		return copyResult{}, err
	}
	return copyResult{Digest: d.Digest.String(), Summary: p.summary(time.Since(start))}, nil
}

// stallCause is err, or the reason a stall watch gave for cancelling ctx.
func stallCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return cause
	}
	return err
}
