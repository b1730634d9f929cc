package integration_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// TestFeaturePermissions: an administrator switches a feature off for one
// client through the SDK; the client sees it in Me and is refused at
// once, and gets it back the same way. Organisation settings change one
// by one.
func TestFeaturePermissions(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		acc := call(w.kaiC.Me(ctx)).must(t)
		if !acc.Features[atrium.FeatureMessagesPost] || acc.Features[atrium.FeatureBindersCreate] {
			t.Fatalf("a client's default features: %v", acc.Features)
		}
		p := call(w.anaC.SetPermissions(ctx, w.kai.ID, atrium.Permissions{atrium.FeatureMessagesPost: false})).must(t)
		if p.Effective[atrium.FeatureMessagesPost] {
			t.Fatalf("after switching off: %+v", p)
		}
		_, err := w.kaiC.PostMessage(ctx, w.lobby.ID, client.PostMessageInput{Text: "hello"})
		wantError(t, err, http.StatusForbidden, atrium.EFeatureDisabled)
		if acc := call(w.kaiC.Me(ctx)).must(t); acc.Features[atrium.FeatureMessagesPost] {
			t.Fatal("Me still shows messages.post on")
		}
		_, err = w.kaiC.SetPermissions(ctx, w.kai.ID, atrium.Permissions{})
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		call(w.anaC.SetPermissions(ctx, w.kai.ID, nil)).must(t)
		call(w.kaiC.PostMessage(ctx, w.lobby.ID, client.PostMessageInput{Text: "hello"})).must(t)

		s := call(w.anaC.PatchOrgSettings(ctx, map[string]any{"clients_can_create_binders": true})).must(t)
		if !s.ClientsCanCreateBinders || !s.FileSharing {
			t.Fatalf("settings after the patch: %+v", s)
		}
		call(w.kaiC.CreateBinder(ctx, client.CreateBinderInput{Title: "Kai's"})).must(t)
		if got := call(w.kaiC.GetOrgSettings(ctx)).must(t); !got.ClientsCanCreateBinders {
			t.Fatalf("settings read by a client: %+v", got)
		}
		_, err = w.anaC.PatchOrgSettings(ctx, map[string]any{"clients_can_fly": true})
		wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
	})
}

// TestRelationships: through the SDK, an administrator assigns Kai a
// relationship manager; Kai finds only them in the directory, and the
// explanation names the rule.
func TestRelationships(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		bo := w.srv.CreateUser(t, w.org.ID, "bo@example.com", atrium.KindInternal, password)
		w.srv.CreateUser(t, w.org.ID, "cy@example.com", atrium.KindInternal, password)
		r := call(w.anaC.CreateRelationship(ctx, w.kai.ID, bo.ID)).must(t)
		people := call(w.kaiC.Directory(ctx, "", client.ListOptions{})).must(t)
		got := map[string]bool{}
		for _, p := range people.Items {
			got[p.Email] = true
		}
		if !got["kai@example.com"] || !got["bo@example.com"] || len(got) != 2 {
			t.Fatalf("Kai's directory: %v", got)
		}
		d := call(w.anaC.ExplainContact(ctx, w.kai.ID, bo.ID, atrium.ContactSee)).must(t)
		if !d.Allowed || d.Rule != "relationship_manager" {
			t.Fatalf("explain: %+v", d)
		}
		_, err := w.kaiC.CreateRelationship(ctx, w.kai.ID, bo.ID)
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		if err := w.anaC.DeleteRelationship(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if d := call(w.anaC.ExplainContact(ctx, w.kai.ID, bo.ID, atrium.ContactSee)).must(t); d.Allowed {
			t.Fatalf("explain after the relationship ended: %+v", d)
		}
	})
}

// TestSignatureSSO: an app's backend signs with the SDK's SignSSO; the
// SDK signs its user in, and the same string signed with openssl's
// algorithm (HMAC-SHA256, hex) is what the server expects.
func TestSignatureSSO(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		created := call(w.anaC.CreateAPIClient(ctx, "Portal", "client")).must(t)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := client.SignatureLogin{ClientID: created.ID, UniqueID: "cust-7", Timestamp: ts, Nonce: "nonce-1",
			Email: "cust7@portal.example", Platform: "ios"}
		if err := req.Sign(created.Secret); err != nil {
			t.Fatal(err)
		}
		sdk := newClient(t, w.srv.URL)
		res := call(sdk.LoginWithSignature(ctx, req)).must(t)
		if res.User.Email != "cust7@portal.example" || sdk.Token() == "" {
			t.Fatalf("signed in as %+v", res.User)
		}
		call(sdk.Me(ctx)).must(t)
		_, err := newClient(t, w.srv.URL).LoginWithSignature(ctx, req)
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)
		// A request without a profile signs the four fields alone, as
		// client.SignSSO does (and openssl in the README).
		sig, err := client.SignSSO(created.Secret, created.ID, "cust-7", ts, "nonce-2")
		if err != nil {
			t.Fatal(err)
		}
		again := call(newClient(t, w.srv.URL).LoginWithSignature(ctx, client.SignatureLogin{ClientID: created.ID, UniqueID: "cust-7",
			Timestamp: ts, Nonce: "nonce-2", Signature: sig})).must(t)
		if again.User.ID != res.User.ID {
			t.Fatal("the second sign-in found another user")
		}
	})
}
