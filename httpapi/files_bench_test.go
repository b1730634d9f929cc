package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// BenchmarkDownload reads a 64 MiB encrypted file over HTTP on loopback
// (client and server in this process).
func BenchmarkDownload(b *testing.B) {
	w := newRefWorld(&testing.T{}, "sqlite")
	content := make([]byte, 64<<20)
	rand.Read(content)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", "big.bin")
	part.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/binders/"+w.binder+"/files", &body)
	req.Header.Set("Authorization", "Bearer "+w.editor)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		b.Fatal(err, resp.StatusCode)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
	// The client reads as a download tool does, 256 KiB at a time
	// (io.Discard's own ReadFrom would read 8 KiB at a time).
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		req, _ := http.NewRequest("GET", w.srv.URL+"/api/v1/files/"+id+"/content", nil)
		req.Header.Set("Authorization", "Bearer "+w.editor)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, buf); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
