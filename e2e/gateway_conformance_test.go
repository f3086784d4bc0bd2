package e2e

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// conformanceVersion is the OCI distribution-spec conformance suite .ci/run
// installs (the module has no tagged versions; this is its main branch).
const conformanceVersion = "v0.0.0-20260831232431-97274622c111"

// TestGatewayConformance runs the OCI distribution-spec conformance suite
// against the gateway. The suite pushes what it then pulls, and with push
// disabled it checks only status codes of content named to it
// (OCI_RO_DATA_*), never bytes; so a front (conformanceFront) sends its
// writes to a scratch registry and its reads to the gateway, serving a root
// imported from what was pushed. Every pull-side check must pass: manifests
// and blobs by tag and digest (GET and HEAD, bytes, Content-Type,
// Content-Length, Docker-Content-Digest), ranges, tags/list with last,
// referrers with artifactType, 404s for what is missing, over images,
// indexes, nested indexes, artifacts, subjects, an empty blob, custom
// fields, a 3.9 MB manifest. Push-side checks test the scratch registry
// (Debian's distribution 2.8, which fails a few) and are not judged.
func TestGatewayConformance(t *testing.T) {
	suite, err := lookTool("conformance")
	need(t, "the OCI conformance suite (go install github.com/opencontainers/distribution-spec/conformance@"+conformanceVersion+")", err)
	scratch := startScratchRegistry(t)
	r := newRepo(t)
	gw := offlineGateway(t, r, onHost)
	gwURL, _ := url.Parse(gw.URL)
	front := newConformanceFront(scratch, gwURL, t.TempDir(), func(dir string) (string, error) {
		res := r.run(nil, "push", dir)
		if m := cidLine.FindSubmatch(res.stdout); res.code == 0 && m != nil {
			return string(m[1]), nil
		}
		return "", fmt.Errorf("%v", res)
	})
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)

	results := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite)
	cmd.Dir = results
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+strings.TrimPrefix(srv.URL, "http://"), "OCI_TLS=disabled", "OCI_VERSION=1.1",
		"OCI_RESULTS_DIR="+results, "OCI_LOG=warn",
		// Roots hold sha256 content only: sha512 content cannot be
		// imported (the gateway answers 404 for such digests).
		"OCI_DATA_SHA512=false",
		// The scratch registry refuses manifests naming layers it
		// was not given (500), so there is nothing to import.
		"OCI_DATA_NONDISTRIBUTABLE=false",
		// Deleting is a write: it would reach the scratch registry only.
		"OCI_API_BLOBS_DELETE=false", "OCI_API_MANIFESTS_DELETE=false", "OCI_API_TAGS_DELETE=false",
	)
	// The suite exits 1 for any failure, the scratch registry's too: the
	// verdict comes from its junit report, check by check.
	res := execute(cmd, nil)
	for _, err := range front.failures() {
		t.Errorf("front: %v", err)
	}
	cases, err := readJUnit(filepath.Join(results, "junit.xml"))
	if err != nil {
		t.Fatalf("conformance suite left no report (%v): %v", err, res)
	}
	passed := 0
	for _, c := range cases {
		if !c.pullSide() {
			continue
		}
		if c.Status == "passed" {
			passed++
			continue
		}
		t.Errorf("%s: %s, want passed: %s\n%.4000s", c.Name, c.Status, c.Out, c.Transcript)
	}
	// 282 when written; far fewer means the suite skipped what it
	// could not set up, which would pass nothing.
	if passed < 250 {
		t.Errorf("%d pull-side checks passed, want at least 250\n%s", passed, res.stdout)
	}
	t.Logf("%d pull-side conformance checks passed", passed)
}

// junitCase is one check in the suite's junit.xml.
type junitCase struct {
	Name       string `xml:"name,attr"`
	Status     string `xml:"status,attr"` // passed, skipped, failure or error
	Out        string `xml:"system-out"`  // what failed
	Transcript string `xml:"system-err"`  // the requests and responses
	leaf       bool
}

// pushSteps are the last names of checks that write: uploads, mounts,
// manifest puts and deletes (the suite names each check by its path).
var pushSteps = regexp.MustCompile(`^(blob-post.*|blob-patch.*|blob-put|blob-mount.*|blob-delete|manifest-put|manifest-delete|tag-delete)$`)

// pullSide says whether a check reads: a leaf check that is not a write
// nor part of a data set's push step.
func (c junitCase) pullSide() bool {
	steps := strings.Split(c.Name, "/")
	return c.leaf && !pushSteps.MatchString(steps[len(steps)-1]) && !strings.Contains(c.Name, "/push/")
}

func readJUnit(path string) ([]junitCase, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var report struct {
		Suites []struct {
			Cases []junitCase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &report); err != nil {
		return nil, err
	}
	var cases []junitCase
	for _, s := range report.Suites {
		cases = append(cases, s.Cases...)
	}
	if len(cases) == 0 {
		return nil, errors.New("no checks in the report")
	}
	// A check is a leaf unless another's name extends it: the suite
	// reports each group too, failing when a check in it fails.
	for i := range cases {
		cases[i].leaf = true
		for _, o := range cases {
			if strings.HasPrefix(o.Name, cases[i].Name+"/") {
				cases[i].leaf = false
				break
			}
		}
	}
	return cases, nil
}

// startScratchRegistry runs Debian's docker-registry on the host's
// loopback, plain HTTP, storing under a temp dir.
func startScratchRegistry(t *testing.T) *url.URL {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	need(t, "docker-registry (apt-get install docker-registry)", err)
	dir := t.TempDir()
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n"+
		"storage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:0\n", filepath.Join(dir, "storage"))
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	port, _ := startForPort(t, "docker-registry", []string{bin, "serve", cfg}, regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)`))
	return &url.URL{Scheme: "http", Host: "127.0.0.1:" + port}
}
