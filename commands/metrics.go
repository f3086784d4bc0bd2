package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imgp2p/imgp2p/node"
)

// metrics is the daemon's Prometheus endpoint. Counters read the node's
// own tallies when scraped, so nothing is counted twice.
type metrics struct {
	reg     *prometheus.Registry
	gateway *prometheus.CounterVec
	srv     *http.Server
	ln      net.Listener
}

func newMetrics(n *node.Node) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	stat := func(f func(node.Stats) int64) func() float64 {
		return func() float64 { return float64(f(n.Stats())) }
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imgp2p_fetched_bytes_total", Help: "Block bytes fetched from peers."}, stat(func(s node.Stats) int64 { return s.Bytes })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imgp2p_fetched_blocks_total", Help: "Blocks fetched from peers."}, stat(func(s node.Stats) int64 { return s.Blocks })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imgp2p_served_bytes_total", Help: "Block bytes served to peers."}, stat(func(s node.Stats) int64 { return s.SentBytes })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imgp2p_served_blocks_total", Help: "Blocks served to peers."}, stat(func(s node.Stats) int64 { return s.SentBlocks })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imgp2p_peers", Help: "Connected peers."}, func() float64 { return float64(len(n.ConnectedPeers())) }),
	)
	m.gateway = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgp2p_gateway_requests_total", Help: "Registry gateway requests by method and status."}, []string{"method", "code"})
	m.reg.MustRegister(m.gateway)
	return m
}

// listen binds the endpoint at addr, as httpAddr checked it.
func (m *metrics) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	m.ln = ln
	mux := http.NewServeMux()
	// Beside our own series, the default registry's: the Go runtime's and
	// the process's (go_goroutines, process_resident_memory_bytes,
	// process_open_fds: what a long-running seeder is watched by), and
	// libp2p's, which registers there (connections by transport, resource
	// manager limits hit).
	// A collector that fails (libp2p's are not ours) costs its own
	// series, not the scrape: by default one error answers 500 for all.
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{m.reg, prometheus.DefaultGatherer}, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

func (m *metrics) addr() string { return m.ln.Addr().String() }

func (m *metrics) serve() error {
	if err := m.srv.Serve(m.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (m *metrics) shutdown(ctx context.Context) error { return m.srv.Shutdown(ctx) }

// instrument counts a handler's responses by method and status.
func (m *metrics) instrument(h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() { m.gateway.WithLabelValues(r.Method, strconv.Itoa(sw.code)).Inc() }()
		h.ServeHTTP(sw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code    int
	written bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.written {
		s.code, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(p)
}

// Unwrap lets the gateway set write deadlines through the wrapper
// (http.ResponseController).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
