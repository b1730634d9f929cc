package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/blob"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/store/storetest"
)

// keysList runs `atrium keys list` and returns key id → organisation keys.
func keysList(t *testing.T, dir string) (map[string]int, string) {
	t.Helper()
	out, err := runCmd(t, "", "keys", "list", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Keys []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
			OrgKeys int    `json:"org_keys"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("keys list: %v: %s", err, out)
	}
	m, current := map[string]int{}, ""
	for _, k := range res.Keys {
		m[k.ID] = k.OrgKeys
		if k.Current {
			current = k.ID
		}
	}
	return m, current
}

func TestKeysRotateAndRetire(t *testing.T) {
	cfg := storetest.NewConfig(t, "sqlite")
	dir := cfg.DataDir
	// An organisation with a file, so that its key is wrapped under the
	// first master key.
	st := storetest.OpenConfig(t, cfg)
	keys, _, err := keyring.LoadOrCreate(filepath.Join(dir, "master.keys"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	acfg := app.DefaultConfig()
	acfg.Files = app.FileStorage{Blobs: blobs, Keys: keys}
	a := app.New(st, auth.NewHasher(auth.TestParams, 1), slog.New(slog.NewTextHandler(io.Discard, nil)), acfg, nil)
	_, owner, err := a.CreateOrg(context.Background(), app.CreateOrgInput{Name: "Acme", OwnerEmail: "o@acme.test", OwnerPassword: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := atrium.WithActor(context.Background(), &atrium.Actor{User: owner, SessionID: atrium.NewID()})
	b, err := a.CreateBinder(ctx, app.CreateBinderInput{Title: "Deal"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.UploadFile(ctx, b.ID, "a.txt", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}

	list, first := keysList(t, dir)
	if len(list) != 1 || list[first] != 1 {
		t.Fatalf("before rotation: %v", list)
	}
	if _, err := runCmd(t, "", "keys", "retire", "--data", dir, first); err == nil || !strings.Contains(err.Error(), "still wraps") {
		t.Fatalf("retiring a key in use: %v", err)
	}
	out, err := runCmd(t, "", "keys", "rotate", "--data", dir)
	if err != nil || !strings.Contains(out, `"rewrapped":1`) {
		t.Fatalf("rotate: %s %v", out, err)
	}
	list, second := keysList(t, dir)
	if second == first || list[first] != 0 || list[second] != 1 {
		t.Fatalf("after rotation: %v, current %s", list, second)
	}
	if out, err := runCmd(t, "", "keys", "rotate", "--resume", "--data", dir); err != nil || !strings.Contains(out, `"rewrapped":0`) {
		t.Fatalf("resume with nothing left: %s %v", out, err)
	}
	if _, err := runCmd(t, "", "keys", "retire", "--data", dir, second); err == nil {
		t.Fatal("the current key was retired")
	}
	if _, err := runCmd(t, "", "keys", "retire", "--data", dir, first); err != nil {
		t.Fatal(err)
	}
	if list, _ := keysList(t, dir); len(list) != 1 {
		t.Fatalf("after retiring: %v", list)
	}
	// The file is still readable through a fresh keyring.
	fresh, err := keyring.Load(filepath.Join(dir, "master.keys"))
	if err != nil {
		t.Fatal(err)
	}
	acfg.Files.Keys = fresh
	a2 := app.New(st, auth.NewHasher(auth.TestParams, 1), slog.New(slog.NewTextHandler(io.Discard, nil)), acfg, nil)
	if err := a2.CheckMasterKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOrgEraseFiles(t *testing.T) {
	cfg := storetest.NewConfig(t, "sqlite")
	out, err := runCmd(t, "correct horse battery\n", "org", "create", "--data", cfg.DataDir, "--name", "Acme",
		"--owner-email", "o@acme.test", "--owner-password-stdin")
	if err != nil {
		t.Fatal(err)
	}
	var org struct {
		OrgID string `json:"org_id"`
	}
	if err := json.Unmarshal([]byte(out), &org); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "", "org", "erase-files", "--data", cfg.DataDir, "--org", org.OrgID); err == nil {
		t.Fatal("erased without --yes")
	}
	if out, err := runCmd(t, "", "org", "erase-files", "--data", cfg.DataDir, "--org", org.OrgID, "--yes"); err != nil || !strings.Contains(out, org.OrgID) {
		t.Fatalf("erase: %s %v", out, err)
	}
	if _, err := runCmd(t, "", "org", "erase-files", "--data", cfg.DataDir, "--org", org.OrgID, "--yes"); err == nil {
		t.Fatal("erased twice")
	}
}
