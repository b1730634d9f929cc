package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/store/storetest"
)

// `atrium audit verify` passes an intact log and names the entry that was
// edited directly in the database.
func TestAuditVerifyCommand(t *testing.T) {
	cfg := storetest.NewConfig(t, "sqlite")
	dir := cfg.DataDir
	if _, err := runCmd(t, "correct horse battery\n", "org", "create", "--data", dir, "--name", "Acme",
		"--owner-email", "o@acme.test", "--owner-password-stdin"); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "", "audit", "checkpoint", "--data", dir)
	var signed struct {
		Signed int    `json:"signed"`
		KeyID  string `json:"key_id"`
	}
	if err != nil || json.Unmarshal([]byte(out), &signed) != nil || signed.Signed != 1 || signed.KeyID == "" {
		t.Fatalf("checkpoint: %s %v", out, err)
	}
	if out, err := runCmd(t, "", "audit", "verify", "--data", dir); err != nil || !strings.Contains(out, `"entries":2`) {
		t.Fatalf("an intact log: %s %v", out, err)
	}
	st := storetest.OpenConfig(t, cfg)
	db, _ := st.Pools()
	var id string
	if err := db.QueryRow(`SELECT id FROM audit_log WHERE seq = 2`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET actor_id = 'someone else' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, err = runCmd(t, "", "audit", "verify", "--data", dir)
	if err == nil || !strings.Contains(out, `"seq":2`) || !strings.Contains(out, id) || !strings.Contains(out, "was altered") {
		t.Fatalf("an edited entry: %s %v", out, err)
	}
}

// `atrium user deactivate|reactivate|delete` act on a user as the
// organisation's owner would.
func TestUserLifecycleCommands(t *testing.T) {
	cfg := storetest.NewConfig(t, "sqlite")
	dir := cfg.DataDir
	out, err := runCmd(t, "correct horse battery\n", "org", "create", "--data", dir, "--name", "Acme",
		"--owner-email", "o@acme.test", "--owner-password-stdin")
	if err != nil {
		t.Fatal(err)
	}
	var org struct {
		OrgID   string `json:"org_id"`
		OwnerID string `json:"owner_id"`
	}
	json.Unmarshal([]byte(out), &org)
	out, err = runCmd(t, "correct horse battery\n", "user", "create", "--data", dir, "--org", org.OrgID,
		"--email", "c@client.test", "--kind", "client", "--password-stdin")
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		UserID string `json:"user_id"`
	}
	json.Unmarshal([]byte(out), &u)
	for _, verb := range []string{"deactivate", "reactivate"} {
		if _, err := runCmd(t, "", "user", verb, "--data", dir, "--id", u.UserID); err != nil {
			t.Fatalf("%s: %v", verb, err)
		}
	}
	if _, err := runCmd(t, "", "user", "deactivate", "--data", dir, "--id", org.OwnerID); err == nil {
		t.Fatal("the owner was deactivated")
	}
	if _, err := runCmd(t, "", "user", "delete", "--data", dir, "--id", u.UserID); err == nil {
		t.Fatal("deleted without --yes")
	}
	if _, err := runCmd(t, "", "user", "delete", "--data", dir, "--id", u.UserID, "--yes"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "", "user", "delete", "--data", dir, "--id", u.UserID, "--yes"); err == nil {
		t.Fatal("deleted twice")
	}
	st := storetest.OpenConfig(t, cfg)
	got, err := st.GetUser(context.Background(), u.UserID)
	if err != nil || got.Status != "deleted" || got.Email == "c@client.test" {
		t.Fatalf("after delete: %+v %v", got, err)
	}
	if out, err := runCmd(t, "", "audit", "verify", "--data", dir); err != nil {
		t.Fatalf("the audit chain after the commands: %s %v", out, err)
	}
}
