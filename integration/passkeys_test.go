package integration_test

import (
	"testing"

	"github.com/atrium-dev/atrium/internal/testwebauthn"
)

// TestPasskeySignIn: through the SDK, a user registers a passkey and
// then signs in with the password and the passkey.
func TestPasskeySignIn(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		key := testwebauthn.New("http://localhost", "localhost")
		opts := call(w.kaiC.BeginPasskeyRegistration(ctx)).must(t)
		answer, err := key.Register(opts.Options)
		if err != nil {
			t.Fatal(err)
		}
		p := call(w.kaiC.RegisterPasskey(ctx, opts.RegistrationID, "Kai's key", answer, password)).must(t)
		if len(p.RecoveryCodes) != 10 {
			t.Fatalf("the first passkey: %+v", p)
		}
		c := newClient(t, w.srv.URL)
		res := call(c.Login(ctx, "kai@example.com", password, "phone")).must(t)
		if !res.MFARequired || len(res.MFAMethods) != 1 || res.MFAMethods[0] != "webauthn" {
			t.Fatalf("the sign-in: %+v", res)
		}
		ask := call(c.BeginPasskeySignIn(ctx, res.MFAToken)).must(t)
		signed, err := key.SignIn(ask.Options)
		if err != nil {
			t.Fatal(err)
		}
		done := call(c.CompleteMFAWithPasskey(ctx, res.MFAToken, signed)).must(t)
		if done.User.ID != w.kai.ID || c.Token() == "" {
			t.Fatalf("signed in as %+v", done.User)
		}
		keys := call(c.ListPasskeys(ctx)).must(t)
		if len(keys) != 1 || keys[0].Name != "Kai's key" || keys[0].LastUsedAt == nil {
			t.Fatalf("passkeys: %+v", keys)
		}
	})
}
