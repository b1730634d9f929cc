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
			})
			a, bg := w.a, context.Background()
			key := testwebauthn.New(testOrigin, testRPID)
			register := func(ctx context.Context, auth *testwebauthn.Authenticator) (*app.RegisteredPasskey, error) {
				opts, err := a.BeginPasskeyRegistration(ctx)
				must(t, err)
				answer, err := auth.Register(opts.Options)
				must(t, err)
				return a.RegisterPasskey(ctx, app.RegisterPasskeyInput{CeremonyID: opts.CeremonyID, Name: "Security key", Credential: answer})
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
			// An answer to an earlier challenge.
			tok = login()
			ask(tok)
			refused("an answer to another challenge", tok, good)
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
			// The right answer, once: asked again, the ceremony is spent.
			tok = login()
			ans := answer(key, ask(tok))
			_, err = a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: tok, WebAuthn: ans})
			must(t, err)

			// Registration answers are checked as well: replayed, or from
			// another origin.
			opts2, err := a.BeginPasskeyRegistration(w.owner)
			must(t, err)
			second := testwebauthn.New("https://atrium.evil.test", testRPID)
			bad, err := second.Register(opts2.Options)
			must(t, err)
			if _, err := a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts2.CeremonyID, Credential: bad}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("a registration from another origin: %v", err)
			}
			if _, err := a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts2.CeremonyID, Credential: bad}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("a registration answered twice: %v", err)
			}
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
			if err := a.DeletePasskey(w.owner, keys[0].ID); atrium.ErrorCode(err) != atrium.EConflict {
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
		if _, err := w.a.RegisterPasskey(w.owner, app.RegisterPasskeyInput{CeremonyID: opts.CeremonyID, Credential: answer}); err != nil {
			t.Fatalf("passkey %d: %v", i+1, err)
		}
	}
	if _, err := w.a.BeginPasskeyRegistration(w.owner); atrium.ErrorCode(err) != atrium.EConflict {
		t.Fatalf("a twenty-first passkey: %v", err)
	}
}
