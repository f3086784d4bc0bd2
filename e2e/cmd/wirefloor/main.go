// Command wirefloor measures the least a pull from a peer can cost on a
// machine: an image's blobs sent over one libp2p stream (TCP, TLS, yamux:
// the connection imgp2p's bitswap runs on) with the two checks a pull makes
// — the sha256 of every chunk, which is what a block's CID costs, and the
// digest of every blob — and nothing stored, no bitswap, no tar. The bench
// runs it beside imgp2p's pull: what a pull costs above it is imgp2p's and
// bitswap's, the rest is the transport and the checks.
//
//	wirefloor serve -addr-file F BLOB...   serves until interrupted
//	wirefloor fetch ADDR                   prints the bytes it received
package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

const (
	protocolID protocol.ID = "/imgp2p-bench/wirefloor/1"
	// chunkSize is imgp2p's chunk size: one hash per chunk, like one CID.
	chunkSize = 1 << 20
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		addrFile := fs.String("addr-file", "", "write the server's address here once it listens")
		fs.Parse(os.Args[2:])
		if *addrFile == "" || fs.NArg() == 0 {
			usage()
		}
		err = serve(*addrFile, fs.Args())
	case "fetch":
		if len(os.Args) != 3 {
			usage()
		}
		var n int64
		n, err = fetch(os.Args[2])
		if err == nil {
			fmt.Println(n)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wirefloor:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: wirefloor serve -addr-file F BLOB... | wirefloor fetch ADDR")
	os.Exit(2)
}

// serve answers every stream with the blobs, until interrupted.
func serve(addrFile string, paths []string) error {
	blobs, err := indexBlobs(paths)
	if err != nil {
		return err
	}
	h, err := newHost(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		return err
	}
	defer h.Close()
	h.SetStreamHandler(protocolID, func(s network.Stream) {
		defer s.Close()
		if err := send(s, blobs); err != nil {
			fmt.Fprintln(os.Stderr, "wirefloor: send:", err)
			s.Reset()
		}
	})
	if len(h.Addrs()) == 0 {
		return fmt.Errorf("listening on no address")
	}
	addr := fmt.Sprintf("%s/p2p/%s", h.Addrs()[0], h.ID())
	// Written whole, then renamed: a reader polling for the file never
	// sees half an address.
	if err := os.WriteFile(addrFile+".tmp", []byte(addr), 0o644); err != nil {
		return err
	}
	if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
	return nil
}

// fetch receives every blob from the server at addr, checks each chunk
// and blob against the hashes the server sent, and returns the bytes of
// blob data received.
func fetch(addr string) (int64, error) {
	info, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return 0, fmt.Errorf("peer address %q (want /ip4/…/tcp/…/p2p/ID): %w", addr, err)
	}
	h, err := newHost(libp2p.NoListenAddrs)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	ctx := context.Background()
	if err := h.Connect(ctx, *info); err != nil {
		return 0, err
	}
	s, err := h.NewStream(ctx, info.ID, protocolID)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return receive(s)
}

// newHost is a libp2p host with libp2p's defaults, as imgp2p's: TLS
// before Noise, yamux.
func newHost(listen libp2p.Option) (host.Host, error) {
	return libp2p.New(listen)
}

// blob is one file to send and the hashes the receiver checks it by.
type blob struct {
	path   string
	size   int64
	digest [sha256.Size]byte
	chunks [][sha256.Size]byte
}

// indexBlobs hashes every blob and chunk before serving, as a repo holds
// its CIDs: the server's cost per pull is reading and sending.
func indexBlobs(paths []string) ([]blob, error) {
	blobs := make([]blob, len(paths))
	buf := make([]byte, chunkSize)
	for i, p := range paths {
		var err error
		if blobs[i], err = indexBlob(p, buf); err != nil {
			return nil, err
		}
	}
	return blobs, nil
}

func indexBlob(path string, buf []byte) (blob, error) {
	f, err := os.Open(path)
	if err != nil {
		return blob{}, err
	}
	defer f.Close()
	whole := sha256.New()
	b := blob{path: path}
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			b.chunks = append(b.chunks, sha256.Sum256(buf[:n]))
			whole.Write(buf[:n])
			b.size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return blob{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	copy(b.digest[:], whole.Sum(nil))
	return b, nil
}

// The stream: the number of blobs (4 bytes), then for each its digest and
// size (8 bytes), then for each chunk its sha256 and its bytes.

func send(w io.Writer, blobs []blob) error {
	var count [4]byte
	binary.BigEndian.PutUint32(count[:], uint32(len(blobs)))
	if _, err := w.Write(count[:]); err != nil {
		return err
	}
	buf := make([]byte, sha256.Size+chunkSize)
	for _, b := range blobs {
		if err := sendBlob(w, b, buf); err != nil {
			return err
		}
	}
	return nil
}

func sendBlob(w io.Writer, b blob, buf []byte) error {
	var head [sha256.Size + 8]byte
	copy(head[:], b.digest[:])
	binary.BigEndian.PutUint64(head[sha256.Size:], uint64(b.size))
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	f, err := os.Open(b.path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, sum := range b.chunks {
		copy(buf, sum[:])
		n, err := io.ReadFull(f, buf[sha256.Size:])
		if err != nil && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("%s: %w", b.path, err)
		}
		if _, err := w.Write(buf[:sha256.Size+n]); err != nil {
			return err
		}
	}
	return nil
}

func receive(r io.Reader) (int64, error) {
	var head [sha256.Size + 8]byte
	if _, err := io.ReadFull(r, head[:4]); err != nil {
		return 0, err
	}
	count := binary.BigEndian.Uint32(head[:4])
	buf := make([]byte, chunkSize)
	var total int64
	for i := range count {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return total, err
		}
		size := int64(binary.BigEndian.Uint64(head[sha256.Size:]))
		whole := sha256.New()
		for left := size; left > 0; {
			var sum [sha256.Size]byte
			if _, err := io.ReadFull(r, sum[:]); err != nil {
				return total, err
			}
			n := min(left, chunkSize)
			if _, err := io.ReadFull(r, buf[:n]); err != nil {
				return total, err
			}
			if sha256.Sum256(buf[:n]) != sum {
				return total, fmt.Errorf("blob %d: a chunk does not match its hash", i)
			}
			whole.Write(buf[:n])
			left -= n
			total += n
		}
		if [sha256.Size]byte(whole.Sum(nil)) != [sha256.Size]byte(head[:sha256.Size]) {
			return total, fmt.Errorf("blob %d: does not match its digest", i)
		}
	}
	return total, nil
}
