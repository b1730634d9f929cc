package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store/storetest"
)

// TOTP two-factor authentication: enrolment confirmed by a code, sign-ins
// that then need a second factor, codes accepted once, recovery codes
// once, a challenge's attempts bounded, and turning it off.
func TestTOTP(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a, bg := w.a, context.Background()
			now := time.Now()
			a.SetClock(func() time.Time { return now })
			code := func(at time.Time, secret string) string {
				c, err := totp.GenerateCode(secret, at)
				must(t, err)
				return c
			}
			e, err := a.StartTOTP(w.owner)
			must(t, err)
			if e.Secret == "" || e.URL == "" {
				t.Fatalf("enrolment %+v", e)
			}
			if _, err := a.ConfirmTOTP(w.owner, app.ConfirmTOTPInput{Code: "000000", Password: pw}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("a wrong first code: %v", err)
			}
			codes, err := a.ConfirmTOTP(w.owner, app.ConfirmTOTPInput{Code: code(now, e.Secret), Password: pw})
			must(t, err)
			if len(codes) != 10 {
				t.Fatalf("%d recovery codes", len(codes))
			}
			if _, err := a.StartTOTP(w.owner); atrium.ErrorCode(err) != atrium.EConflict {
				t.Fatalf("enrolling twice: %v", err)
			}

			login := func() *app.LoginResult {
				res, err := a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw})
				must(t, err)
				if !res.MFARequired || res.MFAToken == "" || res.Token != "" || res.Session != nil {
					t.Fatalf("a password sign-in with MFA on: %+v", res)
				}
				return res
			}
			// The code of the step just used does not work again.
			res := login()
			if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, Code: code(now, e.Secret)}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("a code used twice: %v", err)
			}
			now = now.Add(30 * time.Second)
			done, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, Code: code(now, e.Secret)})
			must(t, err)
			if done.Token == "" || done.Session == nil {
				t.Fatalf("after the second factor: %+v", done)
			}
			if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, Code: code(now.Add(30*time.Second), e.Secret)}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("a challenge used twice: %v", err)
			}
			// A recovery code, once.
			res = login()
			_, err = a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, RecoveryCode: codes[0]})
			must(t, err)
			res = login()
			if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, RecoveryCode: codes[0]}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("a recovery code used twice: %v", err)
			}
			// Five attempts per challenge: then even the right code fails.
			res = login()
			for range 5 {
				if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, Code: "123456"}); atrium.ErrorCode(err) != atrium.EUnauthorized {
					t.Fatalf("a wrong code: %v", err)
				}
			}
			now = now.Add(30 * time.Second)
			if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, Code: code(now, e.Secret)}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("after five wrong codes: %v", err)
			}
			// An expired challenge fails too.
			res = login()
			now = now.Add(6 * time.Minute)
			if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, Code: code(now, e.Secret)}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("an expired challenge: %v", err)
			}
			if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken}); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("no code at all: %v", err)
			}

			// Turning it off needs the password; then a password is enough.
			if err := a.DisableMFA(w.owner, app.DisableMFAInput{Password: "not the password"}); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("turning MFA off with a wrong password: %v", err)
			}
			must(t, a.DisableMFA(w.owner, app.DisableMFAInput{Password: pw}))
			if res, err := a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw}); err != nil || res.MFARequired || res.Token == "" {
				t.Fatalf("a sign-in with MFA off: %+v %v", res, err)
			}
		})
	}
}

// Wrong second factors are throttled per user across challenges (each
// new one needs only the password), and so are wrong passwords when
// turning two-factor authentication off.
func TestSecondFactorThrottled(t *testing.T) {
	w := newFileWorldConfig(t, "sqlite", func(c *app.Config) { c.AccountFailures = 3 })
	a, bg := w.a, context.Background()
	e, err := a.StartTOTP(w.owner)
	must(t, err)
	first, _ := totp.GenerateCode(e.Secret, time.Now())
	_, err = a.ConfirmTOTP(w.owner, app.ConfirmTOTPInput{Code: first, Password: pw})
	must(t, err)
	challenge := func() string {
		res, err := a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw})
		must(t, err)
		return res.MFAToken
	}
	tok := challenge()
	for i := range 3 {
		if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: tok, Code: "000000"}); atrium.ErrorCode(err) != atrium.EUnauthorized {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	// A fresh challenge does not start the count again.
	if _, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: challenge(), Code: "000000"}); atrium.ErrorCode(err) != atrium.ERateLimited {
		t.Fatalf("a fourth wrong code, in a new challenge: %v", err)
	}
	for i := range 3 {
		if err := a.DisableMFA(w.owner, app.DisableMFAInput{Password: "wrong " + string(rune('a'+i))}); atrium.ErrorCode(err) != atrium.EForbidden {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if err := a.DisableMFA(w.owner, app.DisableMFAInput{Password: pw}); atrium.ErrorCode(err) != atrium.ERateLimited {
		t.Fatalf("turning MFA off after three wrong passwords: %v", err)
	}
	// Every change of second factors checks the password under the same
	// throttle.
	if _, err := a.ConfirmTOTP(w.owner, app.ConfirmTOTPInput{Code: "000000", Password: pw}); atrium.ErrorCode(err) != atrium.ERateLimited {
		t.Fatalf("adding a factor after three wrong passwords: %v", err)
	}
}

// The organisation's login policy: a second factor required of internal
// users (set up at the first sign-in), and the ways each kind may sign in.
func TestLoginPolicy(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			w := newFileWorld(t, dialect, 0)
			a, bg := w.a, context.Background()
			_, err := a.PatchOrgSettings(w.owner, json.RawMessage(`{"mfa_required":"internal","login_methods_client":["signature"]}`))
			must(t, err)
			if _, err := a.PatchOrgSettings(w.owner, json.RawMessage(`{"mfa_required":"sometimes"}`)); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("an unknown MFA requirement: %v", err)
			}
			if _, err := a.PatchOrgSettings(w.owner, json.RawMessage(`{"login_methods_internal":["carrier pigeon"]}`)); atrium.ErrorCode(err) != atrium.EInvalid {
				t.Fatalf("an unknown login method: %v", err)
			}
			// The owner has no second factor yet: the sign-in sets one up.
			res, err := a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw})
			must(t, err)
			if !res.MFARequired || !res.MFAEnrollment || res.Token != "" {
				t.Fatalf("a required second factor, not set up: %+v", res)
			}
			e, err := a.EnrollMFA(bg, res.MFAToken)
			must(t, err)
			code, _ := totp.GenerateCode(e.Secret, time.Now())
			done, err := a.CompleteMFA(bg, app.CompleteMFAInput{MFAToken: res.MFAToken, Code: code})
			must(t, err)
			if done.Token == "" || len(done.RecoveryCodes) != 10 {
				t.Fatalf("the sign-in that set it up: %+v", done)
			}
			res, err = a.Login(bg, app.LoginInput{Email: "o@acme.test", Password: pw})
			must(t, err)
			if !res.MFARequired || res.MFAEnrollment {
				t.Fatalf("the next sign-in: %+v", res)
			}
			// Clients may sign in through an app only: a right password is
			// refused, a wrong one as ever.
			if _, err := a.Login(bg, app.LoginInput{Email: "v@acme.test", Password: pw}); atrium.ErrorCode(err) != atrium.EForbidden {
				t.Fatalf("a client's password sign-in: %v", err)
			}
			if _, err := a.Login(bg, app.LoginInput{Email: "v@acme.test", Password: "wrong password!"}); atrium.ErrorCode(err) != atrium.EUnauthorized {
				t.Fatalf("a client's wrong password: %v", err)
			}
		})
	}
}
