package main

import (
	"os"
	"strings"
	"time"
)

// registry is `crane registry serve`: go-containerregistry's registry,
// blobs on disk, plain HTTP.
type registry struct {
	*proc
	crane string
	ns    *netns
	addr  string // HOST:PORT
}

func startRegistry(crane string, ns *netns, addr, disk, tag string) *registry {
	r := &registry{crane: crane, ns: ns, addr: addr}
	check(os.MkdirAll(disk, 0o755), "making the registry's directory")
	r.proc = start(spec{name: tag + "-registry", ns: ns, argv: []string{crane, "registry", "serve", "--address", addr, "--disk", disk}})
	mustPoll(r.name+" ready", 30*time.Second, []*proc{r.proc}, func() (bool, string) {
		out, err := r.spec("catalog", "catalog", "--insecure", addr).output(10 * time.Second)
		if err != nil {
			return false, err.Error()
		}
		return true, out
	})
	return r
}

// spec is a crane command run in the registry's namespace.
func (r *registry) spec(name string, args ...string) spec {
	return spec{name: "crane-" + name, ns: r.ns, argv: append([]string{r.crane}, args...)}
}

// ref is the bench image's reference in this registry.
func (r *registry) ref() string {
	repo, tag, _ := strings.Cut(benchRef, ":")
	return r.addr + "/" + repo + ":" + tag
}

// push uploads the layout's image (not timed).
func (r *registry) push(dir string) {
	run(r.spec("push", "push", "--insecure", dir, r.ref()))
}

// cranePull is `crane pull` of the bench image to /dev/null (a tarball,
// crane's default format) from a host in namespace ns.
func (r *registry) cranePull(ns *netns, tag string) spec {
	return spec{name: tag + "-crane-pull", ns: ns, argv: []string{r.crane, "pull", "--insecure", r.ref(), "/dev/null"}, stdout: devNull}
}
