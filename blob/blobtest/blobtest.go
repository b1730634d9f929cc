// Package blobtest starts a real S3-compatible server for tests:
// versitygw (Apache-2.0) over a temporary directory. The binary is found
// on PATH or in Go's bin directory, and installed with `go install` if
// missing, so the tests need nothing but Go.
package blobtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Version is the versitygw release the tests run.
const Version = "v1.8.0"

const accessKey, secretKey = "atriumtest", "atriumtestsecret"

var (
	installOnce sync.Once
	binary      string
	installErr  error
)

// findOrInstall returns the versitygw binary.
func findOrInstall() (string, error) {
	installOnce.Do(func() {
		if p, err := exec.LookPath("versitygw"); err == nil {
			binary = p
			return
		}
		gobin, err := exec.Command("go", "env", "GOBIN").Output()
		if err != nil {
			installErr = err
			return
		}
		dir := strings.TrimSpace(string(gobin))
		if dir == "" {
			gopath, err := exec.Command("go", "env", "GOPATH").Output()
			if err != nil {
				installErr = err
				return
			}
			dir = filepath.Join(strings.TrimSpace(string(gopath)), "bin")
		}
		binary = filepath.Join(dir, "versitygw")
		if _, err := os.Stat(binary); err == nil {
			return
		}
		cmd := exec.Command("go", "install", "github.com/versity/versitygw/cmd/versitygw@"+Version)
		if out, err := cmd.CombinedOutput(); err != nil {
			installErr = fmt.Errorf("go install versitygw: %v: %s", err, out)
		}
	})
	return binary, installErr
}

// Server is a running versitygw.
type Server struct {
	// URL is the s3:// URL of its bucket, for blob.NewS3.
	URL    string
	t      testing.TB
	bin    string
	addr   string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs versitygw on a free loopback port until the test ends, with
// one bucket. It sets the credentials in the environment (t.Setenv), so
// the test cannot be parallel.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findOrInstall()
	if err != nil {
		t.Fatalf("blobtest: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, addr: l.Addr().String(), dir: t.TempDir()}
	l.Close()
	s.URL = "s3://atrium?endpoint=" + s.addr + "&insecure=true&region=us-east-1"
	t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	t.Cleanup(s.Stop)
	s.Restart()
	return s
}

// Client returns an S3 client of the server, to change what it stores
// behind Atrium's back.
func (s *Server) Client() *minio.Client {
	c, err := minio.New(s.addr, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Secure: false})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Stop kills the server; what it stored stays in its directory.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts the server (again) on the same address and directory,
// and waits until its bucket answers.
func (s *Server) Restart() {
	t := s.t
	t.Helper()
	s.Stop()
	logPath := filepath.Join(t.TempDir(), "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	cmd := exec.Command(s.bin, "--port", s.addr, "posix", s.dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+accessKey, "ROOT_SECRET_KEY="+secretKey)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("blobtest: start versitygw: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	c := s.Client()
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; {
		ok, err := c.BucketExists(ctx, "atrium")
		if err == nil && !ok {
			err = c.MakeBucket(ctx, "atrium", minio.MakeBucketOptions{})
		}
		if err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("blobtest: versitygw exited: %s", logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("blobtest: versitygw does not answer: %v\n%s", err, logs())
		}
		time.Sleep(20 * time.Millisecond) // polling interval while it starts, not synchronisation
	}
}
