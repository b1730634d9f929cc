package integration_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// proxy is a TCP relay in front of a server whose connections the test can
// cut, as a failing network would, and whose door it can close for a while.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	closed bool // new connections are refused
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.relay(c)
	}
}

// relay connects c to the target, unless the door is closed.
func (p *proxy) relay(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.wg.Add(2)
	go p.pipe(c, up)
	go p.pipe(up, c)
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut drops every open connection and refuses new ones until reopen.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
}

// reopen lets connections through again.
func (p *proxy) reopen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = false
}

// retarget sends new connections to another server address.
func (p *proxy) retarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = addr
}

func (p *proxy) stop() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// flakyTransport forwards requests to the server but throws away the
// answer to the first attempt of every POST and reports a network failure
// instead, as a connection lost after the server did the work would.
type flakyTransport struct {
	base http.RoundTripper

	mu   sync.Mutex
	sent map[string]int // POSTs that reached the server, by Idempotency-Key
}

func newFlaky() *flakyTransport {
	return &flakyTransport{base: http.DefaultTransport, sent: map[string]int{}}
}

// RoundTrip implements http.RoundTripper.
func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost {
		return resp, err
	}
	f.mu.Lock()
	key := r.Header.Get("Idempotency-Key")
	f.sent[key]++
	drop := f.sent[key] == 1
	f.mu.Unlock()
	if !drop {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, fmt.Errorf("connection reset (answer %d dropped by the test)", resp.StatusCode)
}

// attempts returns how many POSTs carried each Idempotency-Key.
func (f *flakyTransport) attempts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.sent {
		out[k] = v
	}
	return out
}
