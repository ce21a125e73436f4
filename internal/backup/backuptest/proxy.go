package backuptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a reverse proxy in front of an S3 server that counts the body
// bytes of object reads (GET of an object, not listings, tagging, ACL or
// other sub-resources) and can refuse reads of chosen keys.
type Proxy struct {
	URL string // endpoint to give clients

	objectBytes atomic.Int64
	objectGets  atomic.Int64
	objectReqs  atomic.Int64 // requests naming an object: GET, HEAD, ?tagging, ?acl, ...

	mu       sync.Mutex
	deny     map[string]bool  // "bucket/key" whose object reads get 403
	denyPut  map[string]bool  // "bucket/key" whose object writes get 403
	allowPut map[string]int   // "bucket/key" whose writes get 403 after this many more
	truncate map[string]int64 // "bucket/key" whose bodies are cut after n bytes
	gets     map[string]int   // object reads per "bucket/key"
	heads    map[string]int   // HEAD requests per "bucket/key"
	hook     func(bucket, key string)
}

// NewProxy starts a proxy to target (an http:// endpoint), stopped at the
// end of the test. SigV4 signatures stay valid: the Host header is passed
// through unchanged.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("proxy target %q: %v", target, err)
	}
	p := &Proxy{deny: map[string]bool{}, denyPut: map[string]bool{}, allowPut: map[string]int{}, truncate: map[string]int64{}, gets: map[string]int{},
		heads: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		bucket, key, ok := objectRead(resp.Request)
		if !ok || resp.StatusCode/100 != 2 {
			return nil
		}
		p.objectGets.Add(1)
		var body io.Reader = resp.Body
		p.mu.Lock()
		p.gets[bucket+"/"+key]++
		if n, cut := p.truncate[bucket+"/"+key]; cut {
			body = io.LimitReader(body, n) // the server then drops the connection
		}
		p.mu.Unlock()
		resp.Body = &countingBody{r: body, c: resp.Body, n: &p.objectBytes}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); key != "" {
			p.objectReqs.Add(1)
			if r.Method == http.MethodHead {
				p.mu.Lock()
				p.heads[bucket+"/"+key]++
				p.mu.Unlock()
			}
		}
		if r.Method == http.MethodPut && p.writeDenied(r.URL.Path) {
			accessDenied(w)
			return
		}
		if bucket, key, ok := objectRead(r); ok {
			p.mu.Lock()
			denied, hook := p.deny[bucket+"/"+key], p.hook
			p.mu.Unlock()
			if hook != nil {
				hook(bucket, key)
			}
			if denied {
				accessDenied(w)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Deny makes object reads of bucket/key fail with 403 AccessDenied.
func (p *Proxy) Deny(bucket, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny[bucket+"/"+key] = true
}

// DenyWrites makes writes (PUT) of bucket/key fail with 403 AccessDenied.
func (p *Proxy) DenyWrites(bucket, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.denyPut[bucket+"/"+key] = true
}

// DenyWritesAfter lets n more writes (PUT) of bucket/key through, then
// makes them fail with 403 AccessDenied, until AllowWrites.
func (p *Proxy) DenyWritesAfter(bucket, key string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowPut[bucket+"/"+key] = n
}

// AllowWrites lets the writes of bucket/key through again.
func (p *Proxy) AllowWrites(bucket, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.denyPut, bucket+"/"+key)
	delete(p.allowPut, bucket+"/"+key)
}

func (p *Proxy) writeDenied(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := strings.TrimPrefix(path, "/")
	if n, ok := p.allowPut[k]; ok {
		if n > 0 {
			p.allowPut[k] = n - 1
			return false
		}
		return true
	}
	return p.denyPut[k]
}

func accessDenied(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<Error><Code>AccessDenied</Code><Message>Access Denied (test proxy)</Message></Error>`)
}

// Truncate cuts the bodies of object reads of bucket/key after n bytes.
func (p *Proxy) Truncate(bucket, key string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.truncate[bucket+"/"+key] = n
}

// Gets is the number of successful object reads of bucket/key.
func (p *Proxy) Gets(bucket, key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gets[bucket+"/"+key]
}

// OnObjectRead calls fn before every object read is forwarded.
func (p *Proxy) OnObjectRead(fn func(bucket, key string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = fn
}

// Heads is the number of HEAD requests for bucket/key so far.
func (p *Proxy) Heads(bucket, key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heads[bucket+"/"+key]
}

// ObjectBytes is the number of object body bytes served so far.
func (p *Proxy) ObjectBytes() int64 { return p.objectBytes.Load() }

// ObjectGets is the number of successful object reads so far.
func (p *Proxy) ObjectGets() int64 { return p.objectGets.Load() }

// ObjectRequests is the number of requests that named an object (any
// method or sub-resource: data, tagging, ACL, lock), not listings or
// bucket requests.
func (p *Proxy) ObjectRequests() int64 { return p.objectReqs.Load() }

// Reset zeroes the counters.
func (p *Proxy) Reset() {
	p.objectReqs.Store(0)
	p.objectBytes.Store(0)
	p.objectGets.Store(0)
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.gets)
}

// objectReadParams are the query parameters an object read may carry.
var objectReadParams = map[string]bool{"versionId": true, "partNumber": true}

// objectRead reports whether r reads an object's data (path-style URL).
func objectRead(r *http.Request) (bucket, key string, ok bool) {
	if r.Method != http.MethodGet {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" || key == "" {
		return "", "", false
	}
	for name := range r.URL.Query() {
		if !objectReadParams[name] && !strings.HasPrefix(name, "response-") &&
			!strings.HasPrefix(strings.ToLower(name), "x-amz-") {
			return "", "", false
		}
	}
	return bucket, key, true
}

type countingBody struct {
	r io.Reader
	c io.Closer
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingBody) Close() error { return c.c.Close() }
