// Package testwebauthn is a software authenticator for tests: it answers
// WebAuthn registration and sign-in options as a browser and a security
// key would (ES256 keys, "none" attestation), so that the server's
// passkey ceremonies are exercised with real signatures.
package testwebauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// Authenticator holds one credential.
type Authenticator struct {
	Origin    string // the page's origin the client reports
	RPID      string
	ID        []byte
	Key       *ecdsa.PrivateKey
	SignCount uint32
	UserID    []byte
}

// New makes an authenticator for pages at origin of relying party rpID.
func New(origin, rpID string) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &Authenticator{Origin: origin, RPID: rpID, ID: id, Key: key}
}

// b64 is WebAuthn's base64url.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// clientData is the client's collected data for a ceremony.
func (a *Authenticator) clientData(typ string, challenge protocol.URLEncodedBase64) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": b64(challenge), "origin": a.Origin, "crossOrigin": false})
	return b
}

// authData is the authenticator data: the relying party's hash, flags,
// the counter, and (on registration) the credential.
func (a *Authenticator) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(a.RPID))
	out := append([]byte{}, rp[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, a.SignCount)
	return append(out, attested...)
}

// coseKey is the credential's public key as a COSE_Key (EC2, P-256, ES256).
func (a *Authenticator) coseKey() []byte {
	x, y := make([]byte, 32), make([]byte, 32)
	a.Key.PublicKey.X.FillBytes(x)
	a.Key.PublicKey.Y.FillBytes(y)
	b, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		panic(err)
	}
	return b
}

// Register answers registration options (navigator.credentials.create's
// JSON) with the PublicKeyCredential a browser would send back.
func (a *Authenticator) Register(options []byte) ([]byte, error) {
	var creation protocol.CredentialCreation
	if err := json.Unmarshal(options, &creation); err != nil {
		return nil, err
	}
	if creation.Response.RelyingParty.ID != a.RPID {
		return nil, errors.New("testwebauthn: options for another relying party")
	}
	switch id := creation.Response.User.ID.(type) {
	case string:
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil {
			return nil, err
		}
		a.UserID = b
	case []byte:
		a.UserID = id
	default:
		return nil, errors.New("testwebauthn: no user id in the options")
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.ID)))
	attested = append(attested, a.ID...)
	attested = append(attested, a.coseKey()...)
	auth := a.authData(0x45, attested) // user present, verified, attested credential data
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"id": b64(a.ID), "rawId": b64(a.ID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(a.clientData("webauthn.create", creation.Response.Challenge)),
			"attestationObject": b64(att), "transports": []string{"usb"}}})
}

// SignIn answers sign-in options (navigator.credentials.get's JSON),
// counting the signature.
func (a *Authenticator) SignIn(options []byte) ([]byte, error) {
	var assertion protocol.CredentialAssertion
	if err := json.Unmarshal(options, &assertion); err != nil {
		return nil, err
	}
	a.SignCount++
	return a.Sign(assertion.Response.Challenge, a.Key)
}

// SignWith answers sign-in options with a signature by key (another
// than the credential's: a forgery).
func (a *Authenticator) SignWith(options []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	var assertion protocol.CredentialAssertion
	if err := json.Unmarshal(options, &assertion); err != nil {
		return nil, err
	}
	a.SignCount++
	return a.Sign(assertion.Response.Challenge, key)
}

// Sign answers a challenge, signing with key (the credential's own, or
// another to forge).
func (a *Authenticator) Sign(challenge protocol.URLEncodedBase64, key *ecdsa.PrivateKey) ([]byte, error) {
	auth := a.authData(0x05, nil) // user present, verified
	cd := a.clientData("webauthn.get", challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"id": b64(a.ID), "rawId": b64(a.ID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(auth), "signature": b64(sig),
			"userHandle": b64(a.UserID)}})
}
