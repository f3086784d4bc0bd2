package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests use whatever dockerd DOCKER_HOST (or the default socket) names;
// .ci/run starts a private one and exports DOCKER_HOST.
var dockerReady = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if msg, err := exec.CommandContext(ctx, "docker", "info").CombinedOutput(); err != nil {
		return fmt.Errorf("docker info: %v: %s", err, bytes.TrimSpace(msg))
	}
	return nil
})

func needDocker(t *testing.T) {
	t.Helper()
	need(t, "docker daemon", dockerReady())
}

// docker runs the docker CLI and fails the test unless it exits 0.
func docker(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	res := execute(exec.CommandContext(ctx, "docker", args...), stdin)
	if res.code != 0 {
		t.Fatalf("docker failed: %v", res)
	}
	return res
}

var loadedRE = regexp.MustCompile(`(?m)^Loaded image(?: ID)?: (\S+)$`)

// loadedImage is the image reference `docker load` (or `podman load`)
// reports: a name:tag or an image ID, whichever the tar gave it.
func loadedImage(t *testing.T, res result) string {
	t.Helper()
	m := loadedRE.FindSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("no \"Loaded image\" line: %v", res)
	}
	return string(m[1])
}

// imageID is docker's ID ("sha256:...") of ref.
func imageID(t *testing.T, ref string) string {
	t.Helper()
	return strings.TrimSpace(string(docker(t, nil, "image", "inspect", "--format", "{{.Id}}", ref).stdout))
}

// removeImageOnCleanup deletes ref from dockerd when the test ends, so runs
// against a long-lived dockerd do not pile up images.
func removeImageOnCleanup(t *testing.T, ref string) {
	t.Cleanup(func() {
		exec.Command("docker", "image", "rm", "--force", ref).Run()
	})
}

// pipeToDocker runs `imgp2p ARGS | docker load` and returns both results.
func (r *repo) pipeToDocker(args ...string) (pull, load result) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	return pipeline(r.command(ctx, args...), exec.CommandContext(ctx, "docker", "load"))
}

// pipeline runs `left | right` as a shell would and returns each side's
// result (left's stdout is the pipe, so its result has none).
func pipeline(left, right *exec.Cmd) (l, r result) {
	pr, pw, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	var lerr bytes.Buffer
	left.Stdout, left.Stderr = pw, &lerr
	start := time.Now()
	err = left.Start()
	pw.Close() // left's copy is now the only write end: right sees EOF when left exits
	r = execute(right, pr)
	pr.Close() // if right quit early, left gets EPIPE instead of blocking
	if err == nil {
		err = left.Wait()
	}
	return finish(left, err, nil, lerr.Bytes(), start), r
}
