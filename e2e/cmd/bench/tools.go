package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The binaries the bench drives. Missing ones are built the way .ci/run
// builds them: imgp2p and wirefloor from this module, Kubo from e2e/kubo
// (a module of its own), crane from the Go module proxy at the version
// go.mod uses.
type tools struct {
	imgp2p, kubo, crane string
	wirefloor           string // e2e/cmd/wirefloor: the pull's transport floor
	kuboVersion         string
	craneVersion        string
	imgp2pVersion       string
	commit              string
}

const (
	wantKubo  = "0.43.1"
	wantCrane = "v0.22.1"
)

func findTools(work, imgp2p, kubo, crane string) tools {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/imgp2p/imgp2p").Output()
	check(err, "go list -m github.com/imgp2p/imgp2p (run the bench from inside the imgp2p module)")
	dir := strings.TrimSpace(string(root))
	var t tools
	t.imgp2p = imgp2p
	if t.imgp2p == "" {
		t.imgp2p = filepath.Join(work, "imgp2p")
		progress("building imgp2p")
		build(dir, []string{"CGO_ENABLED=0"}, "go", "build", "-o", t.imgp2p, ".")
	}
	t.wirefloor = filepath.Join(work, "wirefloor")
	build(dir, []string{"CGO_ENABLED=0"}, "go", "build", "-o", t.wirefloor, "./e2e/cmd/wirefloor")
	t.kubo = kubo
	if t.kubo == "" {
		t.kubo = os.Getenv("IMGP2P_E2E_KUBO")
	}
	if t.kubo == "" {
		t.kubo = filepath.Join(work, "ipfs")
		progress("building Kubo %s from e2e/kubo (set -kubo or IMGP2P_E2E_KUBO to skip this)", wantKubo)
		build(filepath.Join(dir, "e2e", "kubo"), nil, "go", "build", "-o", t.kubo, ".")
	}
	t.crane = crane
	if t.crane == "" {
		t.crane = lookCrane()
	}
	if t.crane == "" {
		t.crane = filepath.Join(work, "crane")
		progress("installing crane %s", wantCrane)
		build(dir, []string{"GOBIN=" + work}, "go", "install", "github.com/google/go-containerregistry/cmd/crane@"+wantCrane)
	}

	t.imgp2pVersion = firstLine(t.imgp2p, "version")
	t.kuboVersion = firstLine(t.kubo, "version", "--number")
	if t.kuboVersion != wantKubo {
		progress("warning: %s is Kubo %s; the figures are meant against %s", t.kubo, t.kuboVersion, wantKubo)
	}
	t.craneVersion = firstLine(t.crane, "version")
	if out, err := exec.Command("git", "-C", dir, "describe", "--always", "--dirty").Output(); err == nil {
		t.commit = strings.TrimSpace(string(out))
	}
	return t
}

func lookCrane() string {
	if p, err := exec.LookPath("crane"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "crane")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func build(dir string, env []string, argv ...string) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fatalf("%s (in %s): %v\n%s", strings.Join(argv, " "), dir, err, out)
	}
}

func firstLine(argv ...string) string {
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
