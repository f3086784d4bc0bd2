package image

import (
	"context"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// VerifyBlobs re-reads every blob of the root and checks its size and
// digest against the descriptor that names it, reporting each failure,
// whether or not it was found to match before.
// It returns the number of blobs checked; err is for failing to read the
// root's metadata at all.
func (r *Root) VerifyBlobs(ctx context.Context, report func(v1.Descriptor, error)) (int, error) {
	exp, err := r.Plan(ctx, ExportOptions{})
	if err != nil {
		return 0, err
	}
	for _, d := range exp.Blobs() {
		rc, err := r.openBlob(ctx, d, true)
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			report(d, err)
		}
	}
	return len(exp.Blobs()), nil
}
