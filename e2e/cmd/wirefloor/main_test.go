package main

import (
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The floor must check what a pull checks, or it would be lower than any
// honest pull could go: a chunk or blob that does not match fails it.
func TestReceiveChecksEveryChunkAndBlob(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	var want int64
	for i, size := range []int{chunkSize + 12345, 700} {
		data := make([]byte, size)
		rand.Read(data)
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		want += int64(size)
	}
	blobs, err := indexBlobs(paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs[0].chunks) != 2 {
		t.Fatalf("a blob of one chunk and a bit has %d chunk hashes", len(blobs[0].chunks))
	}
	transfer := func(blobs []blob) (int64, error) {
		r, w := io.Pipe()
		go func() { w.CloseWithError(send(w, blobs)) }()
		defer r.Close()
		return receive(r)
	}
	if got, err := transfer(blobs); err != nil || got != want {
		t.Fatalf("received %d bytes (%v), want %d", got, err, want)
	}

	badChunk := append([]blob(nil), blobs...)
	badChunk[0].chunks = append([][32]byte(nil), blobs[0].chunks...)
	badChunk[0].chunks[1][0] ^= 1
	if _, err := transfer(badChunk); err == nil || !strings.Contains(err.Error(), "chunk") {
		t.Fatalf("a chunk sent with the wrong hash: %v", err)
	}
	badBlob := append([]blob(nil), blobs...)
	badBlob[1].digest[0] ^= 1
	if _, err := transfer(badBlob); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("a blob sent with the wrong digest: %v", err)
	}
}
