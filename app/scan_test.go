package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/clamd"
	"github.com/atrium-dev/atrium/clamd/clamdtest"
	"github.com/atrium-dev/atrium/store/storetest"
)

// objects lists the stored objects of a file world.
func (w *fileWorld) objects(t *testing.T) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(w.dir, "blobs", "objects", "*", "*"))
	must(t, err)
	return found
}

// With a scanner, a clean upload is stored; an infected one (new file,
// new version, or resumable upload) is refused with malware_detected, kept
// in quarantine, audited, and never listed or served; a file over the
// scanner's limit and an unreachable scanner store nothing.
func TestUploadsAreScannedForMalware(t *testing.T) {
	scanner := clamdtest.Start(t, clamdtest.Options{MaxStream: "3M"})
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorldWith(t, dialect, func(fs *app.FileStorage) { fs.Scanner = scanner })
			a, ctx := w.a, context.Background()
			clean := make([]byte, 2<<20)
			rand.Read(clean)
			f, err := a.UploadFile(w.owner, w.binder.ID, "report.bin", bytes.NewReader(clean))
			must(t, err)
			if got, err := w.download(t, w.viewer, f.ID); err != nil || !bytes.Equal(got, clean) {
				t.Fatalf("a clean file: %v", err)
			}

			infected := append(bytes.Clone(clean[:1_000_000]), clamdtest.Marker...)
			infected = append(infected, clean[:500_000]...)
			storedBefore, _ := a.Store().OrgStoredBytes(ctx, f.OrgID)
			_, err = a.UploadFile(w.owner, w.binder.ID, "invoice.pdf", bytes.NewReader(infected))
			if atrium.ErrorCode(err) != atrium.EMalware || !strings.Contains(err.Error(), clamdtest.Signature) {
				t.Fatalf("an infected upload: %v", err)
			}
			_, err = a.UploadVersion(w.owner, f.ID, "report-v2.bin", bytes.NewReader(infected))
			if atrium.ErrorCode(err) != atrium.EMalware {
				t.Fatalf("an infected version: %v", err)
			}
			u, err := a.StartUpload(w.owner, w.binder.ID, "", "big.bin", int64(len(infected)))
			must(t, err)
			// The marker is split between the two parts.
			_, err = a.ContinueUpload(w.owner, u.ID, 0, bytes.NewReader(infected[:1_000_010]))
			must(t, err)
			_, err = a.ContinueUpload(w.owner, u.ID, 1_000_010, bytes.NewReader(infected[1_000_010:]))
			if atrium.ErrorCode(err) != atrium.EMalware {
				t.Fatalf("an infected resumable upload: %v", err)
			}
			if _, err := a.UploadStatus(w.owner, u.ID); atrium.ErrorCode(err) != atrium.ENotFound {
				t.Fatalf("an infected resumable upload goes on: %v", err)
			}

			files, _, err := a.ListFiles(w.owner, w.binder.ID, app.Page{})
			must(t, err)
			if len(files) != 1 || files[0].ID != f.ID || files[0].Version != 1 {
				t.Fatalf("files after the infected uploads: %+v", files)
			}
			q, err := a.Store().ListQuarantined(ctx, f.OrgID, "", 10)
			must(t, err)
			if len(q) != 3 {
				t.Fatalf("quarantined: %d, want 3", len(q))
			}
			names := map[string]string{}
			for _, r := range q {
				names[r.Name] = r.FileID
				if r.Signature != clamdtest.Signature || r.Size != int64(len(infected)) || r.BinderID != w.binder.ID {
					t.Fatalf("quarantine record %+v", r)
				}
			}
			if names["invoice.pdf"] != "" || names["report-v2.bin"] != f.ID || names["big.bin"] != "" || len(names) != 3 {
				t.Fatalf("quarantined names and files: %v", names)
			}
			audit, _ := a.Store().ListAudit(ctx, f.OrgID, "", 100)
			n := 0
			for _, e := range audit {
				if e.Action == "file.quarantine" && strings.Contains(e.Detail, clamdtest.Signature) {
					n++
				}
			}
			if n != 3 {
				t.Fatalf("%d quarantine audit entries, want 3", n)
			}
			if after, _ := a.Store().OrgStoredBytes(ctx, f.OrgID); after <= storedBefore {
				t.Fatalf("the quarantined objects are not counted: %d then %d", storedBefore, after)
			}
			if len(w.objects(t)) != 4 {
				t.Fatalf("objects: %d, want the clean file and three quarantined", len(w.objects(t)))
			}

			// Over the storage quota, an infected file is refused and
			// audited, but its bytes are not kept.
			stored, _ := a.Store().OrgStoredBytes(ctx, f.OrgID)
			_, err = a.PatchOrgSettings(w.owner, json.RawMessage(fmt.Sprintf(`{"storage_quota_mb":%d}`, stored>>20+1)))
			must(t, err)
			big := append(make([]byte, 1<<20), clamdtest.Marker...)
			if _, err := a.UploadFile(w.owner, w.binder.ID, "big.pdf", bytes.NewReader(big)); atrium.ErrorCode(err) != atrium.EMalware {
				t.Fatalf("an infected upload over the quota: %v", err)
			}
			if q, _ := a.Store().ListQuarantined(ctx, f.OrgID, "", 10); len(q) != 3 || len(w.objects(t)) != 4 {
				t.Fatalf("over the quota: %d quarantined, %d objects", len(q), len(w.objects(t)))
			}
			audit, _ = a.Store().ListAudit(ctx, f.OrgID, "", 200)
			if last := audit[len(audit)-1]; last.Action != "file.quarantine" || !strings.Contains(last.Detail, "not kept") {
				t.Fatalf("the last audit entry: %+v", last)
			}
			_, err = a.PatchOrgSettings(w.owner, json.RawMessage(`{"storage_quota_mb":0}`))
			must(t, err)

			// Over the scanner's limit: refused, nothing kept.
			_, err = a.UploadFile(w.owner, w.binder.ID, "huge.bin", bytes.NewReader(make([]byte, 4<<20)))
			if atrium.ErrorCode(err) != atrium.ETooLarge {
				t.Fatalf("a file over the scanner's limit: %v", err)
			}
			if len(w.objects(t)) != 4 {
				t.Fatalf("an unscanned file was kept")
			}

			// Housekeeping purges the quarantine after the retention.
			later := time.Now().Add(app.DefaultConfig().FileRetention + time.Hour)
			a.SetClock(func() time.Time { return later })
			must(t, a.Housekeep(ctx))
			if q, _ := a.Store().ListQuarantined(ctx, f.OrgID, "", 10); len(q) != 0 {
				t.Fatalf("quarantine after the retention: %d", len(q))
			}
			if objs := w.objects(t); len(objs) != 1 || filepath.Base(objs[0]) != f.BlobID {
				t.Fatalf("objects after the purge: %v", objs)
			}
		})
	}
}

func TestUnreachableScannerRefusesUploads(t *testing.T) {
	down, err := clamd.New("unix:" + t.TempDir() + "/clamd.sock")
	must(t, err)
	w := newFileWorldWith(t, "sqlite", func(fs *app.FileStorage) { fs.Scanner = down })
	_, err = w.a.UploadFile(w.owner, w.binder.ID, "a.txt", strings.NewReader("hello"))
	if atrium.ErrorCode(err) != atrium.EUnavailable {
		t.Fatalf("an upload with the scanner down: %v", err)
	}
	if objs := w.objects(t); len(objs) != 0 {
		t.Fatalf("objects stored: %v", objs)
	}
}
