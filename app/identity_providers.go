package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth/oidclogin"
	"github.com/atrium-dev/atrium/auth/providerhttp"
	"github.com/atrium-dev/atrium/auth/samllogin"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store"
)

// CreateIdentityProviderInput registers an organisation's identity
// provider: OpenID Connect (issuer, client id and secret) or SAML 2.0
// (the IdP's metadata, as XML or from a URL). RedirectURL and SAMLBase are
// this server's addresses (the HTTP layer fills them in).
type CreateIdentityProviderInput struct {
	Name              string              `json:"name"`
	Protocol          string              `json:"protocol"`
	Provision         string              `json:"provision"`
	Issuer            string              `json:"issuer,omitempty"`
	ClientID          string              `json:"client_id,omitempty"`
	ClientSecret      string              `json:"client_secret,omitempty"`
	Scopes            []string            `json:"scopes,omitempty"`
	IDPMetadataXML    string              `json:"idp_metadata_xml,omitempty"`
	IDPMetadataURL    string              `json:"idp_metadata_url,omitempty"`
	AllowIDPInitiated *bool               `json:"allow_idp_initiated,omitempty"`
	Claims            atrium.ClaimMapping `json:"claims"`
	LinkByEmail       bool                `json:"link_by_email,omitempty"`
	RedirectURL       string              `json:"-"` // the OpenID Connect callback
	SAMLBase          string              `json:"-"` // the SAML endpoints' prefix; the provider's id follows
}

// idpSecretAD binds a wrapped client secret (or SAML key) to its provider.
func idpSecretAD(id string) string { return "atrium/idp-client-secret/v1/" + id }

// maxClientSecret bounds a provider's client secret.
const maxClientSecret = 1024

// CreateIdentityProvider registers an identity provider (administrators
// only). An OpenID provider's discovery document is read now, so that a
// wrong issuer is refused at once; a SAML IdP's metadata is read and
// checked, and this server gets a key of its own for it. Secrets are kept
// encrypted under the organisation's key.
func (a *App) CreateIdentityProvider(ctx context.Context, in CreateIdentityProviderInput) (*store.IdentityProvider, error) {
	act, err := a.adminOf(ctx, "identity_provider.create")
	if err != nil {
		return nil, err
	}
	p, err := in.provider(act)
	if err != nil {
		return nil, err
	}
	var secret []byte
	switch p.Protocol {
	case atrium.ProtocolOIDC:
		secret, err = a.prepareOIDC(ctx, p, in)
	case atrium.ProtocolSAML:
		secret, err = a.prepareSAML(ctx, p, in)
	}
	if err != nil {
		return nil, err
	}
	if len(secret) > 0 {
		fs, err := a.files()
		if err != nil {
			return nil, err
		}
		orgKey, err := a.orgKey(ctx, fs, act.User.OrgID)
		if err != nil {
			return nil, err
		}
		if p.SecretWrapped, err = sealed.Wrap(orgKey, secret, idpSecretAD(p.ID)); err != nil {
			return nil, atrium.Internal("app.CreateIdentityProvider", err)
		}
	}
	err = a.write(ctx, func(w *writer) error {
		p.CreatedAt = w.now
		if err := w.AddIdentityProvider(w.ctx, p); err != nil {
			return err
		}
		return w.audit(p.OrgID, "identity_provider.create", "identity_provider", p.ID,
			p.Protocol+" "+p.Settings.Issuer+p.Settings.IDPEntityID+", provision "+p.Provision)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// prepareOIDC checks an OpenID provider's issuer by reading its discovery
// document, and returns the client secret to keep.
func (a *App) prepareOIDC(ctx context.Context, p *store.IdentityProvider, in CreateIdentityProviderInput) ([]byte, error) {
	if in.IDPMetadataXML != "" || in.IDPMetadataURL != "" || in.AllowIDPInitiated != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "idp_metadata_xml, idp_metadata_url and allow_idp_initiated are SAML settings")
	}
	if err := oidclogin.CheckIssuer(p.Settings.Issuer); err != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "%v", err)
	}
	if _, err := oidclogin.Discover(ctx, a.idps.client, oidclogin.Config{Issuer: p.Settings.Issuer, ClientID: p.Settings.ClientID,
		RedirectURL: in.RedirectURL}); err != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "the issuer's discovery document could not be read: %v", err)
	}
	return []byte(in.ClientSecret), nil
}

// provider checks the input and returns the provider it describes.
func (in CreateIdentityProviderInput) provider(act *atrium.Actor) (*store.IdentityProvider, error) {
	if err := atrium.CheckText("name", strings.TrimSpace(in.Name), atrium.MaxNameLen); err != nil {
		return nil, err
	}
	switch in.Provision {
	case ProvisionClient, ProvisionInternal, ProvisionNone:
	default:
		return nil, atrium.Errorf(atrium.EInvalid, "provision must be \"client\", \"internal\" or \"none\"")
	}
	if len(in.ClientSecret) > maxClientSecret {
		return nil, atrium.Errorf(atrium.EInvalid, "client_secret is at most %d bytes", maxClientSecret)
	}
	if in.Protocol == atrium.ProtocolSAML && in.ClientSecret != "" {
		return nil, atrium.Errorf(atrium.EInvalid, "client_secret is an OpenID Connect setting")
	}
	s := atrium.IdPSettings{Issuer: in.Issuer, ClientID: in.ClientID, Scopes: in.Scopes, Claims: in.Claims, LinkByEmail: in.LinkByEmail,
		IDPMetadataURL: strings.TrimSpace(in.IDPMetadataURL)}
	s.Normalize(in.Protocol)
	if err := s.Validate(in.Protocol); err != nil {
		return nil, err
	}
	return &store.IdentityProvider{ID: atrium.NewID(), OrgID: act.User.OrgID, Protocol: in.Protocol, Name: strings.TrimSpace(in.Name),
		Provision: in.Provision, Settings: s, CreatedBy: act.User.ID}, nil
}

// ListIdentityProviders returns a page of the organisation's providers
// (administrators only), without secrets.
func (a *App) ListIdentityProviders(ctx context.Context, p Page) ([]*store.IdentityProvider, string, error) {
	act, err := a.adminOf(ctx, "identity_provider.list")
	if err != nil {
		return nil, "", err
	}
	after, err := p.afterID()
	if err != nil {
		return nil, "", err
	}
	list, err := a.store.ListIdentityProviders(ctx, act.User.OrgID, after, p.limit()+1)
	if err != nil {
		return nil, "", err
	}
	list, next := trimPage(list, p.limit(), func(p *store.IdentityProvider) string { return p.ID })
	return list, next, nil
}

// DisableIdentityProvider turns a provider off (administrators only):
// sign-ins through it are refused from then on, those in flight too.
func (a *App) DisableIdentityProvider(ctx context.Context, id string) error {
	act, err := a.adminOf(ctx, "identity_provider.disable")
	if err != nil {
		return err
	}
	if !atrium.ValidID(id) {
		return atrium.NotFound("identity provider")
	}
	err = a.write(ctx, func(w *writer) error {
		if err := w.DisableIdentityProvider(w.ctx, act.User.OrgID, id, w.now); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "identity_provider.disable", "identity_provider", id, "")
	})
	if err == nil {
		a.idps.forget(id)
	}
	return a.deny(ctx, err, act.User.OrgID, "identity_provider.disable", "identity_provider", id)
}

// idpCacheTTL is how long a discovered provider (with its signing keys)
// is kept before its discovery document is read again.
const idpCacheTTL = time.Hour

// idpCache keeps discovered providers, per provider and callback address.
type idpCache struct {
	client *http.Client
	mu     sync.Mutex
	m      map[string]cachedIdP
}

type cachedIdP struct {
	p    *oidclogin.Provider
	saml *samllogin.Provider
	at   time.Time
}

func newIdPCache(client *http.Client) *idpCache {
	if client == nil {
		client = providerhttp.Client(nil)
	}
	return &idpCache{client: client, m: map[string]cachedIdP{}}
}

// get returns the discovered provider of p for the callback redirect.
func (c *idpCache) get(ctx context.Context, a *App, p *store.IdentityProvider, redirect string) (*oidclogin.Provider, error) {
	key := p.ID + " " + redirect
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < idpCacheTTL {
		return e.p, nil
	}
	secret, err := a.idpSecret(ctx, p)
	if err != nil {
		return nil, err
	}
	d, err := oidclogin.Discover(ctx, c.client, oidclogin.Config{Issuer: p.Settings.Issuer, ClientID: p.Settings.ClientID,
		ClientSecret: secret, RedirectURL: redirect, Scopes: p.Settings.Scopes})
	if err != nil {
		return nil, atrium.Errorf(atrium.EUnavailable, "the identity provider cannot be reached; try again later")
	}
	c.mu.Lock()
	c.m[key] = cachedIdP{p: d, at: now}
	c.mu.Unlock()
	return d, nil
}

// forget drops a provider's cached entries.
func (c *idpCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k == id || strings.HasPrefix(k, id+" ") {
			delete(c.m, k)
		}
	}
}

// idpSecret unwraps a provider's client secret ("" for a public client).
func (a *App) idpSecret(ctx context.Context, p *store.IdentityProvider) (string, error) {
	if len(p.SecretWrapped) == 0 {
		return "", nil
	}
	fs, err := a.files()
	if err != nil {
		return "", err
	}
	orgKey, err := a.orgKey(ctx, fs, p.OrgID)
	if err != nil {
		return "", err
	}
	secret, err := sealed.Unwrap(orgKey, p.SecretWrapped, idpSecretAD(p.ID))
	if err != nil {
		return "", atrium.Internal("app.idpSecret", err)
	}
	return string(secret), nil
}
