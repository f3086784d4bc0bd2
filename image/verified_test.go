package image

import (
	"context"
	"io"
	"sync"
	"testing"

	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/go-cid"
)

// fakeVerifiedSet answers Has with has and records what is added.
type fakeVerifiedSet struct {
	has   bool
	mu    sync.Mutex
	added map[string]bool
}

func (f *fakeVerifiedSet) Has(context.Context, cid.Cid, string) bool { return f.has }

func (f *fakeVerifiedSet) Add(_ context.Context, file cid.Cid, digest string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added[file.String()+" "+digest] = true
	return nil
}

// A blob pushed, or read whole, and found to match its digest is
// remembered; one the set already holds is read without hashing, except
// by VerifyBlobs.
func TestVerifiedBlobsSkipHashingButNotVerify(t *testing.T) {
	ctx := context.Background()
	dag := mdtest.Mock()
	set := &fakeVerifiedSet{added: map[string]bool{}}
	RememberVerified(set)
	t.Cleanup(func() { RememberVerified(nil) })
	imp, err := ImportPath(ctx, dag, writeLayout(t), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pushed := set.added

	r, err := Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := r.Plan(ctx, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := exp.BlobCIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hashed := func(recheck bool, i int) bool {
		t.Helper()
		rc, err := r.openBlob(ctx, exp.Blobs()[i], recheck)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("blob %s: %v", exp.Blobs()[i].Digest, err)
		}
		return rc.(*verifyingReader).h != nil
	}
	// A push hashes every blob as it stores it, and says so.
	for i, d := range exp.Blobs() {
		if !pushed[files[i].String()+" "+d.Digest.String()] {
			t.Errorf("blob %s (file %s) was not remembered as the push stored it", d.Digest, files[i])
		}
	}
	// Forget it all, then read each blob as if for the first time.
	set.added = map[string]bool{}
	verifiedBlobs.Purge()
	for i, d := range exp.Blobs() {
		if !hashed(false, i) {
			t.Errorf("blob %s was not hashed on its first read", d.Digest)
		}
		if !set.added[files[i].String()+" "+d.Digest.String()] {
			t.Errorf("blob %s (file %s) was not remembered after matching", d.Digest, files[i])
		}
	}

	// A fresh process: its own memory is empty, the repo's set is not.
	verifiedBlobs.Purge()
	set.has = true
	for i, d := range exp.Blobs() {
		if hashed(false, i) {
			t.Errorf("blob %s was hashed although the set holds it", d.Digest)
		}
		if !hashed(true, i) {
			t.Errorf("blob %s was not hashed when asked to recheck (imgp2p verify)", d.Digest)
		}
	}
}
