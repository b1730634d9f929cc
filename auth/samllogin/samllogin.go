// Package samllogin signs users in through an organisation's SAML 2.0
// identity provider, as a service provider: SP-initiated login with the
// HTTP-Redirect binding, responses through the HTTP-POST binding, and
// (when allowed) IdP-initiated login. Every check of a response —
// signatures, audience, recipient, destination, validity window,
// InResponseTo, replay — is github.com/crewjam/saml's; nothing of XML
// signature or the protocol is written here.
package samllogin

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// Limits on what is read from identity providers.
const (
	MaxMetadata = 1 << 20   // an IdP's metadata document
	MaxResponse = 256 << 10 // a SAMLResponse, base64-encoded
)

// Config is one identity provider as an organisation registered it, and
// this server's side of it.
type Config struct {
	IDPMetadata       []byte // the IdP's metadata XML
	EntityID          string // this service provider's entity id (its metadata URL)
	ACSURL            string // where responses are posted
	SLOURL            string // where the IdP's logout requests arrive ("" for none)
	Key               *rsa.PrivateKey
	Certificate       *x509.Certificate
	AllowIDPInitiated bool
	// ReplayCache records accepted assertions so that each is accepted
	// once; it must be shared by every node.
	ReplayCache saml.AssertionReplayCache
}

// SSOURL is the IdP's HTTP-Redirect sign-on service in its metadata.
func SSOURL(md *saml.EntityDescriptor) string {
	sp := saml.ServiceProvider{IDPMetadata: md}
	return sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
}

// ParseMetadata reads an IdP's metadata and checks it describes an IdP
// that signs: an IDPSSODescriptor with an HTTP-Redirect SSO endpoint and a
// signing certificate.
func ParseMetadata(data []byte) (*saml.EntityDescriptor, error) {
	if len(data) > MaxMetadata {
		return nil, fmt.Errorf("the metadata is larger than %d bytes", MaxMetadata)
	}
	md, err := samlsp.ParseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("the metadata is not SAML metadata: %w", err)
	}
	if len(md.IDPSSODescriptors) == 0 {
		return nil, errors.New("the metadata describes no identity provider (IDPSSODescriptor)")
	}
	sp := saml.ServiceProvider{IDPMetadata: md}
	if sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) == "" {
		return nil, errors.New("the identity provider has no HTTP-Redirect SingleSignOnService")
	}
	signs := false
	for _, d := range md.IDPSSODescriptors {
		for _, k := range d.KeyDescriptors {
			if k.Use == "" || k.Use == "signing" {
				signs = signs || len(k.KeyInfo.X509Data.X509Certificates) > 0
			}
		}
	}
	if !signs {
		return nil, errors.New("the metadata names no signing certificate")
	}
	return md, nil
}

// NewKey makes this server's key and self-signed certificate for one
// identity provider (to sign requests and receive encrypted assertions).
func NewKey(entityID string, now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: truncate(entityID, 64)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// EncodeKey and DecodeKey turn a key into PEM bytes and back.
func EncodeKey(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(k))})
}

// DecodeKey reads a key EncodeKey wrote.
func DecodeKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("samllogin: no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("samllogin: not an RSA key")
	}
	return rk, nil
}

// EncodeCert and DecodeCert turn a certificate into PEM text and back.
func EncodeCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// DecodeCert reads a certificate EncodeCert wrote.
func DecodeCert(s string) (*x509.Certificate, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		return nil, errors.New("samllogin: no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err) // marshalling an RSA key made here cannot fail
	}
	return b
}

// Provider is this server as the service provider of one IdP.
type Provider struct {
	sp saml.ServiceProvider
}

// New returns the service provider for c.
func New(c Config) (*Provider, error) {
	md, err := ParseMetadata(c.IDPMetadata)
	if err != nil {
		return nil, err
	}
	entity, err := url.Parse(c.EntityID)
	if err != nil {
		return nil, err
	}
	acs, err := url.Parse(c.ACSURL)
	if err != nil {
		return nil, err
	}
	var slo url.URL
	if c.SLOURL != "" {
		u, err := url.Parse(c.SLOURL)
		if err != nil {
			return nil, err
		}
		slo = *u
	}
	return &Provider{sp: saml.ServiceProvider{SloURL: slo, LogoutBindings: []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		EntityID: c.EntityID, Key: c.Key, Certificate: c.Certificate, MetadataURL: *entity, AcsURL: *acs,
		IDPMetadata: md, AllowIDPInitiated: c.AllowIDPInitiated, ReplayCache: c.ReplayCache,
		AuthnNameIDFormat:                saml.UnspecifiedNameIDFormat,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		RejectUnknownConditions:          true,
		RequireSignedResponseForCBC:      true,
	}}, nil
}

// Metadata is this service provider's metadata XML, for the IdP.
func (p *Provider) Metadata() ([]byte, error) {
	return xml.MarshalIndent(p.sp.Metadata(), "", "  ")
}

// AuthRequest is an SP-initiated sign-in: where the browser goes, and the
// request's ID, which the response must answer (InResponseTo).
type AuthRequest struct {
	URL string
	ID  string
}

// Start makes an authentication request carrying relayState.
func (p *Provider) Start(relayState string) (*AuthRequest, error) {
	req, err := p.sp.MakeAuthenticationRequest(p.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return nil, err
	}
	u, err := req.Redirect(relayState, &p.sp)
	if err != nil {
		return nil, err
	}
	return &AuthRequest{URL: u.String(), ID: req.ID}, nil
}

// Identity is who the IdP says signed in: the subject's NameID (with its
// format) and the attributes, by name and by friendly name.
type Identity struct {
	NameID       string
	NameIDFormat string
	Attrs        map[string][]string
}

// ErrMalformed is wrapped by errors about a response that is not even a
// well-formed base64 XML document, and ErrTooLarge by those about one over
// MaxResponse; other errors mean the IdP did not vouch for the sign-in (a
// bad signature, another audience, expired, replayed…).
var (
	ErrMalformed = errors.New("samllogin: malformed response")
	ErrTooLarge  = errors.New("samllogin: response too large")
)

// Finish checks a posted SAMLResponse (base64) against the requests this
// sign-in may answer and returns the identity it asserts. With requestIDs,
// the response must answer one of them; without, it is an IdP-initiated
// sign-in, accepted only when the provider allows them.
func (p *Provider) Finish(samlResponse string, requestIDs []string) (*Identity, error) {
	if len(samlResponse) > MaxResponse {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, MaxResponse)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(samlResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrMalformed)
	}
	var probe struct{}
	if err := xml.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("%w: not well-formed XML", ErrMalformed)
	}
	sp := p.sp // a copy, to say whether this one may be unsolicited
	sp.AllowIDPInitiated = p.sp.AllowIDPInitiated && len(requestIDs) == 0
	a, err := sp.ParseXMLResponse(raw, requestIDs, sp.AcsURL)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			return nil, fmt.Errorf("samllogin: %w", ire.PrivateErr)
		}
		return nil, fmt.Errorf("samllogin: %w", err)
	}
	id := &Identity{Attrs: map[string][]string{}}
	if a.Subject != nil && a.Subject.NameID != nil {
		id.NameID, id.NameIDFormat = strings.TrimSpace(a.Subject.NameID.Value), a.Subject.NameID.Format
	}
	// Attributes by Name; by FriendlyName too (e.g. "mail"), when no
	// attribute has that Name and only one has that friendly name.
	friendly := map[string][][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			var values []string
			for _, v := range at.Values {
				if !v.Nil {
					values = append(values, strings.TrimSpace(v.Value))
				}
			}
			if at.Name != "" {
				id.Attrs[at.Name] = append(id.Attrs[at.Name], values...)
			}
			if at.FriendlyName != "" {
				friendly[at.FriendlyName] = append(friendly[at.FriendlyName], values)
			}
		}
	}
	for name, lists := range friendly {
		if _, taken := id.Attrs[name]; !taken && len(lists) == 1 {
			id.Attrs[name] = lists[0]
		}
	}
	return id, nil
}

// Transient reports whether the NameID changes at every sign-in.
func (id *Identity) Transient() bool { return id.NameIDFormat == string(saml.TransientNameIDFormat) }

// LogoutRequest is an IdP's request to end a subject's sessions.
type LogoutRequest struct {
	ID     string
	NameID string
}

// Logout checks a logout request the IdP sent through the browser
// (HTTP-Redirect or HTTP-POST binding): signed by the IdP, addressed
// here, fresh, used once (the library's checks).
func (p *Provider) Logout(r *http.Request) (*LogoutRequest, error) {
	req, err := p.sp.ValidateLogoutRequest(r)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			return nil, fmt.Errorf("samllogin: %w", ire.PrivateErr)
		}
		return nil, fmt.Errorf("samllogin: %w", err)
	}
	out := &LogoutRequest{ID: req.ID}
	if req.NameID != nil {
		out.NameID = strings.TrimSpace(req.NameID.Value)
	}
	return out, nil
}

// LogoutResponse is where to send the browser to tell the IdP the
// sessions are ended.
func (p *Provider) LogoutResponse(requestID, relayState string) (string, error) {
	return p.LogoutResponseStatus(requestID, relayState, true)
}

// LogoutResponseStatus is LogoutResponse, saying whether sessions were
// found and ended (Success) or not (Responder).
func (p *Provider) LogoutResponseStatus(requestID, relayState string, ended bool) (string, error) {
	status := saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}
	if !ended {
		status.StatusCode.Value = saml.StatusResponder
	}
	u, err := p.sp.MakeRedirectLogoutResponseWithStatus(requestID, relayState, status)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
