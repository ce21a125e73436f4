package coffertest

import (
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is one kind of failure a FaultProxy injects.
type Fault string

// The faults a FaultProxy injects. Each is what a real S3 endpoint or the
// network between does now and then.
const (
	// SlowDown answers 503 SlowDown, half the time with Retry-After: 1.
	SlowDown Fault = "slowdown"
	// ResetRequest reads part of the request (half its body, if it has
	// one) and resets the connection without answering.
	ResetRequest Fault = "reset-request"
	// ResetResponse forwards the request and resets the connection after
	// the answer's headers and part of its body (before the headers of an
	// answer without a body: the server did the work, the client never
	// hears of it).
	ResetResponse Fault = "reset-response"
	// Stall waits FaultOptions.Stall, before forwarding or in the middle
	// of the answer's body, then goes on normally.
	Stall Fault = "stall"
	// Truncate forwards the answer with its Content-Length but closes the
	// connection (cleanly) after part of its body (before the headers of
	// an answer without a body).
	Truncate Fault = "truncate"
)

// AllFaults are the faults a FaultProxy injects by default.
var AllFaults = []Fault{SlowDown, ResetRequest, ResetResponse, Stall, Truncate}

// FaultOptions tunes NewFaultProxy.
type FaultOptions struct {
	Seed int64   // of the fault draws; default 1
	Rate float64 // share of the matching requests that get a fault; default 0.05
	// Faults drawn from, evenly; default AllFaults.
	Faults []Fault
	// Stall is how long a Stall lasts; default 2 s (well under the S3
	// client's timeouts, so the request goes through late).
	Stall time.Duration
	// Match picks the requests that may get a fault; default all.
	Match func(*http.Request) bool
}

// FaultProxy is an HTTP reverse proxy in front of an S3 server that
// injects faults into a seeded random share of the requests. SigV4
// signatures stay valid: the request goes upstream with the Host it was
// signed for. Requests arrive concurrently, so which request gets which
// fault depends on their order; the seed fixes the sequence of draws.
type FaultProxy struct {
	URL string // the endpoint to give coffer instead of the server's

	opts FaultOptions
	rp   *httputil.ReverseProxy
	// closed ends the stalls in progress when the test ends.
	closed chan struct{}

	mu       sync.Mutex
	rnd      *rand.Rand
	rate     float64
	injected map[string]int // "fault read|write" -> count
	requests int
}

// NewFaultProxy serves the proxy on a loopback port until the test ends.
func NewFaultProxy(t testing.TB, target string, opts FaultOptions) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Rate == 0 {
		opts.Rate = 0.05
	}
	if len(opts.Faults) == 0 {
		opts.Faults = AllFaults
	}
	if opts.Stall == 0 {
		opts.Stall = 2 * time.Second
	}
	p := &FaultProxy{opts: opts, rate: opts.Rate, injected: map[string]int{}, closed: make(chan struct{}),
		rnd: rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed))}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	// Cut connections are the point here, not news.
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	ps := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	ps.Config.ErrorLog = log.New(io.Discard, "", 0)
	ps.Start()
	t.Cleanup(func() { close(p.closed); ps.Close() })
	p.URL = ps.URL
	return p
}

// SetRate changes the share of requests that get a fault (0: none).
func (p *FaultProxy) SetRate(rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = rate
}

// Injected returns the faults injected so far by "fault read" or "fault
// write" (GET and HEAD read; the other methods write).
func (p *FaultProxy) Injected() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]int, len(p.injected))
	for k, v := range p.injected {
		m[k] = v
	}
	return m
}

// Total is the number of faults injected so far.
func (p *FaultProxy) Total() int {
	n := 0
	for _, v := range p.Injected() {
		n += v
	}
	return n
}

// String summarises the requests seen and the faults injected.
func (p *FaultProxy) String() string {
	inj := p.Injected()
	keys := make([]string, 0, len(inj))
	for k := range inj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	p.mu.Lock()
	fmt.Fprintf(&b, "%d requests, ", p.requests)
	p.mu.Unlock()
	total := 0
	for _, k := range keys {
		total += inj[k]
	}
	fmt.Fprintf(&b, "%d faults", total)
	for _, k := range keys {
		fmt.Fprintf(&b, "; %s %d", k, inj[k])
	}
	return b.String()
}

// draw decides the fault of one request ("" for none) and where in the
// body it strikes (a fraction).
func (p *FaultProxy) draw(r *http.Request) (Fault, float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.rate <= 0 || (p.opts.Match != nil && !p.opts.Match(r)) || p.rnd.Float64() >= p.rate {
		return "", 0
	}
	return p.opts.Faults[p.rnd.IntN(len(p.opts.Faults))], p.rnd.Float64()
}

// count records a fault that struck request r.
func (p *FaultProxy) count(f Fault, r *http.Request) {
	dir := "write"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		dir = "read"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injected[string(f)+" "+dir]++
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	f, at := p.draw(r)
	switch f {
	case SlowDown:
		p.count(f, r)
		if at < 0.5 {
			w.Header().Set("Retry-After", "1")
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate (injected).</Message></Error>`)
		return
	case ResetRequest:
		p.count(f, r)
		if r.ContentLength > 0 {
			_, _ = io.CopyN(io.Discard, r.Body, int64(float64(r.ContentLength)*at))
		}
		reset(w, true)
		return
	case Stall:
		if at < 0.5 {
			p.count(f, r)
			p.stall(r)
			break
		}
		w = &cutWriter{ResponseWriter: w, size: -1, at: 2 * (at - 0.5), stall: func() { p.stall(r) }, struck: func() { p.count(f, r) }}
	case ResetResponse, Truncate:
		if r.Method == http.MethodHead {
			// No body to cut: the answer is lost instead.
			p.count(f, r)
			reset(w, true)
			return
		}
		w = &cutWriter{ResponseWriter: w, size: -1, at: at, rst: f == ResetResponse, cut: true,
			struck: func() { p.count(f, r) }}
	}
	p.rp.ServeHTTP(w, r)
}

// stall waits Stall, or until the client gives up or the test ends.
func (p *FaultProxy) stall(r *http.Request) {
	t := time.NewTimer(p.opts.Stall)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-p.closed:
	}
}

// reset closes the client's connection, with a TCP reset if rst.
func reset(w http.ResponseWriter, rst bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("coffertest: the fault proxy's ResponseWriter cannot hijack")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	if buf != nil {
		_ = buf.Flush()
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0) // close sends RST
	}
	_ = conn.Close()
}

// cutWriter passes an answer through and, at fraction at of its body,
// either stalls once or cuts the connection (reset or clean close).
type cutWriter struct {
	http.ResponseWriter
	size    int64 // Content-Length, read at WriteHeader; -1 unknown
	at      float64
	rst     bool
	cut     bool   // cut the connection at the point (else stall)
	stall   func() // waits, for a stall
	written int64
	done    bool // the fault struck, or will not
	gone    bool // the connection was cut
	struck  func()
}

func (w *cutWriter) WriteHeader(code int) {
	if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil {
		w.size = n
	}
	switch {
	case code >= 300:
		// Error answers go through whole: the fault targets data.
		w.done = true
	case w.size <= 0 && w.cut:
		// No body to cut (a write's answer): the upstream did the work
		// and the answer is lost.
		w.strike()
		return
	case w.size <= 0:
		w.done = true
	}
	w.ResponseWriter.WriteHeader(code)
	if !w.done && w.at == 0 {
		w.strike()
	}
}

// Write lets the body through up to the fault's point.
func (w *cutWriter) Write(b []byte) (int, error) {
	if w.gone {
		return 0, http.ErrAbortHandler
	}
	if w.done {
		return w.ResponseWriter.Write(b)
	}
	point := int64(float64(w.size) * w.at)
	if w.written+int64(len(b)) <= point {
		n, err := w.ResponseWriter.Write(b)
		w.written += int64(n)
		return n, err
	}
	head := b[:point-w.written]
	n, err := w.ResponseWriter.Write(head)
	w.written += int64(n)
	if err != nil {
		return n, err
	}
	if !w.strike() {
		return n, http.ErrAbortHandler
	}
	m, err := w.ResponseWriter.Write(b[len(head):])
	w.written += int64(m)
	return n + m, err
}

// strike injects the fault; false when the connection is gone.
func (w *cutWriter) strike() bool {
	w.done = true
	w.struck()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if w.cut {
		w.gone = true
		reset(w.ResponseWriter, w.rst)
		return false
	}
	w.stall()
	return true
}

// Flush keeps http.Flusher for the reverse proxy.
func (w *cutWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.gone {
		f.Flush()
	}
}
