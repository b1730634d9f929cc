package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store/storetest"
)

func sign(secret, clientID, uniqueID, ts, nonce string) string {
	return signIn(secret, app.SignatureLoginInput{ClientID: clientID, UniqueID: uniqueID, Timestamp: ts, Nonce: nonce})
}

// signIn returns in's signature under secret.
func signIn(secret string, in app.SignatureLoginInput) string {
	key, _ := hex.DecodeString(secret)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in.StringToSign()))
	return hex.EncodeToString(m.Sum(nil))
}

// An app signs its users in with a signature: the first sign-in makes the
// user, later ones find them; every kind of bad request is refused.
func TestSignatureSSO(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a, bg := w.a, context.Background()
			c, err := a.CreateAPIClient(w.owner, app.CreateAPIClientInput{Name: "Portal", Provision: app.ProvisionClient})
			must(t, err)
			if len(c.Secret) != 64 || c.ID == "" {
				t.Fatalf("the new app: %+v", c)
			}
			list, _, err := a.ListAPIClients(w.owner, app.Page{})
			must(t, err)
			if len(list) != 1 || len(list[0].SecretWrapped) == 0 {
				t.Fatalf("apps listed: %+v", list)
			}
			now := strconv.FormatInt(time.Now().Unix(), 10)
			req := func(unique, ts, nonce string) app.SignatureLoginInput {
				in := app.SignatureLoginInput{ClientID: c.ID, UniqueID: unique, Timestamp: ts, Nonce: nonce,
					Email: "kim@portal.test", Name: "Kim"}
				in.Signature = signIn(c.Secret, in)
				return in
			}
			first, err := a.LoginWithSignature(bg, req("cust-42", now, "n1"))
			must(t, err)
			if first.User.Kind != atrium.KindClient || first.User.Email != "kim@portal.test" || first.Token == "" {
				t.Fatalf("the first sign-in: %+v", first.User)
			}
			again, err := a.LoginWithSignature(bg, req("cust-42", now, "n2"))
			must(t, err)
			if again.User.ID != first.User.ID {
				t.Fatal("the second sign-in found another user")
			}
			if _, err := a.Login(bg, app.LoginInput{Email: "kim@portal.test", Password: "anything at all"}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("a password login of a signature-only user: %v", err)
			}

			tampered := req("cust-42", now, "n3")
			tampered.UniqueID = "cust-43"
			old := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
			future := strconv.FormatInt(time.Now().Add(6*time.Minute).Unix(), 10)
			upper := req("cust-42", now, "n4")
			upper.Signature = "A" + upper.Signature[1:]
			other, err := a.CreateAPIClient(w.owner, app.CreateAPIClientInput{Name: "Other", Provision: app.ProvisionNone})
			must(t, err)
			unknownToOther := app.SignatureLoginInput{ClientID: other.ID, UniqueID: "x", Timestamp: now, Nonce: "n5",
				Signature: sign(other.Secret, other.ID, "x", now, "n5")}
			newline := req("cust\n42", now, "n6")
			otherEmail := req("cust-44", now, "n10")
			otherEmail.Email = "mallory@evil.test"
			unsignedProfile := req("cust-45", now, "n11")
			unsignedProfile.Signature = sign(c.Secret, c.ID, "cust-45", now, "n11")
			for name, c := range map[string]struct {
				in   app.SignatureLoginInput
				code string
			}{
				"a replayed nonce":                 {req("cust-42", now, "n1"), atrium.EUnauthorized},
				"a changed field":                  {tampered, atrium.EUnauthorized},
				"a timestamp 6 minutes old":        {req("cust-42", old, "n7"), atrium.EUnauthorized},
				"a timestamp 6 minutes ahead":      {req("cust-42", future, "n8"), atrium.EUnauthorized},
				"an uppercase signature":           {upper, atrium.EInvalid},
				"a newline in a field":             {newline, atrium.EInvalid},
				"an email changed after signing":   {otherEmail, atrium.EUnauthorized},
				"an email not signed":              {unsignedProfile, atrium.EUnauthorized},
				"an unknown user, no provisioning": {unknownToOther, atrium.EForbidden},
			} {
				if _, err := a.LoginWithSignature(bg, c.in); atrium.ErrorCode(err) != c.code {
					t.Fatalf("%s: %v, want %s", name, err, c.code)
				}
			}
			// A request refused after its signature was checked (the address
			// is someone's already) has spent its nonce all the same.
			taken := app.SignatureLoginInput{ClientID: c.ID, UniqueID: "cust-46", Timestamp: now, Nonce: "n12", Email: "v@acme.test"}
			taken.Signature = signIn(c.Secret, taken)
			if _, err := a.LoginWithSignature(bg, taken); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("provisioning an address already taken: %v", err)
			}
			if _, err := a.LoginWithSignature(bg, taken); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("the refused request played again: %v", err)
			}
			// A policy that does not let clients in through apps makes no user.
			_, err = a.PatchOrgSettings(w.owner, json.RawMessage(`{"login_methods_client":["password"]}`))
			must(t, err)
			before, _, err := a.ListUsers(w.owner, app.Page{Limit: 100})
			must(t, err)
			if _, err := a.LoginWithSignature(bg, req("cust-47", now, "n13")); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("provisioning a client the policy refuses: %v", err)
			}
			after, _, err := a.ListUsers(w.owner, app.Page{Limit: 100})
			must(t, err)
			if len(after) != len(before) {
				t.Fatalf("a refused sign-in made a user: %d users, then %d", len(before), len(after))
			}
			must(t, a.RevokeAPIClient(w.owner, c.ID))
			if _, err := a.LoginWithSignature(bg, req("cust-42", now, "n9")); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("a revoked app: %v", err)
			}
			if _, err := a.CreateAPIClient(w.viewer, app.CreateAPIClientInput{Name: "Mine", Provision: app.ProvisionNone}); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a client registering an app: %v", err)
			}
			if _, err := a.CreateAPIClient(w.owner, app.CreateAPIClientInput{Name: "Bad", Provision: "admin"}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("an unknown provisioning: %v", err)
			}
		})
	}
}

// Failed signature sign-ins are throttled per address, like logins.
func TestSignatureSSOThrottled(t *testing.T) {
	w := newFileWorldConfig(t, "sqlite", func(c *app.Config) { c.IPFailures = 2 })
	c, err := w.a.CreateAPIClient(w.owner, app.CreateAPIClientInput{Name: "Portal", Provision: app.ProvisionClient})
	must(t, err)
	ctx := atrium.WithClientInfo(context.Background(), atrium.ClientInfo{IP: "203.0.113.9"})
	bad := app.SignatureLoginInput{ClientID: c.ID, UniqueID: "x", Timestamp: strconv.FormatInt(time.Now().Unix(), 10),
		Nonce: "n", Signature: sign(c.Secret, c.ID, "y", "0", "n")}
	for i := range 2 {
		if _, err := w.a.LoginWithSignature(ctx, bad); atrium.ErrorCode(err) != atrium.EUnauthorized {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := w.a.LoginWithSignature(ctx, bad); atrium.ErrorCode(err) != atrium.ERateLimited {
		t.Fatalf("after two failures: %v", err)
	}
}

// An app that makes no users signs in the users an administrator linked
// to its unique ids; links are refused where they would take over an
// account.
func TestLinkIdentity(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	a, bg := w.a, context.Background()
	c, err := a.CreateAPIClient(w.owner, app.CreateAPIClientInput{Name: "Portal", Provision: app.ProvisionNone})
	must(t, err)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	signIn := func(unique, nonce string) (*app.LoginResult, error) {
		in := app.SignatureLoginInput{ClientID: c.ID, UniqueID: unique, Timestamp: now, Nonce: nonce}
		in.Signature = signIn(c.Secret, in)
		return a.LoginWithSignature(bg, in)
	}
	if _, err := signIn("cust-1", "n1"); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("an unlinked id of an app that makes no users: %v", err)
	}
	viewer, _, err := a.Me(w.viewer)
	must(t, err)
	outsider, _, err := a.Me(w.outside)
	must(t, err)
	e, err := a.LinkIdentity(w.owner, viewer.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "cust-1"})
	must(t, err)
	if e.Kind != "api_client" || e.UserID != viewer.ID {
		t.Fatalf("the link: %+v", e)
	}
	res, err := signIn("cust-1", "n2")
	must(t, err)
	if res.User.ID != viewer.ID {
		t.Fatalf("signed in as %+v", res.User)
	}
	if _, err := a.LinkIdentity(w.owner, viewer.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "cust-1"}); atrium.ErrorCode(err) != atrium.EConflict {
		t.Fatalf("an id linked twice: %v", err)
	}
	for name, c := range map[string]struct {
		ctx  context.Context
		user string
		in   app.LinkIdentityInput
		code string
	}{
		"by a client user":       {w.viewer, viewer.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "x"}, atrium.EForbidden},
		"from an unknown source": {w.owner, viewer.ID, app.LinkIdentityInput{Source: atrium.NewID(), ExternalID: "x"}, atrium.EInvalid},
		"to another org's user":  {w.owner, outsider.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "x"}, atrium.ENotFound},
		"with a line break":      {w.owner, viewer.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "a\nb"}, atrium.EInvalid},
	} {
		if _, err := a.LinkIdentity(c.ctx, c.user, c.in); atrium.ErrorCode(err) != c.code {
			t.Fatalf("a link %s: %v, want %s", name, err, c.code)
		}
	}
	// A user with a second factor is not linked by someone else.
	e2, err := a.StartTOTP(w.viewer)
	must(t, err)
	code, _ := totp.GenerateCode(e2.Secret, time.Now())
	_, err = a.ConfirmTOTP(w.viewer, app.ConfirmTOTPInput{Code: code, Password: pw})
	must(t, err)
	if _, err := a.LinkIdentity(w.owner, viewer.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "cust-2"}); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("a link to a user with a second factor: %v", err)
	}
	list, err := a.ListIdentities(w.owner, viewer.ID)
	must(t, err)
	if len(list) != 1 || list[0].ExternalID != "cust-1" {
		t.Fatalf("identities: %+v", list)
	}
	must(t, a.UnlinkIdentities(w.owner, viewer.ID, c.ID))
	if _, err := signIn("cust-1", "n3"); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("an unlinked id: %v", err)
	}
	if err := a.UnlinkIdentities(w.owner, viewer.ID, c.ID); atrium.ErrorCode(err) != atrium.ENotFound {
		t.Fatalf("unlinking twice: %v", err)
	}

	// Deleting the user takes their second factors and links with them.
	_, err = a.LinkIdentity(w.owner, viewer.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "cust-3"})
	if atrium.ErrorCode(err) != atrium.EForbidden { // the viewer has TOTP: link as the owner instead
		t.Fatalf("a link to a user with a second factor: %v", err)
	}
	must(t, a.DisableMFA(w.viewer, app.DisableMFAInput{Password: pw}))
	_, err = a.LinkIdentity(w.owner, viewer.ID, app.LinkIdentityInput{Source: c.ID, ExternalID: "cust-3"})
	must(t, err)
	e3, err := a.StartTOTP(w.viewer)
	must(t, err)
	code3, _ := totp.GenerateCode(e3.Secret, time.Now())
	_, err = a.ConfirmTOTP(w.viewer, app.ConfirmTOTPInput{Code: code3, Password: pw})
	must(t, err)
	must(t, a.DeleteUser(w.owner, viewer.ID))
	if ids, err := a.Store().UserIdentities(bg, viewer.ID); err != nil || len(ids) != 0 {
		t.Fatalf("a deleted user's links: %+v %v", ids, err)
	}
	if m, err := a.Store().GetMFA(bg, viewer.ID); err != nil || m != nil {
		t.Fatalf("a deleted user's second factor: %+v %v", m, err)
	}
	if _, err := signIn("cust-3", "n4"); atrium.ErrorCode(err) != atrium.EForbidden {
		t.Fatalf("a deleted user's app id: %v", err)
	}
}
