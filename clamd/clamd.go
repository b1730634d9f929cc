// Package clamd scans streams for malware with ClamAV's daemon, clamd,
// over its INSTREAM command: the bytes are sent as they arrive, in
// length-prefixed chunks, and clamd answers once the stream ends.
package clamd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// ErrTooLarge reports a stream longer than clamd accepts (its
// StreamMaxLength setting).
var ErrTooLarge = errors.New("clamd: the stream is longer than clamd's StreamMaxLength")

// maxReply bounds clamd's answer.
const maxReply = 4096

// Verdict is clamd's answer for a clean or an infected stream.
type Verdict struct {
	// Infected is true when a signature matched; Signature names it.
	Infected  bool
	Signature string
}

// Client reaches one clamd.
type Client struct {
	network, addr string
	// Timeout bounds waiting for clamd's answer once a stream has ended,
	// and each write to it.
	Timeout time.Duration
	// slots bounds the streams open at once (clamd has a few threads);
	// a stream waits for one.
	slots chan struct{}
}

// MaxStreams is how many scans a Client runs at once: a scan holds one of
// clamd's threads for as long as its upload lasts, and clamd queues what
// its threads cannot take (MaxThreads and MaxQueue in clamd.conf).
const MaxStreams = 32

// New returns a client of the clamd at addr: "unix:/path/to/clamd.ctl",
// "tcp:host:port", or "host:port".
func New(addr string) (*Client, error) {
	network, rest, _ := strings.Cut(addr, ":")
	switch network {
	case "unix":
		if rest == "" {
			return nil, fmt.Errorf("clamd: address %q names no socket", addr)
		}
		return &Client{network: "unix", addr: rest, Timeout: 2 * time.Minute, slots: make(chan struct{}, MaxStreams)}, nil
	case "tcp":
		addr = rest
	}
	if host, port, err := net.SplitHostPort(addr); err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("clamd: address %q is neither unix:/path nor host:port", addr)
	}
	return &Client{network: "tcp", addr: addr, Timeout: 2 * time.Minute, slots: make(chan struct{}, MaxStreams)}, nil
}

// String names the daemon's address.
func (c *Client) String() string { return c.network + ":" + c.addr }

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return nil, fmt.Errorf("clamd: %w", err)
	}
	return conn, nil
}

// Ping checks that clamd answers.
func (c *Client) Ping(ctx context.Context) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return fmt.Errorf("clamd: ping: %w", err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("clamd: ping answered %q", reply)
	}
	return nil
}

// Stream starts scanning a stream: write its bytes to the Stream, then
// call Verdict. Close releases the connection if Verdict is not called.
func (c *Client) Stream(ctx context.Context) (*Stream, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("clamd: waiting for a free scan: %w", ctx.Err())
	}
	release := func() { <-c.slots }
	conn, err := c.dial(ctx)
	if err != nil {
		release()
		return nil, err
	}
	s := &Stream{conn: conn, w: bufio.NewWriterSize(deadlineWriter{ctx, conn, c.Timeout}, 64<<10), timeout: c.Timeout, release: release}
	s.stop = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	if _, err := s.w.WriteString("zINSTREAM\x00"); err == nil {
		err = s.w.Flush() // clamd's command timeout runs from the connection
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("clamd: %w", err)
	}
	return s, nil
}

// deadlineWriter bounds each write to clamd, and stops writing once the
// stream's context has ended (its deadline would otherwise be moved on).
type deadlineWriter struct {
	ctx     context.Context
	conn    net.Conn
	timeout time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if err := d.ctx.Err(); err != nil {
		return 0, err
	}
	d.conn.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.conn.Write(p)
}

// Stream is one INSTREAM scan.
type Stream struct {
	conn    net.Conn
	w       *bufio.Writer
	stop    func() bool
	timeout time.Duration
	err     error // the first failed write: clamd may have hung up early
	closed  bool
	release func()
}

// maxChunk is the largest chunk sent at once.
const maxChunk = 1 << 20

// Write sends p as chunks of the stream. Once a write to clamd fails, the
// rest is dropped and Write still reports success, so that a copy feeding
// the scan and the store at once goes on; Verdict reports the failure
// (clamd hangs up on a stream over its limit, and says so).
func (s *Stream) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && s.err == nil {
		k := min(len(p), maxChunk)
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(k))
		if _, err := s.w.Write(size[:]); err != nil {
			s.err = err
			break
		}
		if _, err := s.w.Write(p[:k]); err != nil {
			s.err = err
			break
		}
		p = p[k:]
	}
	return n, nil
}

// Verdict ends the stream and returns clamd's answer: ErrTooLarge for a
// stream over clamd's limit, an error if clamd could not be asked or
// failed.
func (s *Stream) Verdict() (Verdict, error) {
	defer s.Close()
	if s.err == nil {
		if _, err := s.w.Write([]byte{0, 0, 0, 0}); err != nil {
			s.err = err
		} else if err := s.w.Flush(); err != nil {
			s.err = err
		}
	}
	s.conn.SetReadDeadline(time.Now().Add(s.timeout))
	reply, err := readReply(s.conn)
	if err != nil {
		if s.err != nil {
			return Verdict{}, fmt.Errorf("clamd: sending the stream: %w", s.err)
		}
		return Verdict{}, err
	}
	return parseReply(reply)
}

// parseReply reads clamd's answer to INSTREAM.
func parseReply(reply string) (Verdict, error) {
	switch {
	case reply == "stream: OK":
		return Verdict{}, nil
	case strings.HasPrefix(reply, "stream: ") && strings.HasSuffix(reply, " FOUND"):
		sig := strings.TrimSuffix(strings.TrimPrefix(reply, "stream: "), " FOUND")
		return Verdict{Infected: true, Signature: sig}, nil
	case strings.Contains(reply, "size limit exceeded"):
		return Verdict{}, ErrTooLarge
	}
	return Verdict{}, fmt.Errorf("clamd: %q", reply)
}

// Close releases the connection.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.stop()
	defer s.release()
	return s.conn.Close()
}

// readReply reads one NUL-terminated answer.
func readReply(r io.Reader) (string, error) {
	br := bufio.NewReader(io.LimitReader(r, maxReply))
	reply, err := br.ReadBytes(0)
	if err != nil && !(errors.Is(err, io.EOF) && len(reply) > 0) {
		return "", fmt.Errorf("clamd: reading the answer: %w", err)
	}
	return string(bytes.TrimRight(reply, "\x00\n")), nil
}
