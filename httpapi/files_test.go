package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/httpapi"
	"github.com/atrium-dev/atrium/internal/testserver"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store/storetest"
)

// uploadFile posts content as a multipart upload and returns the file.
func uploadFile(t *testing.T, w *refWorld, token, name string, content []byte) atrium.File {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", name)
	part.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/binders/"+w.binder+"/files", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, data)
	}
	var f atrium.File
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// storedObject returns the path of a file's stored object.
func storedObject(t *testing.T, w *refWorld, f atrium.File) string {
	t.Helper()
	var blobID string
	_, read := w.srv.Store.Pools()
	if err := read.QueryRow(`SELECT blob_id FROM files WHERE id = $1`, f.ID).Scan(&blobID); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(w.srv.Config().DataDir, "blobs", "objects", "*", blobID))
	if len(matches) != 1 {
		t.Fatalf("stored object of %s: %v", f.ID, matches)
	}
	return matches[0]
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[at] ^= 0x01
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A download names the file for a browser in ASCII and in UTF-8; a stored
// object changed in its first chunk gets 500 and no body; one changed
// further on is cut off before its declared length, so no client ends up
// with a complete-looking file.
func TestDownloadsRefuseTamperedObjects(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			w := newRefWorld(t, d)
			content := make([]byte, 2*sealed.ChunkPlainSize+100)
			rand.Read(content)
			get := func(f atrium.File) (*http.Response, []byte, error) {
				req, _ := http.NewRequest("GET", w.srv.URL+"/api/v1/files/"+f.ID+"/content", nil)
				req.Header.Set("Authorization", "Bearer "+w.viewer)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				data, err := io.ReadAll(resp.Body)
				return resp, data, err
			}

			intact := uploadFile(t, w, w.editor, "見積書 \"最終\"; v2.bin", content)
			resp, data, err := get(intact)
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(data, content) {
				t.Fatalf("intact download: %d, %d bytes, %v", resp.StatusCode, len(data), err)
			}
			cd := resp.Header.Get("Content-Disposition")
			disp, params, perr := mime.ParseMediaType(cd)
			if perr != nil || disp != "attachment" || params["filename"] != "見積書 \"最終\"; v2.bin" {
				t.Fatalf("Content-Disposition %q: %v %v", cd, params, perr)
			}

			// A request of several ranges gets each, in a multipart body.
			req, _ := http.NewRequest("GET", w.srv.URL+"/api/v1/files/"+intact.ID+"/content", nil)
			req.Header.Set("Authorization", "Bearer "+w.viewer)
			req.Header.Set("Range", fmt.Sprintf("bytes=0-9,%d-%d", sealed.ChunkPlainSize+5, sealed.ChunkPlainSize+20))
			mresp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			mt, mp, _ := mime.ParseMediaType(mresp.Header.Get("Content-Type"))
			if mresp.StatusCode != 206 || mt != "multipart/byteranges" {
				t.Fatalf("several ranges: %d %s", mresp.StatusCode, mt)
			}
			mr := multipart.NewReader(mresp.Body, mp["boundary"])
			for _, want := range [][]byte{content[:10], content[sealed.ChunkPlainSize+5 : sealed.ChunkPlainSize+21]} {
				part, err := mr.NextPart()
				if err != nil {
					t.Fatal(err)
				}
				if got, err := io.ReadAll(part); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("a range of several: %d bytes, %v", len(got), err)
				}
			}
			mresp.Body.Close()

			first := uploadFile(t, w, w.editor, "first.bin", content)
			flipByte(t, storedObject(t, w, first), 100)
			resp, data, _ = get(first)
			if resp.StatusCode != 500 || bytes.Contains(data, content[:16]) {
				t.Fatalf("first chunk changed: %d %.100q", resp.StatusCode, data)
			}

			later := uploadFile(t, w, w.editor, "later.bin", content)
			flipByte(t, storedObject(t, w, later), sealed.ChunkCipherSize+100)
			resp, data, err = get(later)
			if err == nil || int64(len(data)) >= resp.ContentLength {
				t.Fatalf("second chunk changed: status %d, %d of %d bytes, %v", resp.StatusCode, len(data), resp.ContentLength, err)
			}
			if !bytes.Equal(data, content[:len(data)]) || len(data) > sealed.ChunkPlainSize {
				t.Fatalf("bytes past the damaged chunk's start were sent: %d", len(data))
			}
			// The handler aborts the response (http.ErrAbortHandler), so that
			// no transport ends it as if it were whole; so does a range that
			// reaches the damage, and a range short of it is served whole.
			for _, c := range []struct{ rng string }{{""}, {"bytes=1000-"}, {fmt.Sprintf("bytes=%d-%d", sealed.ChunkPlainSize-5, sealed.ChunkPlainSize+5)}} {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/api/v1/files/"+later.ID+"/content", nil)
				req.Header.Set("Authorization", "Bearer "+w.viewer)
				if c.rng != "" {
					req.Header.Set("Range", c.rng)
				}
				if p := serveRecovering(w.srv.API.Handler(), rec, req); p != http.ErrAbortHandler {
					t.Fatalf("range %q: the handler ended with %v, want http.ErrAbortHandler", c.rng, p)
				}
				if rec.Body.Len() > sealed.ChunkPlainSize {
					t.Fatalf("range %q: %d bytes written", c.rng, rec.Body.Len())
				}
			}
			req, _ = http.NewRequest("GET", w.srv.URL+"/api/v1/files/"+later.ID+"/content", nil)
			req.Header.Set("Authorization", "Bearer "+w.viewer)
			req.Header.Set("Range", "bytes=1000-2000")
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 206 || !bytes.Equal(data, content[1000:2001]) {
				t.Fatalf("a range short of the damage: %d, %d bytes, %v", resp.StatusCode, len(data), err)
			}
		})
	}
}

// serveRecovering serves req with h and returns what it panicked with, if
// anything.
func serveRecovering(h http.Handler, w http.ResponseWriter, req *http.Request) (p any) {
	defer func() { p = recover() }()
	h.ServeHTTP(w, req)
	return nil
}

// A client that stops reading a download is cut once the stall allowed
// passes, rather than holding the connection and the server's buffers for
// ever; the server goes on serving.
func TestStalledDownloadIsCut(t *testing.T) {
	const stall = 250 * time.Millisecond
	srv := testserver.New(t, "sqlite", testserver.Options{HTTP: httpapi.Config{DownloadStall: stall}})
	srv.Bootstrap(t, "Acme", "owner@acme.test", refPassword)
	w := &refWorld{srv: srv, owner: refLogin(t, srv.URL, "owner@acme.test")}
	w.binder = refID(t, refDo(t, "POST", srv.URL+"/api/v1/binders", w.owner, []byte(`{"title":"Deal room"}`)))
	// Far more than the socket buffers of both ends hold.
	content := make([]byte, 64<<20)
	f := uploadFile(t, w, w.owner, "big.bin", content)
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/files/"+f.ID+"/content", nil)
		req.Header.Set("Authorization", "Bearer "+w.owner)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("download: %v", err)
		}
		return resp
	}

	resp := get()
	// The client reads nothing for ten stalls: the server's writes wait on
	// full socket buffers until the stall cuts them.
	time.Sleep(10 * stall)
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(data) >= len(content) {
		t.Fatalf("a stalled download went on: %d of %d bytes, %v", len(data), len(content), err)
	}

	resp = get()
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != int64(len(content)) {
		t.Fatalf("a download read promptly: %d of %d bytes, %v", n, len(content), err)
	}
}
