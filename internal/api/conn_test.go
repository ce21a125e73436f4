package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cofferbackup/coffer/internal/api"
	"github.com/cofferbackup/coffer/internal/auth"
	"github.com/cofferbackup/coffer/internal/coffertest"
)

// limitedServer serves e's service through an API server with limits l
// (and the verifier clock now, nil for the wall clock) on a loopback
// listener, as `coffer server` does; it returns the listen address.
func limitedServer(t *testing.T, e *coffertest.Env, l api.Limits, now func() time.Time) string {
	t.Helper()
	return serveOn(t, e, l, now, 0)
}

// serveOn is limitedServer with the send buffer of every accepted socket
// set to sndbuf bytes when sndbuf > 0: loopback buffers grow to megabytes,
// so without it an answer of a megabyte fits in them and no write ever
// waits for the client, as it does on a real network for a larger answer.
func serveOn(t *testing.T, e *coffertest.Env, l api.Limits, now func() time.Time, sndbuf int) string {
	t.Helper()
	return serveWith(t, api.New(e.Service, &auth.Verifier{Creds: e.Creds, Now: now}, "", nil).WithLimits(l).HTTPServer(), sndbuf)
}

// serveWith serves srv on a loopback listener until the test ends (see
// serveOn for sndbuf) and returns its address.
func serveWith(t *testing.T, srv *http.Server, sndbuf int) string {
	t.Helper()
	lc := net.ListenConfig{}
	if sndbuf > 0 {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			return setsockopt(c, syscall.SO_SNDBUF, sndbuf)
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// signedAt is a request for addr signed by creds at time at, for a body
// whose Content-Length and hash are those of body.
func signedAt(t *testing.T, method, addr, path string, body []byte, creds auth.Credentials, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), auth.ServiceName, "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// head is req's request line and headers, announcing a body of cl bytes,
// without the body.
func head(req *http.Request, cl int64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, req.URL.RequestURI(), req.URL.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if cl > 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", cl)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// rawConn is a client connection driven by hand.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

// dial connects to addr; rcvbuf > 0 shrinks the socket's receive buffer
// (before the connection is made, so that the window stays small).
func dial(t *testing.T, addr string, rcvbuf int) *rawConn {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error { return setsockopt(c, syscall.SO_RCVBUF, rcvbuf) }
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

func setsockopt(c syscall.RawConn, opt, v int) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, v) })
	return errors.Join(err, serr)
}

func (c *rawConn) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// answer reads one response within d and returns it with its body.
func (c *rawConn) answer(t *testing.T, d time.Duration) (*http.Response, []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", d, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read answer body: %v", err)
	}
	return resp, body
}

// closedWithin reports how long the server took to close the connection,
// failing if it is still open after d.
func (c *rawConn) closedWithin(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	_, err := c.br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %s", d)
	}
	if err == nil {
		t.Fatalf("server sent more bytes, want the connection closed")
	}
	return time.Since(start)
}

// trickle writes one byte every interval until stop is closed or a write
// fails.
func (c *rawConn) trickle(interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := c.Write([]byte{' '}); err != nil {
				return
			}
		}
	}
}

func errType(resp *http.Response) string { return resp.Header.Get("X-Amzn-Errortype") }

func TestBodyTrickledIsCut(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	const bodyTimeout = 2 * time.Second
	addr := limitedServer(t, e, api.Limits{BodyTimeout: bodyTimeout}, nil)
	body := []byte(`{"BackupVaultTags":{"a":"b"}}` + strings.Repeat(" ", 100))
	c := dial(t, addr, 0)
	start := time.Now()
	c.send(t, head(signedAt(t, "PUT", addr, "/backup-vaults/trickled", body, e.Creds, time.Now()), int64(len(body))))
	stop := make(chan struct{})
	defer close(stop)
	go c.trickle(time.Second, stop) // a byte a second: the body would take 129 s
	resp, msg := c.answer(t, bodyTimeout+3*time.Second)
	took := time.Since(start)
	if resp.StatusCode != http.StatusRequestTimeout || errType(resp) != "RequestTimeoutException" {
		t.Fatalf("answer %d %s %s, want 408 RequestTimeoutException", resp.StatusCode, errType(resp), msg)
	}
	if took < bodyTimeout-100*time.Millisecond {
		t.Fatalf("cut after %s, before the body deadline %s", took, bodyTimeout)
	}
	c.closedWithin(t, time.Second)
	if _, err := e.Client.DescribeBackupVault(ctx, &backup.DescribeBackupVaultInput{BackupVaultName: aws.String("trickled")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the cut request created its vault: %v", err)
	}
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	const idle = 1500 * time.Millisecond
	addr := limitedServer(t, e, api.Limits{IdleTimeout: idle}, nil)
	c := dial(t, addr, 0)
	c.send(t, head(signedAt(t, "GET", addr, "/backup-vaults", nil, e.Creds, time.Now()), 0))
	resp, body := c.answer(t, 5*time.Second)
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("answer %d (close %v) %s, want 200 on a kept-alive connection", resp.StatusCode, resp.Close, body)
	}
	took := c.closedWithin(t, idle+3*time.Second)
	if took < idle-100*time.Millisecond {
		t.Fatalf("idle connection closed after %s, before the idle timeout %s", took, idle)
	}
}

func TestAuthorizationRefusedBeforeBody(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	// The body deadline is long: an answer within 3 s cannot come from it.
	addr := limitedServer(t, e, api.Limits{BodyTimeout: time.Minute}, nil)
	now := time.Now()
	unknown := auth.Credentials{AccessKeyID: "CFUNKNOWNKEY00000000", SecretAccessKey: e.Creds.SecretAccessKey}
	tests := []struct {
		name   string
		req    func() *http.Request
		cl     int64
		status int
		code   string
	}{
		{"missing", func() *http.Request {
			r := signedAt(t, "PUT", addr, "/backup-vaults/v1", nil, e.Creds, now)
			r.Header.Del("Authorization")
			return r
		}, 1 << 20, 403, "MissingAuthenticationTokenException"},
		{"malformed", func() *http.Request {
			r := signedAt(t, "PUT", addr, "/backup-vaults/v1", nil, e.Creds, now)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
			return r
		}, 1 << 20, 400, "IncompleteSignatureException"},
		// A small announced body: net/http would wait for it to discard it.
		{"not sigv4, small body", func() *http.Request {
			r := signedAt(t, "PUT", addr, "/backup-vaults/v1", nil, e.Creds, now)
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, 10, 400, "IncompleteSignatureException"},
		{"unknown key", func() *http.Request { return signedAt(t, "PUT", addr, "/backup-vaults/v1", nil, unknown, now) },
			1 << 20, 403, "UnrecognizedClientException"},
		{"skewed", func() *http.Request {
			return signedAt(t, "PUT", addr, "/backup-vaults/v1", nil, e.Creds, now.Add(-time.Hour))
		},
			1 << 20, 403, "RequestTimeTooSkewed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr, 0)
			c.send(t, head(tt.req(), tt.cl)) // and never the body
			resp, body := c.answer(t, 3*time.Second)
			if resp.StatusCode != tt.status || errType(resp) != tt.code || !bytes.Contains(body, []byte(`"__type":"`+tt.code+`"`)) {
				t.Fatalf("answer %d %s %s, want %d %s", resp.StatusCode, errType(resp), body, tt.status, tt.code)
			}
			c.closedWithin(t, time.Second)
		})
	}
}

// heapInUse is the process's live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestSlowBodiesBeyondCapAreThrottled(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	const slots, slow = 4, 60 // 64 trickling clients, as the issue measured
	const bodyTimeout = 4 * time.Second
	addr := limitedServer(t, e, api.Limits{MaxBodyReads: slots, BodyReadWait: 200 * time.Millisecond, BodyTimeout: bodyTimeout}, nil)
	body := []byte(`{}` + strings.Repeat(" ", 200))
	heap0, gr0 := heapInUse(), runtime.NumGoroutine()
	stop := make(chan struct{})
	defer close(stop)
	// Holders take every slot and trickle.
	holdStart := time.Now()
	for i := 0; i < slots; i++ {
		c := dial(t, addr, 0)
		c.send(t, head(signedAt(t, "PUT", addr, fmt.Sprintf("/backup-vaults/held-%d", i), body, e.Creds, time.Now()), int64(len(body))))
		go c.trickle(500*time.Millisecond, stop)
	}
	waitSlotsTaken(t, e, addr)
	// The slow clients beyond the cap are answered, not read.
	var wg sync.WaitGroup
	errs := make(chan error, slow)
	for i := 0; i < slow; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- slowClientThrottled(t, addr, e.Creds, body, stop)
		}()
	}
	time.Sleep(time.Second) // all 64 have sent their headers and trickle, or were refused
	heap1, gr1 := heapInUse(), runtime.NumGoroutine()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Requests without a body need no slot.
	if _, err := e.Client.ListBackupVaults(ctx, &backup.ListBackupVaultsInput{}); err != nil {
		t.Fatalf("a GET waited for a body slot: %v", err)
	}
	// Once the holders are cut at their body deadline, bodies are read again.
	time.Sleep(time.Until(holdStart.Add(bodyTimeout + 500*time.Millisecond)))
	heap2, gr2 := heapInUse(), runtime.NumGoroutine()
	c := coffertest.NewClient("http://"+addr, e.Creds)
	if _, err := c.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("after")}); err != nil {
		t.Fatalf("after the holders were cut: %v", err)
	}
	t.Logf("%d trickling clients (%d slots): heap in use %.1f MB before, %.1f MB with them, %.1f MB after the cut; goroutines (clients' included) %d, %d, %d",
		slots+slow, slots, float64(heap0)/1e6, float64(heap1)/1e6, float64(heap2)/1e6, gr0, gr1, gr2)
}

// waitSlotsTaken waits until a request with a complete body is throttled:
// every body slot is then held.
func waitSlotsTaken(t *testing.T, e *coffertest.Env, addr string) {
	t.Helper()
	wrong := auth.Credentials{AccessKeyID: e.Creds.AccessKeyID, SecretAccessKey: "not-the-secret"}
	body := []byte(`{}`)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		r := signedAt(t, "PUT", addr, "/backup-vaults/probe", body, wrong, time.Now())
		c := dial(t, addr, 0)
		c.send(t, append(head(r, int64(len(body))), body...))
		resp, _ := c.answer(t, 3*time.Second)
		c.Close()
		if errType(resp) == "ThrottlingException" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the slots were never all taken: bodies are read without a cap")
}

// slowClientThrottled sends headers announcing body and trickles it; the
// server must answer 503 ThrottlingException within a second and close.
func slowClientThrottled(t *testing.T, addr string, creds auth.Credentials, body []byte, stop <-chan struct{}) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	r := signedAt(t, "PUT", addr, "/backup-vaults/slow", body, creds, time.Now())
	start := time.Now()
	if _, err := c.Write(head(r, int64(len(body)))); err != nil {
		return err
	}
	rc := &rawConn{Conn: c, br: bufio.NewReader(c)}
	go rc.trickle(500*time.Millisecond, stop)
	_ = c.SetReadDeadline(start.Add(2 * time.Second))
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		return fmt.Errorf("slow client beyond the cap not answered: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || errType(resp) != "ThrottlingException" || resp.Header.Get("Retry-After") == "" {
		return fmt.Errorf("slow client beyond the cap: %d %s, want 503 ThrottlingException with Retry-After", resp.StatusCode, errType(resp))
	}
	if _, err := rc.br.ReadByte(); err == nil || isTimeout(err) {
		return fmt.Errorf("throttled connection left open (%v)", err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// bigSelection creates a plan with a selection whose GetBackupSelection
// answer is about 1 MB; it returns the request path of that answer and its
// number of resources.
func bigSelection(t *testing.T, e *coffertest.Env) (string, int) {
	t.Helper()
	if _, err := e.Client.CreateBackupVault(ctx, &backup.CreateBackupVaultInput{BackupVaultName: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	p, err := e.Client.CreateBackupPlan(ctx, &backup.CreateBackupPlanInput{BackupPlan: hourlyPlan("big", "big")})
	if err != nil {
		t.Fatal(err)
	}
	var res []string
	for i := 0; i < 2200; i++ {
		res = append(res, fmt.Sprintf("arn:aws:s3:::bucket-%04d-%s", i, strings.Repeat("x", 420)))
	}
	sel, err := e.Client.CreateBackupSelection(ctx, &backup.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId, BackupSelection: &types.BackupSelection{
		SelectionName: aws.String("big"), IamRoleArn: aws.String("arn:aws:iam::000000000000:role/x"), Resources: res}})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/backup/plans/%s/selections/%s", aws.ToString(p.BackupPlanId), aws.ToString(sel.SelectionId)), len(res)
}

// slowReader reads at most chunk bytes every interval.
type slowReader struct {
	r        io.Reader
	chunk    int
	interval time.Duration
}

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.interval)
	return s.r.Read(p[:min(len(p), s.chunk)])
}

func TestLargeAnswerReadSlowlyIsNotCut(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	const stall = 400 * time.Millisecond
	addr := serveOn(t, e, api.Limits{WriteStall: stall}, nil, 16<<10)
	path, n := bigSelection(t, e)
	c := dial(t, addr, 4096)
	c.send(t, head(signedAt(t, "GET", addr, path, nil, e.Creds, time.Now()), 0))
	// 16 KiB every 20 ms: the answer takes about 1.5 s, several times the
	// stall limit, and is never stalled for as long as that limit.
	slow := bufio.NewReaderSize(slowReader{r: c.Conn, chunk: 16 << 10, interval: 20 * time.Millisecond}, 16<<10)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(slow, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("slow read of a %d-resource answer cut after %s, %d bytes: %v", n, time.Since(start), len(raw), err)
	}
	var out struct{ BackupSelection struct{ Resources []string } }
	if err := json.Unmarshal(raw, &out); err != nil || len(out.BackupSelection.Resources) != n {
		t.Fatalf("answer of %d bytes: %d resources, %v; want %d", len(raw), len(out.BackupSelection.Resources), err, n)
	}
	t.Logf("read %d bytes in %s (write stall limit %s)", len(raw), time.Since(start), stall)
}

func TestStalledReaderIsCut(t *testing.T) {
	e := coffertest.Start(t, coffertest.Options{})
	const stall = 400 * time.Millisecond
	addr := serveOn(t, e, api.Limits{WriteStall: stall}, nil, 16<<10)
	path, _ := bigSelection(t, e)
	c := dial(t, addr, 4096)
	c.send(t, head(signedAt(t, "GET", addr, path, nil, e.Creds, time.Now()), 0))
	time.Sleep(5 * stall) // read nothing
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err == nil {
		var raw []byte
		raw, err = io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("a reader that stalled for %s got the whole %d-byte answer: the write was not cut", 5*stall, len(raw))
		}
	}
	if isTimeout(err) {
		t.Fatalf("connection neither finished nor closed: %v", err)
	}
}
