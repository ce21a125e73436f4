package bench

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// measure runs fn as the n-th phase and records its duration, peak RSS and
// peak Go heap (and its heap profile at the peak, see Config.HeapProfileDir).
func (cfg Config) measure(n int, name string, fn func() (objects, bytes int64, status string, err error)) (Phase, error) {
	// Return the memory earlier phases (and the fill, which allocates
	// gigabytes in minio-go) freed to the OS first: the runtime keeps freed
	// pages for a while, and the peak RSS of this phase would start at them.
	debug.FreeOSMemory()
	resetPeakRSS()
	s := &heapSampler{}
	if cfg.HeapProfileDir != "" {
		s.profile = filepath.Join(cfg.HeapProfileDir, fmt.Sprintf("%d-%s.heap.pprof", n+1, slug(name)))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.run(stop)
	}()
	start := time.Now()
	objs, moved, status, err := fn()
	d := time.Since(start)
	close(stop)
	wg.Wait()
	if err == nil && s.err != nil {
		err = s.err
	}
	return Phase{Name: name, Duration: d, Objects: objs, Bytes: moved, PeakRSS: peakRSS(), PeakHeap: s.peak, StatusText: status}, err
}

// heapSampler tracks the peak Go heap in use every 50 ms and, with a
// profile path, writes a heap profile whenever the peak grew by a tenth
// since the last one: the file left at the end describes the peak (within
// 10%) without profiling at every sample.
type heapSampler struct {
	profile  string
	peak     int64
	profiled int64 // heap in use when the profile was last written
	err      error
}

func (s *heapSampler) run(stop <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		h := int64(ms.HeapInuse)
		s.peak = max(s.peak, h)
		if s.profile != "" && s.err == nil && h > s.profiled+s.profiled/10 {
			s.profiled = h
			s.err = writeHeapProfile(s.profile)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// writeHeapProfile writes the heap profile to path (replacing it).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("heap profile %s: %w", path, err)
	}
	return nil
}

// slug turns a phase name into a file name part.
func slug(name string) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
	return strings.Trim(s, "-")
}

// resetPeakRSS resets the kernel's high-water mark of this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM from /proc/self/status; 0 where unavailable.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// ServePprof serves net/http/pprof's handlers on addr until stop is
// called, to profile a running bench (CPU, goroutines, heap) live.
func ServePprof(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
