package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 keeps objects in a bucket of an S3-compatible object store. A PUT is
// atomic there: an object is visible only once its upload completes.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string
}

// s3Retries bounds the attempts of one request, so that an unreachable
// store is reported (503) in seconds rather than retried for long.
const s3Retries = 3

// s3PartSize is the part size of uploads of unknown length: the memory one
// upload holds.
const s3PartSize = 8 << 20

// NewS3 opens the bucket an s3:// URL names:
//
//	s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=R][&insecure=true]
//
// The credentials come from the environment (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, or MINIO_ACCESS_KEY and MINIO_SECRET_KEY). The
// bucket must exist.
func NewS3(ctx context.Context, rawURL string) (*S3, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("blob: %q is not an s3://BUCKET?endpoint=HOST:PORT URL", rawURL)
	}
	q := u.Query()
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{}, &credentials.EnvMinio{}})
	c, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: q.Get("insecure") != "true", Region: q.Get("region"),
		MaxRetries: s3Retries})
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	s := &S3{c: c, bucket: u.Host, prefix: strings.Trim(u.Path, "/")}
	if s.prefix != "" {
		s.prefix += "/"
	}
	ok, err := c.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: bucket %s at %s: %w", s.bucket, endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob: bucket %s does not exist at %s", s.bucket, endpoint)
	}
	return s, nil
}

func (s *S3) name(key string) (string, error) {
	if !validKey.MatchString(key) {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return s.prefix + key, nil
}

// Create starts an upload that streams what is written to it.
func (s *S3) Create(ctx context.Context, key string) (Pending, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p := &s3Pending{pw: pw, done: make(chan error, 1)}
	// The upload ends with the writer (Commit or Abort), not with the
	// caller's context, so that an abandoned multipart upload is aborted
	// on the server rather than left behind.
	ctx = context.WithoutCancel(ctx)
	go func() {
		_, err := s.c.PutObject(ctx, s.bucket, name, pr, -1, minio.PutObjectOptions{
			PartSize: s3PartSize, ContentType: "application/octet-stream"})
		pr.CloseWithError(err)
		p.done <- err
	}()
	return p, nil
}

// Open returns an object whose reads are range GETs.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	st, err := o.Stat()
	if err != nil {
		o.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &s3Object{Object: o, size: st.Size}, nil
}

// Delete removes an object.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

type s3Object struct {
	*minio.Object
	size int64
}

func (o *s3Object) Size() int64 { return o.size }

// errAborted ends an upload that is abandoned.
var errAborted = errors.New("blob: upload aborted")

type s3Pending struct {
	pw       *io.PipeWriter
	done     chan error
	finished bool
	err      error
}

func (p *s3Pending) Write(b []byte) (int, error) { return p.pw.Write(b) }

// Commit ends the upload and waits for the store to acknowledge it.
func (p *s3Pending) Commit() error {
	if p.finished {
		return errors.New("blob: already committed or aborted")
	}
	p.finished = true
	p.pw.Close()
	if err := <-p.done; err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

// Abort abandons the upload; nothing becomes visible.
func (p *s3Pending) Abort() error {
	if p.finished {
		return nil
	}
	p.finished = true
	p.pw.CloseWithError(errAborted)
	<-p.done
	return nil
}
