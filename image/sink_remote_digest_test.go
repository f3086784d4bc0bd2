package image

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// A copy to HOST/REPO@DIGEST must put what DIGEST names or nothing: ggcr's
// registry, like crane registry serve, stores a manifest under any digest
// it is given, and would then serve bytes that digest does not name.
func TestWriteRemoteToWrongDigestPutsNothing(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	dir := writeLayout(t)
	exp := pushAndPlan(ctx, t, dir)
	wrong := host + "/copy@sha256:" + strings.Repeat("0", 63) + "1"
	_, err := exp.WriteRemote(ctx, wrong, RemoteOptions{})
	if err == nil || !strings.Contains(err.Error(), "write a tag") {
		t.Fatalf("WriteRemote to %s: %v; want an error saying to write a tag", wrong, err)
	}
	if _, err := remote.Get(mustRef(t, wrong)); err == nil {
		t.Fatalf("the registry serves a manifest under %s", wrong)
	}

	// The right digest goes up as it would under a tag.
	want := topEntry(t, dir).Digest
	right := host + "/copy@" + want.String()
	pushed, err := exp.WriteRemote(ctx, right, RemoteOptions{})
	if err != nil || pushed.Digest != want {
		t.Fatalf("WriteRemote to %s: %v, %v", right, pushed.Digest, err)
	}
	if got, err := remote.Head(mustRef(t, right)); err != nil || got.Digest != want {
		t.Fatalf("registry serves %v (%v) under %s", got, err, right)
	}
}
