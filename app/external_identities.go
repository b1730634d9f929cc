package app

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// LinkIdentityInput names an identity to link to a user: an app's
// unique id (Source an API client) or a provider's subject (Source an
// identity provider: the OpenID Connect sub, or the SAML NameID).
type LinkIdentityInput struct {
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
}

// LinkIdentity makes an app's unique id or a provider's subject sign a
// user in (administrators only): how users of apps and providers that do
// not provision users get in. Administrators link only users they may
// administer, and, but for themselves, only users without a second factor
// (a link signs in without it).
func (a *App) LinkIdentity(ctx context.Context, userID string, in LinkIdentityInput) (*store.ExternalIdentity, error) {
	act, err := a.adminOf(ctx, "user.link")
	if err != nil {
		return nil, err
	}
	target, err := a.identityTarget(ctx, act, userID)
	if err != nil {
		return nil, err
	}
	ext := strings.TrimSpace(in.ExternalID)
	if ext == "" || len(ext) > maxSSOField || strings.ContainsAny(ext, "\r\n") {
		return nil, atrium.Errorf(atrium.EInvalid, "external_id is required, at most %d bytes, on one line", maxSSOField)
	}
	if !atrium.ValidID(in.Source) {
		return nil, atrium.Errorf(atrium.EInvalid, "source must be an API client's or an identity provider's id")
	}
	e := &store.ExternalIdentity{Source: in.Source, ExternalID: ext, UserID: target.ID}
	err = a.write(ctx, func(w *writer) error {
		e.CreatedAt = w.now
		// Decided under the user's lock, so that a factor added meanwhile
		// is seen.
		if target.ID != act.User.ID {
			if has, err := w.hasSecondFactor(target.ID); err != nil {
				return err
			} else if has {
				return atrium.Errorf(atrium.EForbidden, "this user has a second factor, which a link would bypass")
			}
		}
		if c, err := w.GetAPIClient(w.ctx, in.Source); err == nil && c.OrgID == act.User.OrgID && c.RevokedAt == nil {
			e.Kind = "api_client"
			if err := w.AddExternalIdentity(w.ctx, c.ID, ext, target.ID, w.now); err != nil {
				return err
			}
		} else if p, err := w.GetIdentityProvider(w.ctx, in.Source); err == nil && p.OrgID == act.User.OrgID && p.DisabledAt == nil {
			e.Kind = "identity_provider"
			subject := ext
			if p.Protocol == atrium.ProtocolSAML {
				subject = "nameid:" + ext
			}
			if err := w.AddIdPIdentity(w.ctx, p.ID, subject, target.ID, w.now); err != nil {
				return err
			}
		} else {
			return atrium.Errorf(atrium.EInvalid, "source is not an API client or identity provider of this organisation")
		}
		return w.audit(act.User.OrgID, "user.link", "user", target.ID, e.Kind+" "+e.Source)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// identityTarget returns a user of the actor's organisation that the
// actor may administer.
func (a *App) identityTarget(ctx context.Context, act *atrium.Actor, userID string) (*atrium.User, error) {
	if !atrium.ValidID(userID) {
		return nil, atrium.NotFound("user")
	}
	u, err := a.store.GetUser(ctx, userID)
	if atrium.ErrorCode(err) == atrium.ENotFound || err == nil && u.OrgID != act.User.OrgID {
		return nil, atrium.NotFound("user")
	}
	if err != nil {
		return nil, err
	}
	if err := canAdminister(act.User, u); err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "user.link", "user", u.ID)
	}
	return u, nil
}

// ListIdentities returns the app ids and provider subjects that sign a
// user in (administrators only).
func (a *App) ListIdentities(ctx context.Context, userID string) ([]*store.ExternalIdentity, error) {
	act, err := a.adminOf(ctx, "user.identities")
	if err != nil {
		return nil, err
	}
	if _, err := a.identityTarget(ctx, act, userID); err != nil {
		return nil, err
	}
	list, err := a.store.UserIdentities(ctx, userID)
	for _, e := range list {
		e.ExternalID = strings.TrimPrefix(e.ExternalID, "nameid:")
	}
	return list, err
}

// UnlinkIdentities removes the identities of one source (an API client
// or an identity provider) from a user (administrators only).
func (a *App) UnlinkIdentities(ctx context.Context, userID, source string) error {
	act, err := a.adminOf(ctx, "user.unlink")
	if err != nil {
		return err
	}
	target, err := a.identityTarget(ctx, act, userID)
	if err != nil {
		return err
	}
	if !atrium.ValidID(source) {
		return atrium.NotFound("identity")
	}
	return a.write(ctx, func(w *writer) error {
		if err := w.UnlinkIdentities(w.ctx, target.ID, source); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "user.unlink", "user", target.ID, source)
	})
}
