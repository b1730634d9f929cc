package clamd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/clamd"
	"github.com/atrium-dev/atrium/clamd/clamdtest"
)

func scan(t *testing.T, c *clamd.Client, body io.Reader) (clamd.Verdict, error) {
	t.Helper()
	s, err := c.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100_000) // odd chunk sizes
	if _, err := io.CopyBuffer(s, body, buf); err != nil {
		t.Fatal(err)
	}
	return s.Verdict()
}

func TestScanAgainstClamd(t *testing.T) {
	c := clamdtest.Start(t, clamdtest.Options{MaxStream: "2M"})
	clean := bytes.Repeat([]byte("an ordinary contract. "), 80_000)
	marked := append(bytes.Clone(clean[:700_000]), clamdtest.Marker...)
	marked = append(marked, clean[:300_000]...)
	cases := []struct {
		name    string
		body    []byte
		want    clamd.Verdict
		wantErr error
	}{
		{"empty", nil, clamd.Verdict{}, nil},
		{"clean", clean[:1_500_000], clamd.Verdict{}, nil},
		{"marker across chunks", marked, clamd.Verdict{Infected: true, Signature: clamdtest.Signature}, nil},
		{"over clamd's limit", bytes.Repeat(clean, 3), clamd.Verdict{}, clamd.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := scan(t, c, bytes.NewReader(tc.body))
			if !errors.Is(err, tc.wantErr) || v != tc.want {
				t.Fatalf("got %+v, %v; want %+v, %v", v, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestUnreachableClamd(t *testing.T) {
	c, err := clamd.New("unix:" + t.TempDir() + "/none.sock")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("ping of no daemon succeeded")
	}
	if _, err := c.Stream(context.Background()); err == nil {
		t.Fatal("a stream to no daemon started")
	}
}

func TestAddresses(t *testing.T) {
	for addr, want := range map[string]string{
		"unix:/run/clamav/clamd.ctl": "unix:/run/clamav/clamd.ctl",
		"tcp:127.0.0.1:3310":         "tcp:127.0.0.1:3310",
		"localhost:3310":             "tcp:localhost:3310",
		"unix:":                      "",
		"clamd":                      "",
	} {
		c, err := clamd.New(addr)
		got := ""
		if err == nil {
			got = c.String()
		}
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q, %v; want %q", addr, got, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "clamd") {
			t.Errorf("%q: error %v does not say what it is about", addr, err)
		}
	}
}

// At most MaxStreams scans run at once; the next waits for a free one.
func TestStreamsAreBounded(t *testing.T) {
	c := clamdtest.Start(t, clamdtest.Options{})
	var open []*clamd.Stream
	for range clamd.MaxStreams {
		s, err := c.Stream(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Stream(ctx); err == nil || !strings.Contains(err.Error(), "free scan") {
		t.Fatalf("a stream beyond the bound: %v", err)
	}
	if _, err := open[0].Verdict(); err != nil { // frees a slot
		t.Fatal(err)
	}
	s, err := c.Stream(context.Background())
	if err != nil {
		t.Fatalf("a stream once one is free: %v", err)
	}
	s.Close()
	for _, s := range open[1:] {
		s.Close()
	}
}
