package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// registry is a registry serving plain HTTP in one of the bench's
// namespaces: `crane registry serve` (go-containerregistry's, blobs on
// disk) or Debian's docker-registry; crane pushes to either.
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

// blobURL is where this registry serves blob d of the bench image.
func (r *registry) blobURL(d v1.Hash) string {
	repo, _, _ := strings.Cut(benchRef, ":")
	return "http://" + r.addr + "/v2/" + repo + "/blobs/" + d.String()
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

// startDistribution runs Debian's docker-registry (distribution 2.8) on
// addr in namespace ns, with filesystem storage under dir.
func startDistribution(crane string, ns *netns, dir, addr string) *registry {
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "storage"), addr)
	check(os.MkdirAll(dir, 0o755), "making docker-registry's directory")
	cfg := filepath.Join(dir, "config.yml")
	check(os.WriteFile(cfg, []byte(config), 0o644), "writing docker-registry's config")
	r := &registry{crane: crane, ns: ns, addr: addr}
	r.proc = start(spec{name: "docker-registry", ns: ns, argv: []string{"docker-registry", "serve", cfg}})
	waitV2(r.proc, ns, addr)
	return r
}

// waitV2 waits until the registry p serves on addr answers GET /v2/.
func waitV2(p *proc, ns *netns, addr string) {
	mustPoll(p.name+" ready", time.Minute, []*proc{p}, func() (bool, string) {
		out, err := curl(ns, "curl-ready", "http://"+addr+"/v2/").output(10 * time.Second)
		if err != nil {
			return false, err.Error()
		}
		return true, out
	})
}
