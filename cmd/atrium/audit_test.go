package main

import (
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
