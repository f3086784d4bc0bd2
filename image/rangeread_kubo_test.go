package image

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	ihelper "github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/boxo/ipld/unixfs/importer/trickle"
	ipld "github.com/ipfs/go-ipld-format"
)

// Files nerdctl adds through Kubo have 256 KiB chunks in dag-pb leaves
// under CIDv0, balanced or (ipfs add --trickle) trickle; every child's
// size must agree with what its parent says, or range reads refuse them.
func TestRangeReadsOfKuboFileDAGs(t *testing.T) {
	ctx := context.Background()
	for _, layout := range []string{"balanced", "trickle"} {
		for _, raw := range []bool{false, true} {
			dag := mdtest.Mock()
			data := make([]byte, 3<<20+4321)
			for i := range data {
				data[i] = byte(rand.Uint32())
			}
			p := merkledag.V0CidPrefix()
			if raw {
				p = merkledag.V1CidPrefix()
			}
			params := ihelper.DagBuilderParams{Dagserv: dag, Maxlinks: ihelper.DefaultLinksPerBlock, RawLeaves: raw, CidBuilder: p}
			db, err := params.New(chunker.NewSizeSplitter(bytes.NewReader(data), 256<<10))
			if err != nil {
				t.Fatal(err)
			}
			var nd ipld.Node
			if layout == "balanced" {
				nd, err = balanced.Layout(db)
			} else {
				nd, err = trickle.Layout(db)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range [][2]int64{{0, int64(len(data))}, {300 << 10, 2 << 20}, {int64(len(data)) - 1, 1}} {
				var out bytes.Buffer
				err := writeRange(ctx, dag, nd, r[0], r[0]+r[1], 0, func(b []byte) error { out.Write(b); return nil })
				if err != nil {
					t.Fatalf("%s raw leaves %v, range %v: %v", layout, raw, r, err)
				}
				if !bytes.Equal(out.Bytes(), data[r[0]:r[0]+r[1]]) {
					t.Fatalf("%s raw leaves %v, range %v: wrong bytes", layout, raw, r)
				}
			}
		}
	}
}
