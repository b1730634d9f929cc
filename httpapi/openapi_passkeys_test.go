package httpapi_test

import (
	"encoding/json"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/internal/testwebauthn"
)

// passkeys registers a passkey (answered by a software authenticator) for
// a user of its own, and signs them in with it.
func (w *oapiWorld) passkeys() {
	const (
		register = "/api/v1/me/mfa/webauthn/register"
		keys     = "/api/v1/me/mfa/webauthn"
		remove   = "/api/v1/me/mfa/webauthn/{id}/remove"
		ask      = "/api/v1/auth/mfa/webauthn"
		complete = "/api/v1/auth/mfa"
		login    = "/api/v1/auth/login"
	)
	w.srv.CreateUser(w.t, w.org.ID, "keys@acme.test", atrium.KindInternal, oapiPassword)
	tok := w.login("keys@acme.test")
	auth := testwebauthn.New("https://localhost", "localhost")
	begin := func() app.PasskeyOptions {
		return oapiDecode[app.PasskeyOptions](w.t, w.do(oapiCall{method: "POST", path: register, token: tok, want: 200}))
	}
	opts := begin()
	answer, err := auth.Register(opts.Options)
	if err != nil {
		w.t.Fatal(err)
	}
	in := app.RegisterPasskeyInput{CeremonyID: opts.CeremonyID, Name: "Key", Credential: answer, Password: oapiPassword}
	p := oapiDecode[app.RegisteredPasskey](w.t, w.do(oapiCall{method: "POST", path: keys, token: tok, want: 201, body: in}))
	w.do(oapiCall{method: "POST", path: keys, token: tok, want: 400, body: in}) // answered twice
	again := begin()
	in.CeremonyID = again.CeremonyID
	w.do(oapiCall{method: "POST", path: keys, token: tok, want: 400, body: in}) // an answer to another challenge
	w.do(oapiCall{method: "POST", path: keys, token: w.staffTok, want: 400, req: oapiReqAny, body: app.RegisterPasskeyInput{CeremonyID: "x", Credential: answer}})
	w.paginate(keys, nil, tok, 1)
	pw := app.RemovePasskeyInput{Password: oapiPassword}
	w.do(oapiCall{method: "POST", path: remove, args: []string{p.ID}, token: tok, want: 409, body: pw}) // the only second factor
	w.do(oapiCall{method: "POST", path: remove, args: []string{"nope"}, token: tok, want: 404, body: pw})
	w.do(oapiCall{method: "POST", path: remove, args: []string{p.ID}, token: w.staffTok, want: 404, body: pw}) // someone else's
	w.do(oapiCall{method: "POST", path: remove, args: []string{p.ID}, token: tok, want: 403, body: app.RemovePasskeyInput{Password: "not it"}})
	// The same credential again; then a second key, and one removed.
	same := begin()
	dup, err := auth.Register(same.Options)
	if err != nil {
		w.t.Fatal(err)
	}
	w.do(oapiCall{method: "POST", path: keys, token: tok, want: 403, body: app.RegisterPasskeyInput{CeremonyID: same.CeremonyID, Credential: dup, Password: "not it"}})
	w.do(oapiCall{method: "POST", path: keys, token: tok, want: 409, body: app.RegisterPasskeyInput{CeremonyID: same.CeremonyID, Credential: dup, Password: oapiPassword}})
	spare := testwebauthn.New("https://localhost", "localhost")
	second := begin()
	ans2, err := spare.Register(second.Options)
	if err != nil {
		w.t.Fatal(err)
	}
	p2 := oapiDecode[app.RegisteredPasskey](w.t, w.do(oapiCall{method: "POST", path: keys, token: tok, want: 201,
		body: app.RegisterPasskeyInput{CeremonyID: second.CeremonyID, Credential: ans2, Password: oapiPassword}}))
	if len(p2.RecoveryCodes) != 0 {
		w.t.Fatal("a second passkey came with new recovery codes")
	}
	w.do(oapiCall{method: "POST", path: remove, args: []string{p2.ID}, token: tok, want: 204, body: pw})

	res := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: login, want: 200,
		body: app.LoginInput{Email: "keys@acme.test", Password: oapiPassword}}))
	w.do(oapiCall{method: "POST", path: ask, body: MFAToken{"short"}, req: oapiReqAny, want: 400})
	w.do(oapiCall{method: "POST", path: ask, body: MFAToken{res.MFAToken + "x"}, req: oapiReqAny, want: 400})
	o := oapiDecode[app.PasskeyOptions](w.t, w.do(oapiCall{method: "POST", path: ask, body: MFAToken{res.MFAToken}, want: 200}))
	signed, err := auth.SignIn(o.Options)
	if err != nil {
		w.t.Fatal(err)
	}
	w.do(oapiCall{method: "POST", path: complete, want: 200, body: app.CompleteMFAInput{MFAToken: res.MFAToken, WebAuthn: json.RawMessage(signed)}})
	w.do(oapiCall{method: "POST", path: ask, body: MFAToken{res.MFAToken}, want: 401}) // the sign-in is done

	// An account without passkeys is told so.
	plain := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: login, want: 200,
		body: app.LoginInput{Email: "enrol@acme.test", Password: oapiPassword}}))
	if plain.MFAToken != "" {
		w.do(oapiCall{method: "POST", path: ask, body: MFAToken{plain.MFAToken}, want: 409})
	}
}

// MFAToken is the body that names a sign-in waiting for its second factor.
type MFAToken struct {
	MFAToken string `json:"mfa_token"`
}
