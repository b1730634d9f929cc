package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"

	"github.com/atrium-dev/atrium/blob/blobtest"
)

// The S3 store against a real S3-compatible server: what every store does,
// and an upload of several parts read back by ranges.
func TestS3(t *testing.T) {
	ctx := context.Background()
	s, err := NewS3(ctx, blobtest.Start(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
	const key = "0190aabb-ccdd-7eef-8001-0123456789ab"
	data := make([]byte, 20<<20+123) // more than two parts
	rand.Read(data)
	p, err := s.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(p, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if n, err := o.ReadAt(buf, 15<<20); n != 1000 || !bytes.Equal(buf, data[15<<20:15<<20+1000]) || o.Size() != int64(len(data)) {
		t.Fatalf("range read: %d %v, size %d", n, err, o.Size())
	}
	o.Close()
	if _, err := NewS3(ctx, "s3://no-such-bucket?endpoint=127.0.0.1:1&insecure=true"); err == nil {
		t.Fatal("an unreachable store was opened")
	}
}
