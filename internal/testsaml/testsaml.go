// Package testsaml runs a real SAML 2.0 identity provider for tests:
// github.com/crewjam/saml's samlidp server (the library's own IdP, which
// signs assertions with goxmldsig), on a loopback port, with users and
// service providers registered through its admin API.
package testsaml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/crewjam/saml/samlidp"

	"github.com/atrium-dev/atrium/auth/samllogin"
)

// User is an account at the IdP. Groups are sent as the
// eduPersonAffiliation attribute; Email as mail and as the NameID; Name as cn.
type User struct {
	Name     string
	Password string
	Email    string
	FullName string
	Groups   []string
}

// IdP is a running identity provider.
type IdP struct {
	URL    string
	server *samlidp.Server
	t      testing.TB
}

// Start runs an IdP with these users.
func Start(t testing.TB, users ...User) *IdP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + srv.Listener.Addr().String())
	key, cert, err := samllogin.NewKey(base.String(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := samlidp.New(samlidp.Options{URL: *base, Key: key, Signer: key, Certificate: cert,
		Store: &samlidp.MemoryStore{}, Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s
	srv.Start()
	t.Cleanup(srv.Close)
	idp := &IdP{URL: base.String(), server: s, t: t}
	for _, u := range users {
		pw := u.Password
		idp.put("/users/"+u.Name, "application/json", samlidp.User{Name: u.Name, PlaintextPassword: &pw, Email: u.Email,
			CommonName: u.FullName, Groups: u.Groups})
	}
	return idp
}

// put calls the IdP's admin API.
func (p *IdP) put(path, ctype string, body any) {
	p.t.Helper()
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			p.t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, p.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		p.t.Fatalf("testsaml: PUT %s: %d %s", path, resp.StatusCode, msg)
	}
}

// Metadata is the IdP's metadata XML.
func (p *IdP) Metadata() []byte {
	p.t.Helper()
	resp, err := http.Get(p.URL + "/metadata")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// MetadataURL is where the IdP serves its metadata.
func (p *IdP) MetadataURL() string { return p.URL + "/metadata" }

// spMetadata reads a service provider's metadata from its URL.
func (p *IdP) spMetadata(metadataURL string) []byte {
	p.t.Helper()
	resp, err := http.Get(metadataURL)
	if err != nil {
		p.t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("testsaml: the service provider's metadata: %d %s", resp.StatusCode, md)
	}
	return md
}

// AddServiceProvider registers a service provider by its metadata (read
// from its URL), and a shortcut of the same name for IdP-initiated
// sign-ins to it. With encrypt false, the IdP is not told the service
// provider's encryption key, so its assertions travel signed but in the
// clear (as many IdPs send them).
func (p *IdP) AddServiceProvider(name, metadataURL string, encrypt bool) {
	p.t.Helper()
	md := p.spMetadata(metadataURL)
	if !encrypt {
		md = withoutEncryptionKeys(p.t, md)
	}
	p.put("/services/"+name, "application/samlmetadata+xml", md)
	p.put("/shortcuts/"+name, "application/json", samlidp.Shortcut{Name: name, ServiceProviderID: metadataURL})
}

// AddServiceProviderAs registers, under name, a service provider that
// has the metadata at metadataURL but calls itself entityID: the IdP then
// sends its responses to the same assertion consumer service, for another
// audience. Its assertions travel in the clear.
func (p *IdP) AddServiceProviderAs(name, metadataURL, entityID string) {
	p.t.Helper()
	md := p.spMetadata(metadataURL)
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(withoutEncryptionKeys(p.t, md)); err != nil {
		p.t.Fatal(err)
	}
	doc.Root().CreateAttr("entityID", entityID)
	out, err := doc.WriteToBytes()
	if err != nil {
		p.t.Fatal(err)
	}
	p.put("/services/"+name, "application/samlmetadata+xml", out)
	p.put("/shortcuts/"+name, "application/json", samlidp.Shortcut{Name: name, ServiceProviderID: entityID})
}

// SetClock makes the IdP issue its assertions as if it were at t (the
// zero time: the real clock). Not for use while a sign-in is running.
func (p *IdP) SetClock(t time.Time) {
	if t.IsZero() {
		p.server.IDP.Clock = nil
		return
	}
	p.server.IDP.Clock = dsig.NewFakeClockAt(t)
}

// Post is a form the IdP has the browser post to a service provider.
type Post struct {
	Action       string
	SAMLResponse string
	RelayState   string
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// form reads an HTML form's action and hidden fields.
func form(body []byte) (string, map[string]string) {
	action := ""
	if m := formAction.FindSubmatch(body); m != nil {
		action = html.UnescapeString(string(m[1]))
	}
	fields := map[string]string{}
	for _, m := range formInput.FindAllSubmatch(body, -1) {
		fields[html.UnescapeString(string(m[1]))] = html.UnescapeString(string(m[2]))
	}
	return action, fields
}

// SignIn plays a browser sent to authURL (the IdP's SSO endpoint with a
// request): it fills in the IdP's sign-in form and returns the response the
// IdP then has the browser post, without posting it.
func (p *IdP) SignIn(authURL, user, password string) (*Post, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action, fields := form(body)
	if action == "" {
		return nil, fmt.Errorf("testsaml: no sign-in form (%d): %.300s", resp.StatusCode, body)
	}
	values := url.Values{"user": {user}, "password": {password}}
	for k, v := range fields {
		if k != "user" && k != "password" {
			values.Set(k, v)
		}
	}
	resp, err = c.PostForm(action, values)
	if err != nil {
		return nil, err
	}
	return readPost(resp)
}

// IdPInitiated signs user in at the IdP and starts an IdP-initiated
// sign-in to the service provider registered as name, returning what the
// IdP has the browser post.
func (p *IdP) IdPInitiated(name, user, password string) (*Post, error) {
	post, _, err := p.IdPInitiatedSession(name, user, password)
	return post, err
}

// IdPInitiatedSession is IdPInitiated, and also returns the browser's
// session cookies at the IdP (for Logout).
func (p *IdP) IdPInitiatedSession(name, user, password string) (*Post, []*http.Cookie, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(p.URL+"/login", url.Values{"user": {user}, "password": {password}})
	if err != nil {
		return nil, nil, err
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/login/"+name, nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err = c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	post, err := readPost(resp)
	return post, cookies, err
}

// Logout logs the browser with these cookies out at the IdP, which then
// sends it to each service provider it signed into with a logout request:
// Logout returns where the IdP sends it first.
func (p *IdP) Logout(cookies []*http.Cookie) (string, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/logout", nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return loc, nil
	}
	return "", fmt.Errorf("testsaml: the logout sent the browser nowhere (%d): %.300s", resp.StatusCode, body)
}

func readPost(resp *http.Response) (*Post, error) {
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action, fields := form(body)
	if fields["SAMLResponse"] == "" {
		return nil, errors.New("testsaml: the IdP posted no response: " + strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	return &Post{Action: action, SAMLResponse: fields["SAMLResponse"], RelayState: fields["RelayState"]}, nil
}

// withoutEncryptionKeys removes the keys a service provider's metadata
// offers for encryption.
func withoutEncryptionKeys(t testing.TB, md []byte) []byte {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		t.Fatal(err)
	}
	for _, k := range doc.FindElements("//KeyDescriptor") {
		if use := k.SelectAttrValue("use", ""); use == "" || use == "encryption" {
			k.Parent().RemoveChild(k)
		}
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
