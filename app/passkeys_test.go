package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/internal/testwebauthn"
	"github.com/atrium-dev/atrium/store/storetest"
)

const (
	testRPID   = "localhost"
	testOrigin = "https://localhost"
)

// Passkeys as a second factor: registered with a real (software)
// authenticator's answer, then asked for after the password; forged,
// replayed, cloned and misdirected answers are refused.
func TestPasskeys(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorldConfig(t, dialect, func(c *app.Config) {
				c.WebAuthn = app.WebAuthnConfig{RPID: testRPID, Origins: []string{testOrigin}}
				c.AccountFailures = 50 // this test counts many refused answers on purpose
			})
			a, bg := w.a, context.Background()
			key := testwebauthn.New(testOrigin, testRPID)
			register := func(ctx context.Context, auth *testwebauthn.Authenticator) (*app.RegisteredPasskey, error) {
				opts, err := a.BeginPasskeyRegistration(ctx)
				must(t, err)
				answer, err := auth.Register(opts.Options)
				must(t, err)
				return a.RegisterPasskey(ctx, app.RegisterPasskeyInput{CeremonyID: opts.CeremonyID, Name: "Security key", Credential: answer, Password: pw})
			}
			first, err := register(w.owner, key)
			must(t, err)
			if len(first.RecoveryCodes) != 10 || first.Name != "Security key" {
				t.Fatalf("the first passkey: %+v", first)
			}

			login := func() string {
				res, err := a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw})
				must(t, err)
				if !res.MFARequired || len(res.MFAMethods) != 1 || res.MFAMethods[0] != "webauthn" {
					t.Fatalf("a sign-in with a passkey: %+v", res)
				}
				return res.MFAToken
			}
			ask := func(token string) json.RawMessage {
				opts, err := a.BeginPasskeySignIn(bg, token)
				must(t, err)
				return opts.Options
			}
			answer := func(auth *testwebauthn.Authenticator, opts json.RawMessage) json.RawMessage {
				b, err := auth.SignIn(opts)
				must(t, err)
				return b
			}
			tok := login()
			good := answer(key, ask(tok))
			done, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: tok, WebAuthn: good})
			must(t, err)
			if done.Token == "" || done.User.ID == "" {
				t.Fatalf("after the passkey: %+v", done)
			}

			refused := func(what string, token string, ans json.RawMessage) {
				t.Helper()
				if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: token, WebAuthn: ans}); atrium.ErrorCode(err) != atrium.EUnauthorized {
					t.Fatalf("%s: %v", what, err)
				}
			}
			// A fresh answer, but to another sign-in's challenge.
			tok, other1 := login(), login()
			ask(tok)
			refused("an answer to another sign-in's challenge", tok, answer(key, ask(other1)))
			// Signed by another key.
			tok = login()
			opts := ask(tok)
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			forged, err := key.SignWith(opts, other)
			must(t, err)
			refused("a forged signature", tok, forged)
			// From a page of another origin (phishing).
			tok = login()
			phished := *key
			phished.Origin = "https://atrium.evil.test"
			refused("another origin", tok, answer(&phished, ask(tok)))
			// A cloned authenticator: its counter went backwards.
			tok = login()
			clone := *key
			clone.SignCount = 0
			refused("a cloned authenticator", tok, answer(&clone, ask(tok)))
			// The right answer, once: sent again to a new ceremony of the same
			// sign-in, the old challenge is spent.
			tok = login()
			ans := answer(key, ask(tok))
			ask(tok)
			refused("an answer to a challenge asked again", tok, ans)
			ans = answer(key, ask(tok))
			_, err = a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: tok, WebAuthn: ans})
			must(t, err)
			// The same valid answer, twice, to a fresh sign-in of the same
			// challenge cannot happen (the challenge went with the sign-in);
			// to a new sign-in it answers the wrong challenge.
			tok = login()
			ask(tok)
			refused("an answer played again", tok, ans)

			// Registration answers are checked as well: replayed, or from
			// another origin.
			opts2, err := a.BeginPasskeyRegistration(w.owner)
			must(t, err)
			second := testwebauthn.New("https://atrium.evil.test", testRPID)
			bad, err := second.Register(opts2.Options)
			must(t, err)
			if _, err := a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts2.CeremonyID, Credential: bad, Password: pw}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("a registration from another origin: %v", err)
			}
			// A valid answer, twice: the registration is spent.
			opts3, err := a.BeginPasskeyRegistration(w.owner)
			must(t, err)
			spare := testwebauthn.New(testOrigin, testRPID)
			okAnswer, err := spare.Register(opts3.Options)
			must(t, err)
			_, err = a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts3.CeremonyID, Credential: okAnswer, Password: pw})
			must(t, err)
			if _, err := a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts3.CeremonyID, Credential: okAnswer, Password: pw}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("a registration answered twice: %v", err)
			}
			// A registration's id is no sign-in token.
			if _, err := a.BeginPasskeySignIn(bg, opts3.CeremonyID); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("a registration id used as a sign-in: %v", err)
			}
			// Without the password, no factor is added or removed (a
			// stolen session cannot swap them).
			opts4, err := a.BeginPasskeyRegistration(w.owner)
			must(t, err)
			thief, err := testwebauthn.New(testOrigin, testRPID).Register(opts4.Options)
			must(t, err)
			if _, err := a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts4.CeremonyID, Credential: thief, Password: "guess"}); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a passkey added without the password: %v", err)
			}
			spareKeys, err := a.ListPasskeys(w.owner)
			must(t, err)
			if err := a.RemovePasskey(w.owner, spareKeys[1].ID, app.RemovePasskeyInput{Password: "guess"}); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a passkey removed without the password: %v", err)
			}
			must(t, a.RemovePasskey(w.owner, spareKeys[1].ID, app.RemovePasskeyInput{Password: pw}))
			// Someone else cannot register the owner's credential.
			if _, err := register(w.viewer, key); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("another user registering the same credential: %v", err)
			}

			// A TOTP secret started beside the passkey (say, from a stolen
			// session) does not stand in for it before it is confirmed.
			e, err := a.StartTOTP(w.owner)
			must(t, err)
			tok = login()
			code, _ := totp.GenerateCode(e.Secret, time.Now())
			if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: tok, Code: code}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("an unconfirmed TOTP code beside a passkey: %v", err)
			}
			// A recovery code stands in for a lost passkey.
			tok = login()
			_, err = a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: tok, RecoveryCode: first.RecoveryCodes[0]})
			must(t, err)

			// The only second factor is not removed one by one; turning
			// two-factor authentication off (with the password) removes it.
			keys, err := a.ListPasskeys(w.owner)
			must(t, err)
			if len(keys) != 1 || keys[0].LastUsedAt == nil {
				t.Fatalf("passkeys listed: %+v", keys)
			}
			if err := a.RemovePasskey(w.owner, keys[0].ID, app.RemovePasskeyInput{Password: pw}); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("removing the only second factor: %v", err)
			}
			must(t, a.DisableMFA(w.owner, app.DisableMFAInput{Password: pw}))
			if res, err := a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw}); err != nil || res.MFARequired {
				t.Fatalf("a sign-in after MFA was turned off: %+v %v", res, err)
			}
		})
	}
}

// Without the server's public address, passkeys are unavailable, and say so.
func TestPasskeysNeedARelyingParty(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	if _, err := w.a.BeginPasskeyRegistration(w.owner); atrium.ErrorCode(err) != atrium.EUnavailable {
		t.Fatalf("passkeys without a relying party: %v", err)
	}
}

// A user has at most twenty passkeys.
func TestPasskeyLimit(t *testing.T) {
	w := newFileWorldConfig(t, "sqlite", func(c *app.Config) {
		c.WebAuthn = app.WebAuthnConfig{RPID: testRPID, Origins: []string{testOrigin}}
	})
	for i := range 20 {
		opts, err := w.a.BeginPasskeyRegistration(w.owner)
		must(t, err)
		answer, err := testwebauthn.New(testOrigin, testRPID).Register(opts.Options)
		must(t, err)
		if _, err := w.a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts.CeremonyID, Credential: answer, Password: pw}); err != nil {
			t.Fatalf("passkey %d: %v", i+1, err)
		}
	}
	if _, err := w.a.BeginPasskeyRegistration(w.owner); atrium.ErrorCode(err) != atrium.EConflict {
		t.Fatalf("a twenty-first passkey: %v", err)
	}
}
