package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestSecondOwnerIsRefusedWithOwnersPID(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second Open: %v, want a LockedError", err)
	}
	if locked.PID != os.Getpid() || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("error %q should name repo %s and PID %d", err, dir, os.Getpid())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r2, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	r2.Close()
}

func TestIdentityAndImagesPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := peer.IDFromPrivateKey(r.Identity)
	root, _ := cid.Decode("bafybeidhvbfm53bf43kukp5n2kdypbv4ncao2mnmagefu5suethazadv5u")
	if err := r.Images.Put(ctx, ImageRecord{Root: root, Names: []string{"a:b"}, Size: 42}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if st, err := os.Stat(dir + "/" + identityFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v, mode %v; want 0600", err, st.Mode())
	}
	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	id2, _ := peer.IDFromPrivateKey(r.Identity)
	if id1 != id2 {
		t.Fatalf("peer ID changed across restarts: %s then %s", id1, id2)
	}
	list, err := r.Images.List(ctx)
	if err != nil || len(list) != 1 || list[0].Root != root || list[0].Size != 42 {
		t.Fatalf("images after reopen: %+v, %v", list, err)
	}
}

func TestResolveNames(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, _ := cid.Decode("bafybeidhvbfm53bf43kukp5n2kdypbv4ncao2mnmagefu5suethazadv5u")
	b, _ := cid.Decode("bafkreie7754qk7fl56ebauawdgfuqqa3kdd7sotvuhsm6wbz3qin6ssw3a")
	r.Images.Put(ctx, ImageRecord{Root: a, Names: []string{"example.com/app:v1", "app:latest"}})
	r.Images.Put(ctx, ImageRecord{Root: b, Names: []string{"example.com/app:v1"}})
	if got, err := r.Images.Resolve(ctx, "app"); err != nil || got != a {
		t.Fatalf("app: %v %v, want %s (':latest' assumed)", got, err, a)
	}
	// The image recorded last takes the name, as a docker tag moves; the
	// other keeps its other names.
	if got, err := r.Images.Resolve(ctx, "example.com/app:v1"); err != nil || got != b {
		t.Fatalf("example.com/app:v1: %v %v, want %s, recorded last", got, err, b)
	}
	if rec, _, _ := r.Images.Get(ctx, a); !slices.Equal(rec.Names, []string{"app:latest"}) {
		t.Fatalf("%s keeps names %v, want [app:latest]", a, rec.Names)
	}
	// Recording a again (a push again of the older image) takes it back.
	r.Images.Put(ctx, ImageRecord{Root: a, Names: []string{"example.com/app:v1"}})
	if got, err := r.Images.Resolve(ctx, "example.com/app:v1"); err != nil || got != a {
		t.Fatalf("example.com/app:v1 after a is recorded again: %v %v, want %s", got, err, a)
	}
	if rec, _, _ := r.Images.Get(ctx, b); len(rec.Names) != 0 {
		t.Fatalf("%s keeps names %v, want none", b, rec.Names)
	}
	if _, err := r.Images.Resolve(ctx, "nope:v1"); err == nil || !strings.Contains(err.Error(), "imgp2p ls") {
		t.Fatalf("an unknown name gave %v", err)
	}
}

// A damaged identity key is an error naming the file and what to do,
// and is left as it was.
func TestDamagedIdentityIsReportedAndKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	key := filepath.Join(dir, identityFile)
	if err := os.WriteFile(key, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("open with an empty identity key: %v, want an error naming %s and what to do", err, key)
	}
	if fi, err := os.Stat(key); err != nil || fi.Size() != 0 {
		t.Fatalf("the damaged key was replaced or removed: %v %v", fi, err)
	}
}
