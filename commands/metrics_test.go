package commands

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// failingCollector is a collector whose every scrape fails.
type failingCollector struct{ desc *prometheus.Desc }

func (f failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }
func (f failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(f.desc, errors.New("collector broke"))
}

// One collector failing costs its own series, not the whole scrape: the
// endpoint gathers libp2p's collectors beside ours.
func TestMetricsSurviveAFailingCollector(t *testing.T) {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgp2p_test_up", Help: "A series that works."}, func() float64 { return 1 }),
		failingCollector{prometheus.NewDesc("imgp2p_test_broken", "A series that fails.", nil, nil)},
	)
	if err := m.listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go m.serve()
	t.Cleanup(func() { m.srv.Close() })
	resp, err := http.Get("http://" + m.addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "imgp2p_test_up 1") {
		t.Errorf("GET /metrics with a failing collector: %s\n%.500s", resp.Status, body)
	}
}
