// Command mkhello writes the hello test image as an OCI layout. It generates
// e2e/testdata/hello, the layout the README demo pushes:
//
//	go run ./e2e/cmd/mkhello -o e2e/testdata/hello
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

func main() {
	out := flag.String("o", "", "output directory (replaced if it exists)")
	arch := flag.String("arch", runtime.GOARCH, "GOARCH of the image")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mkhello -o DIR [-arch GOARCH]")
		os.Exit(2)
	}
	if err := run(*out, *arch); err != nil {
		fmt.Fprintln(os.Stderr, "mkhello:", err)
		os.Exit(1)
	}
}

// run writes into a temp sibling and swaps it in, so an interrupted run
// never leaves a half-written layout where the old one was.
func run(out, arch string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".mkhello-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := testimage.WriteHello(tmp, arch); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
