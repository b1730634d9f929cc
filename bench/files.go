package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// FilesResult is the files phase: encrypted upload and download over HTTP
// beside a plain copy to the same disk and the machine's raw AES-256-GCM
// rate, and the server's memory while a large file goes through.
type FilesResult struct {
	// RawSeal and RawOpen are single-core AES-256-GCM rates (MiB/s) of
	// Go's crypto/cipher over 1 MiB segments, measured in this process.
	RawSeal, RawOpen float64
	// Cores is the number of cores the server and the client share.
	Cores int
	Rows  []FileRow
	// BigSize is the file sent for the memory measure; RSSBase the
	// server's resident set before it, RSSUpload and RSSDownload its peak
	// growth while the file went up and came down.
	BigSize                         int64
	RSSBase, RSSUpload, RSSDownload uint64
}

// FileRow is one file size's rates, in MiB/s.
type FileRow struct {
	Size                  int64
	Count                 int
	Upload, Download      float64 // over HTTP, encrypted at rest
	PlainWrite, PlainRead float64 // the same bytes to and from a file on the same disk
	// PlainHTTP is the plain file served over HTTP on loopback by a bare
	// net/http server in the benchmark process (http.ServeContent, which
	// sends with sendfile): the ceiling of any download on this machine.
	PlainHTTP float64
	// BareGCMHTTP is the rate of a bare net/http handler in the benchmark
	// process that sends the file's size in plaintext opened with raw
	// AES-256-GCM from a sealed 1 MiB block in memory, the next MiB opened
	// while the last is written: an encrypted download with nothing but
	// decryption and the socket (no disk, no Tink, no Atrium): on two cores
	// shared with the client, the least work an encrypted download can do.
	BareGCMHTTP float64
	// ServerCPU and ClientCPU are the CPU time the server process and the
	// benchmark (the client) spent in the median download round.
	ServerCPU, ClientCPU time.Duration
	// PlainCPU is the CPU time the benchmark process (the plain server and
	// the client both) spent per GiB of plain file downloaded, over all
	// rounds.
	PlainCPU time.Duration
}

// Ceiling is the fastest (MiB/s) any encrypted download could run on
// cores cores shared with its client, given rawOpen (MiB/s): it must move
// the bytes at least at the plain file's cost (which the kernel sends
// without copying them through user space) and decrypt them at least once,
// and two cores give no more than two seconds of CPU a second.
func (r FileRow) Ceiling(cores int, rawOpen float64) float64 {
	if r.PlainCPU <= 0 || rawOpen <= 0 {
		return 0
	}
	perGiB := r.PlainCPU.Seconds() + 1024/rawOpen // CPU seconds per GiB
	return float64(cores) / perGiB * 1024
}

// ServerRate is the download rate (MiB/s) per core of server CPU time: a
// download's bytes over the CPU time the server spent sending them, what
// one core of the server would send a client that took none of its cores.
func (r FileRow) ServerRate() float64 {
	if r.ServerCPU <= 0 {
		return 0
	}
	return mibps(r.Size*int64(r.Count), r.ServerCPU)
}

// rounds is how many times each rate is measured; the median is kept, so
// that another process's moment on a shared core does not decide it.
const rounds = 5

// fileSizes are the sizes measured, with how many files of each.
var fileSizes = []struct {
	size  int64
	count int
}{{1 << 20, 32}, {1 << 30, 1}}

// bigFile is the size sent for the memory measure.
const bigFile = 2 << 30

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

// runFiles measures files on one server.
func runFiles(ctx context.Context, c *Config, a *api, pid int, w *world, scratch string) (FilesResult, error) {
	res := FilesResult{Cores: runtime.NumCPU()}
	var seals, opens []float64
	gcm := func() {
		seal, open := rawGCM()
		seals, opens = append(seals, seal), append(opens, open)
	}
	gcm()
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	plain, err := servePlain(scratch)
	if err != nil {
		return res, err
	}
	defer plain.Close()
	for _, fs := range fileSizes {
		row, err := measureSize(ctx, hc, a, pid, w, plain, scratch, fs.size, fs.count, gcm)
		if err != nil {
			return res, err
		}
		c.logf("files: %s: upload %.0f MiB/s, download %.0f MiB/s (server %.0f MiB/s per core)", fmtSize(fs.size), row.Upload, row.Download, row.ServerRate())
		res.Rows = append(res.Rows, row)
	}
	res.RawSeal, res.RawOpen = median(seals), median(opens)
	c.logf("files: raw AES-256-GCM %.0f MiB/s sealing, %.0f MiB/s opening (median of %d)", res.RawSeal, res.RawOpen, len(opens))
	res.BigSize = bigFile
	base, err := processRSS(pid)
	if err != nil {
		return res, err
	}
	res.RSSBase = base
	var id string
	res.RSSUpload, err = peakRSS(pid, base, func() error {
		var err error
		id, err = uploadFile(ctx, hc, a.base, w.owner.Token, w.shared, bigFile)
		return err
	})
	if err != nil {
		return res, err
	}
	res.RSSDownload, err = peakRSS(pid, base, func() error {
		return downloadFile(ctx, hc, a.base, w.owner.Token, id, bigFile)
	})
	return res, err
}

// measureSize uploads count files of size bytes, downloads them all
// rounds times (and the same bytes from a plain file), calling between
// rounds, and returns the median of each rate.
func measureSize(ctx context.Context, hc *http.Client, a *api, pid int, w *world, plain *plainServer, scratch string, size int64, count int, between func()) (FileRow, error) {
	row := FileRow{Size: size, Count: count}
	total := size * int64(count)
	var up, pw, pr time.Duration
	ids := make([]string, count)
	for i := range ids {
		start := time.Now()
		id, err := uploadFile(ctx, hc, a.base, w.owner.Token, w.shared, size)
		if err != nil {
			return row, err
		}
		up += time.Since(start)
		ids[i] = id
	}
	type round struct {
		rate           float64
		server, client time.Duration
	}
	var downs []round
	var plains, bares []float64
	var plainCPU time.Duration // over every round
	for range rounds {
		var r round
		s0, err1 := processCPU(pid)
		c0, err2 := processCPU(os.Getpid())
		start := time.Now()
		for _, id := range ids {
			if err := downloadFile(ctx, hc, a.base, w.owner.Token, id, size); err != nil {
				return row, err
			}
		}
		r.rate = mibps(total, time.Since(start))
		s1, err3 := processCPU(pid)
		c1, err4 := processCPU(os.Getpid())
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return row, err
		}
		r.server, r.client = s1-s0, c1-c0
		downs = append(downs, r)
		var ph time.Duration
		for range ids {
			w, r, h, cpu, err := plainCopy(ctx, hc, plain, scratch, size)
			if err != nil {
				return row, err
			}
			pw, pr, ph = pw+w, pr+r, ph+h
			plainCPU += cpu
		}
		plains = append(plains, mibps(total, ph))
		bareStart := time.Now()
		for range ids {
			if err := readAll(ctx, hc, fmt.Sprintf("%s/gcm/%d", plain.base, size), "", size); err != nil {
				return row, fmt.Errorf("bare GCM %w", err)
			}
		}
		bares = append(bares, mibps(total, time.Since(bareStart)))
		between()
	}
	slices.SortFunc(downs, func(a, b round) int { return cmp.Compare(a.rate, b.rate) })
	mid := downs[len(downs)/2]
	row.Upload, row.Download, row.ServerCPU, row.ClientCPU = mibps(total, up), mid.rate, mid.server, mid.client
	row.PlainWrite, row.PlainRead = mibps(total*rounds, pw), mibps(total*rounds, pr)
	row.PlainHTTP, row.BareGCMHTTP = median(plains), median(bares)
	row.PlainCPU = time.Duration(float64(plainCPU) / (float64(total*rounds) / (1 << 30)))
	return row, nil
}

// median is the middle of xs (the upper middle of an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// content is the bytes of a generated file: a random 1 MiB block
// repeated, so that sending a large file costs the benchmark little.
type content struct {
	block []byte
	left  int64
	off   int
}

func newContent(size int64) *content {
	b := make([]byte, 1<<20)
	rand.Read(b)
	return &content{block: b, left: size}
}

func (c *content) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), c.left)], c.block[c.off:])
	c.off = (c.off + n) % len(c.block)
	c.left -= int64(n)
	return n, nil
}

// uploadFile posts a generated file of size bytes as a multipart upload,
// streaming it, and returns the file's id.
func uploadFile(ctx context.Context, hc *http.Client, base, token, binder string, size int64) (string, error) {
	const boundary = "atrium-bench-boundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.bin\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(strings.NewReader(head), newContent(size), strings.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/binders/"+binder+"/files", body)
	if err != nil {
		return "", err
	}
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("upload: %d %.200s", resp.StatusCode, data)
	}
	var f struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return "", err
	}
	return f.ID, nil
}

// downloadFile reads a file's content and checks its length.
func downloadFile(ctx context.Context, hc *http.Client, base, token, id string, size int64) error {
	return readAll(ctx, hc, base+"/api/v1/files/"+id+"/content", token, size)
}

// readAll GETs url, with token if any, and checks the body's length.
func readAll(ctx context.Context, hc *http.Client, url, token string, size int64) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	n, err := discard(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || n != size {
		return fmt.Errorf("download: status %d, %d of %d bytes, %v", resp.StatusCode, n, size, err)
	}
	return nil
}

// downloadBuffer is how much the benchmark's client reads from a
// response at a time. io.Discard would read 8 KiB at a time: on a machine
// whose cores the client shares with the server, its system calls then take
// time the server needs. 256 KiB is what a download tool reads.
const downloadBuffer = 256 << 10

// discard reads r to its end, downloadBuffer bytes at a time, and returns
// how many bytes it read.
func discard(r io.Reader) (int64, error) {
	buf := make([]byte, downloadBuffer)
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// peakRSS runs fn while sampling the server's resident set every 10 ms,
// and returns its peak growth over base.
func peakRSS(pid int, base uint64, fn func() error) (uint64, error) {
	stop := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, err := processRSS(pid); err == nil && rss > peak {
				peak = rss
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := fn()
	close(stop)
	wg.Wait()
	if peak < base {
		return 0, err
	}
	return peak - base, err
}

func fmtSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d B", n)
}
