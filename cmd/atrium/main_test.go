package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// runCmd runs a command line and returns its standard output.
func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

func TestUnknownCommandAndUsage(t *testing.T) {
	if _, err := runCmd(t, "", "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	if _, err := runCmd(t, ""); err == nil {
		t.Fatal("no command accepted")
	}
	out, err := runCmd(t, "", "version")
	if err != nil || !strings.HasPrefix(out, "atrium ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

func TestServeRefusesInsecureConfigurations(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:0"}, "needs TLS"},
		{[]string{"--listen", "192.0.2.1:8080"}, "needs TLS"},
		{[]string{"--listen", ":8080"}, "needs TLS"},
		{[]string{"--tls-cert", "x.pem"}, "go together"},
		{[]string{"--tls-cert", "x", "--tls-key", "y", "--tls-self-signed"}, "not both"},
		{[]string{"--listen", "nonsense"}, "--listen"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--debug-listen", "0.0.0.0:6060"}, "--debug-listen"},
		{[]string{"--behind-proxy", "--trusted-proxy", "not-an-address"}, "--trusted-proxy"},
	}
	for _, c := range cases {
		_, err := runCmd(t, "", append([]string{"serve", "--data", dir}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %v: err %v, want %q", c.args, err, c.want)
		}
	}
}

func TestOrgAndUserCreate(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			cfg := storetest.NewConfig(t, d)
			db := []string{"--data", cfg.DataDir, "--database-url", cfg.URL}
			out, err := runCmd(t, "correct horse battery\n", append([]string{"org", "create", "--name", "Acme",
				"--owner-email", "Ana@Acme.test", "--owner-password-stdin"}, db...)...)
			if err != nil {
				t.Fatalf("org create: %v", err)
			}
			var org struct{ OrgID, OwnerID string }
			if err := json.Unmarshal([]byte(out), &struct {
				OrgID   *string `json:"org_id"`
				OwnerID *string `json:"owner_id"`
			}{&org.OrgID, &org.OwnerID}); err != nil || org.OrgID == "" || org.OwnerID == "" {
				t.Fatalf("org create printed %q", out)
			}
			out, err = runCmd(t, "another passphrase\n", append([]string{"user", "create", "--org", org.OrgID,
				"--email", "c@client.test", "--kind", "client", "--password-stdin"}, db...)...)
			var user struct {
				UserID string `json:"user_id"`
			}
			if err != nil || json.Unmarshal([]byte(out), &user) != nil || user.UserID == "" {
				t.Fatalf("user create: %q %v", out, err)
			}
			st := storetest.OpenConfig(t, cfg)
			u, err := st.GetOrgUserByEmail(context.Background(), org.OrgID, "ana@acme.test")
			if err != nil || u.ID != org.OwnerID || u.Role != "owner" || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
				t.Fatalf("owner stored as %+v, %v", u, err)
			}
			refusals := []struct {
				stdin string
				args  []string
				want  string
			}{
				{"pw\n", []string{"org", "create", "--name", "X", "--owner-email", "x@x.test"}, "required"},
				{"", []string{"org", "create", "--name", "X", "--owner-email", "x@x.test", "--owner-password-stdin"}, "no password"},
				{"short\n", []string{"org", "create", "--name", "X", "--owner-email", "x@x.test", "--owner-password-stdin"}, "at least 10"},
				{"correct horse battery\n", []string{"user", "create", "--org", "01a217ee-2773-743e-a102-b14429ff78c3", "--email", "y@y.test", "--kind", "client", "--password-stdin"}, "not found"},
				{"correct horse battery\n", []string{"user", "create", "--org", org.OrgID, "--email", "y@y.test", "--kind", "robot", "--password-stdin"}, "kind"},
				{"correct horse battery\n", []string{"user", "create", "--org", org.OrgID, "--email", "c@client.test", "--kind", "client", "--password-stdin"}, "already exists"},
			}
			for _, r := range refusals {
				if _, err := runCmd(t, r.stdin, append(r.args, db...)...); err == nil || !strings.Contains(err.Error(), r.want) {
					t.Errorf("%v: err %v, want %q", r.args, err, r.want)
				}
			}
			if n, _ := st.CountOrgs(context.Background()); n != 1 {
				t.Fatalf("refused commands wrote: %d orgs", n)
			}
		})
	}
}

func TestMigrateAndRefuseNewerSchema(t *testing.T) {
	cfg := storetest.NewConfig(t, "sqlite")
	fsys, err := store.MigrationFS("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	out, err := runCmd(t, "", "migrate", "--data", cfg.DataDir)
	if err != nil || !strings.Contains(out, fmt.Sprintf(`"version":%d}`, len(files))) {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, err = runCmd(t, "", "migrate", "--data", cfg.DataDir)
	if err != nil || !strings.Contains(out, `"applied":[]`) {
		t.Fatalf("second migrate: %q %v", out, err)
	}
	st := storetest.OpenConfig(t, cfg)
	if err := st.Tx(context.Background(), func(tx *store.Tx) error {
		return tx.ExecRaw(context.Background(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`)
	}); err != nil {
		t.Fatal(err)
	}
	_, err = runCmd(t, "", "serve", "--data", cfg.DataDir, "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "upgrade atrium") {
		t.Fatalf("serve on a newer schema: %v", err)
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `atrium serve` until the test ends and returns the lines
// it printed once the serving line appears.
func startServe(t *testing.T, args ...string) (out *lockedBuffer, base string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out = &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), pw, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		pw.Close()
	})
	sc := bufio.NewScanner(pr)
	re := regexp.MustCompile(`serving at (\S+)`)
	for sc.Scan() {
		out.Write(append(sc.Bytes(), '\n'))
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			go func() {
				for sc.Scan() {
					out.Write(append(sc.Bytes(), '\n'))
				}
			}()
			return out, base
		}
	}
	t.Fatal("serve printed no serving line")
	return nil, ""
}

func TestServeSetupPageCreatesTheFirstOrganisation(t *testing.T) {
	out, base := startServe(t, "--data", t.TempDir(), "--listen", "127.0.0.1:0")
	var setupURL string
	deadline := time.Now().Add(10 * time.Second)
	for setupURL == "" && time.Now().Before(deadline) {
		if m := regexp.MustCompile(`(http://\S+/setup\?token=\S+)`).FindStringSubmatch(out.String()); m != nil {
			setupURL = m[1]
		}
	}
	if setupURL == "" {
		t.Fatalf("no setup URL printed: %q", out.String())
	}
	if resp, err := http.Get(base + "/setup?token=wrong"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("setup with a wrong token: %v %v", resp.StatusCode, err)
	}
	resp, err := http.Get(setupURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("setup page: %v %v", resp, err)
	}
	resp.Body.Close()
	u, _ := url.Parse(setupURL)
	form := url.Values{"token": {u.Query().Get("token")}, "org_name": {"Acme"}, "owner_email": {"ana@acme.test"},
		"owner_password": {"correct horse battery"}}
	resp, err = http.PostForm(base+"/setup", form)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("setup submit: %v %v", resp.StatusCode, err)
	}
	resp, err = http.PostForm(base+"/setup", form)
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("setup a second time: %v %v", resp.StatusCode, err)
	}
	resp, err = http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"ana@acme.test","password":"correct horse battery"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login as the new owner: %v %v", resp.StatusCode, err)
	}
	for _, h := range []string{"X-Content-Type-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("response lacks %s", h)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
}

func TestServeSelfSignedTLS(t *testing.T) {
	_, base := startServe(t, "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--tls-self-signed")
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("serving at %s", base)
	}
	insecure := func(max uint16) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: max}}}
	}
	resp, err := insecure(0).Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS.Version < tls.VersionTLS12 || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("TLS %x, HSTS %q", resp.TLS.Version, resp.Header.Get("Strict-Transport-Security"))
	}
	if _, err := insecure(tls.VersionTLS11).Get(base + "/healthz"); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
	weak := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true,
		MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}}}
	if _, err := weak.Get(base + "/healthz"); err == nil {
		t.Fatal("a suite without forward secrecy was accepted")
	}
}

func TestEventsCommandPrintsTheStream(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, "correct horse battery\n", "org", "create", "--data", dir, "--name", "Acme",
		"--owner-email", "ana@acme.test", "--owner-password-stdin"); err != nil {
		t.Fatal(err)
	}
	_, base := startServe(t, "--data", dir, "--listen", "127.0.0.1:0")
	post := func(path, token, body string) map[string]any {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	token := post("/api/v1/auth/login", "", `{"email":"ana@acme.test","password":"correct horse battery"}`)["token"].(string)
	binder := post("/api/v1/binders", token, `{"title":"Deal"}`)["id"].(string)

	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"events", "--url", base, "--token-stdin"}, strings.NewReader(token+"\n"), out, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("events: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	// The stream starts "from now" once connected, which this test cannot
	// observe from outside: post until a message shows up on it.
	for i := 0; !strings.Contains(out.String(), "seen on the stream") && time.Now().Before(deadline); i++ {
		post("/api/v1/binders/"+binder+"/messages", token, fmt.Sprintf(`{"text":"seen on the stream %d"}`, i))
		time.Sleep(20 * time.Millisecond) // pacing the posts, not synchronisation
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	var frame struct {
		Cursor, Type string
		BinderID     string `json:"binder_id"`
	}
	if err := json.Unmarshal([]byte(line), &frame); err != nil || frame.Type != "message.created" || frame.BinderID != binder || frame.Cursor == "" {
		t.Fatalf("events printed %q (%v)", out.String(), err)
	}
	if _, err := runCmd(t, "", "events", "--url", base); err == nil {
		t.Fatal("events without a token accepted")
	}
}
