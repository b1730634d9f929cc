package app

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/store"
)

// CreateOrgInput bootstraps an organisation with its owner.
type CreateOrgInput struct {
	Name          string
	OwnerEmail    string
	OwnerName     string
	OwnerPassword string
}

// CreateOrg creates an organisation and its owner, an internal user with
// the owner role. It needs no actor: it is the command line's and the
// one-time setup page's.
func (a *App) CreateOrg(ctx context.Context, in CreateOrgInput) (*atrium.Org, *atrium.User, error) {
	now := a.now()
	o := &atrium.Org{ID: atrium.NewID(), Name: strings.TrimSpace(in.Name), Settings: atrium.DefaultOrgSettings(), CreatedAt: now, UpdatedAt: now}
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	name := in.OwnerName
	if strings.TrimSpace(name) == "" {
		name, _, _ = strings.Cut(in.OwnerEmail, "@")
	}
	u := &atrium.User{ID: atrium.NewID(), OrgID: o.ID, Email: in.OwnerEmail, Name: name, Kind: atrium.KindInternal,
		Role: atrium.OrgRoleOwner, Status: atrium.StatusActive, CreatedAt: now, UpdatedAt: now}
	if err := a.prepareUser(ctx, u, in.OwnerPassword, true); err != nil {
		return nil, nil, err
	}
	err := a.write(ctx, func(w *writer) error {
		if err := w.CreateOrg(ctx, o); err != nil {
			return err
		}
		if err := w.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := w.audit(o.ID, "org.create", "org", o.ID, o.Name); err != nil {
			return err
		}
		return w.audit(o.ID, "user.create", "user", u.ID, u.Kind+" "+u.Role)
	})
	if err != nil {
		return nil, nil, err
	}
	return o, u, nil
}

// prepareUser validates a new user and hashes their password, if any.
func (a *App) prepareUser(ctx context.Context, u *atrium.User, password string, required bool) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if password == "" && !required {
		return nil
	}
	if err := atrium.ValidatePassword(password); err != nil {
		return err
	}
	h, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return atrium.Internal("app.prepareUser", err)
	}
	u.PasswordHash = h
	return nil
}

// CreateUserInput is a new user of an organisation. Without a password the
// user is invited: the result carries a one-time invitation token.
type CreateUserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name,omitempty"`
	Kind     string `json:"kind"`
	Role     string `json:"role,omitempty"`
	Password string `json:"password,omitempty"`
}

// CreatedUser is a new user, and the invitation when one was made.
type CreatedUser struct {
	*atrium.User
	Invitation *InvitationToken `json:"invitation,omitempty"`
}

// ForReplay leaves the invitation token out of what is kept to answer a
// retried request: the token is shown once, and is never stored in clear.
func (c *CreatedUser) ForReplay() any { return &CreatedUser{User: c.User} }

// InvitationToken is shown once, to the administrator who invited.
type InvitationToken struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
	// Link is the page where the invited user chooses their password,
	// to send them by e-mail (filled by the HTTP layer).
	Link string `json:"link,omitempty"`
}

// CreateUser adds a user to the actor's organisation (administrators only).
func (a *App) CreateUser(ctx context.Context, in CreateUserInput) (*CreatedUser, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, a.deny(ctx, atrium.Errorf(atrium.EForbidden, "only organisation administrators can create users"),
			act.User.OrgID, "user.create", "user", "")
	}
	hash, err := a.hashIfGiven(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	return idempotent(a, ctx, "user.create", in, func(w *writer) (*CreatedUser, error) {
		return a.createUser(w, act.User.OrgID, in, hash)
	})
}

// CreateUserAsSystem adds a user to an organisation from the command line.
func (a *App) CreateUserAsSystem(ctx context.Context, orgID string, in CreateUserInput) (*CreatedUser, error) {
	if !atrium.ValidID(orgID) {
		return nil, atrium.NotFound("organisation")
	}
	hash, err := a.hashIfGiven(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var out *CreatedUser
	err = a.write(ctx, func(w *writer) (err error) {
		if _, err := w.GetOrg(ctx, orgID); err != nil {
			return err
		}
		out, err = a.createUser(w, orgID, in, hash)
		return err
	})
	return out, err
}

// hashIfGiven validates and hashes a new user's password, if one is given,
// before any transaction opens: hashing takes tens of milliseconds and must
// not hold the writer.
func (a *App) hashIfGiven(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", nil
	}
	if err := atrium.ValidatePassword(password); err != nil {
		return "", err
	}
	h, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return "", atrium.Internal("app.hashIfGiven", err)
	}
	return h, nil
}

func (a *App) createUser(w *writer, orgID string, in CreateUserInput, hash string) (*CreatedUser, error) {
	return a.createUserWith(w, orgID, in, hash, true)
}

// createUserWith makes a user; without a password hash, they are invited
// when invite is set, and otherwise active with no password (they sign in
// another way, through an app's signature, say).
func (a *App) createUserWith(w *writer, orgID string, in CreateUserInput, hash string, invite bool) (*CreatedUser, error) {
	ctx := w.ctx
	name := in.Name
	if strings.TrimSpace(name) == "" {
		name, _, _ = strings.Cut(in.Email, "@")
	}
	role := in.Role
	if role == "" {
		role = atrium.OrgRoleMember
	}
	if role == atrium.OrgRoleOwner {
		return nil, atrium.Errorf(atrium.EInvalid, "an organisation has one owner; use admin or member")
	}
	u := &atrium.User{ID: atrium.NewID(), OrgID: orgID, Email: in.Email, Name: strings.TrimSpace(name), Kind: in.Kind,
		Role: role, Status: atrium.StatusActive, CreatedAt: w.now, UpdatedAt: w.now}
	if hash == "" && invite {
		u.Status = atrium.StatusInvited
	}
	u.PasswordHash = hash
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if u.Kind == atrium.KindClient {
		o, err := w.GetOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		if !o.Settings.ClientUsersAllowed {
			return nil, &atrium.Error{Code: atrium.EFeatureDisabled, Message: "client users are switched off in this organisation (client_users_allowed)"}
		}
	}
	if err := w.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := w.audit(orgID, "user.create", "user", u.ID, u.Kind+" "+u.Role); err != nil {
		return nil, err
	}
	out := &CreatedUser{User: u}
	if hash == "" && invite {
		token, hash := auth.NewToken()
		inv := &store.Invitation{TokenHash: hash, UserID: u.ID, CreatedBy: w.actorID(), CreatedAt: w.now,
			ExpiresAt: w.now.Add(a.cfg.InvitationTTL)}
		if err := w.CreateInvitation(ctx, inv); err != nil {
			return nil, err
		}
		out.Invitation = &InvitationToken{Token: token, ExpiresAt: inv.ExpiresAt.Format("2006-01-02T15:04:05.000Z07:00")}
	}
	return out, nil
}

func (w *writer) actorID() string {
	if act := atrium.ActorFrom(w.ctx); act != nil {
		return act.User.ID
	}
	return ""
}

// AcceptInvitationInput sets the password of an invited user.
type AcceptInvitationInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// AcceptInvitation activates an invited user with the password they chose.
// Unknown, used and expired tokens all get ENotFound.
func (a *App) AcceptInvitation(ctx context.Context, in AcceptInvitationInput) (*atrium.User, error) {
	if err := atrium.ValidatePassword(in.Password); err != nil {
		return nil, err
	}
	if !auth.ValidTokenShape(in.Token) {
		return nil, atrium.NotFound("invitation")
	}
	hash := auth.HashToken(in.Token)
	h, err := a.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, atrium.Internal("app.AcceptInvitation", err)
	}
	var u *atrium.User
	err = a.write(ctx, func(w *writer) error {
		inv, err := w.GetInvitation(ctx, hash)
		if err != nil {
			return err
		}
		if ok, err := w.UseInvitation(ctx, hash, w.now); err != nil || !ok || w.now.After(inv.ExpiresAt) {
			if err != nil {
				return err
			}
			return atrium.NotFound("invitation")
		}
		if u, err = w.GetUserForUpdate(ctx, inv.UserID); err != nil {
			return err
		}
		if u.Status != atrium.StatusInvited {
			return atrium.NotFound("invitation")
		}
		u.PasswordHash, u.Status, u.UpdatedAt = h, atrium.StatusActive, w.now
		if err := w.UpdateUser(ctx, u); err != nil {
			return err
		}
		return w.audit(u.OrgID, "user.accept_invitation", "user", u.ID, "")
	})
	return u, err
}

// ListUsers returns a page of the actor's organisation's users
// (administrators only).
func (a *App) ListUsers(ctx context.Context, p Page) ([]*atrium.User, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, "", a.deny(ctx, atrium.Errorf(atrium.EForbidden, "only organisation administrators can list users"),
			act.User.OrgID, "user.list", "org", act.User.OrgID)
	}
	return pageAfterID(p, func(after string, limit int) ([]*atrium.User, error) {
		return a.store.ListUsers(ctx, act.User.OrgID, after, limit)
	}, func(u *atrium.User) string { return u.ID })
}

// UpdateUserInput changes a user; nil fields stay as they are.
type UpdateUserInput struct {
	Name   *string `json:"name,omitempty"`
	Role   *string `json:"role,omitempty"`
	Status *string `json:"status,omitempty"`
}

// UpdateUser changes a user of the actor's organisation (administrators
// only). Deactivating a user ends all their sessions at once, on every node.
func (a *App) UpdateUser(ctx context.Context, id string, in UpdateUserInput) (*atrium.User, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, a.deny(ctx, atrium.Errorf(atrium.EForbidden, "only organisation administrators can change users"),
			act.User.OrgID, "user.update", "user", id)
	}
	var u *atrium.User
	err = a.write(ctx, func(w *writer) error {
		if u, err = a.orgUserForUpdate(w, act.User.OrgID, id); err != nil {
			return err
		}
		return a.applyUserUpdate(w, act.User, u, in)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "user.update", "user", id)
	}
	a.sessions.clear()
	return u, nil
}

// orgUser loads a user of the organisation; users of other organisations
// are not found.
func (a *App) orgUser(ctx context.Context, q store.Queries, orgID, id string) (*atrium.User, error) {
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("user")
	}
	u, err := q.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.OrgID != orgID {
		return nil, atrium.NotFound("user")
	}
	return u, nil
}

// orgUserForUpdate loads a user of the organisation to change it, locking
// the row on PostgreSQL.
func (a *App) orgUserForUpdate(w *writer, orgID, id string) (*atrium.User, error) {
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("user")
	}
	u, err := w.GetUserForUpdate(w.ctx, id)
	if err != nil {
		return nil, err
	}
	if u.OrgID != orgID {
		return nil, atrium.NotFound("user")
	}
	return u, nil
}

func (a *App) applyUserUpdate(w *writer, by, u *atrium.User, in UpdateUserInput) error {
	if err := canAdminister(by, u); err != nil {
		return err
	}
	if u.ID == by.ID && in.Status != nil && *in.Status != u.Status {
		return atrium.Errorf(atrium.EForbidden, "you cannot change your own status; ask another administrator")
	}
	if in.Status != nil && *in.Status == atrium.StatusDeleted {
		return atrium.Errorf(atrium.EInvalid, "status can be set to active or deactivated; delete a user with DELETE /users/{id}")
	}
	if u.Status == atrium.StatusDeleted {
		return atrium.NotFound("user")
	}
	if u.Role == atrium.OrgRoleOwner && (in.Role != nil && *in.Role != atrium.OrgRoleOwner || in.Status != nil && *in.Status != atrium.StatusActive) {
		return atrium.Errorf(atrium.EForbidden, "the organisation owner cannot be demoted or deactivated")
	}
	if in.Role != nil && *in.Role == atrium.OrgRoleOwner && u.Role != atrium.OrgRoleOwner {
		return atrium.Errorf(atrium.EInvalid, "an organisation has one owner; use admin or member")
	}
	wasActive := u.Status == atrium.StatusActive
	if in.Name != nil {
		u.Name = strings.TrimSpace(*in.Name)
	}
	if in.Role != nil {
		u.Role = *in.Role
	}
	if in.Status != nil {
		if *in.Status == atrium.StatusInvited && u.Status != atrium.StatusInvited {
			return atrium.Errorf(atrium.EInvalid, "status can be set to active or deactivated")
		}
		if *in.Status == atrium.StatusActive && u.PasswordHash == "" {
			return atrium.Errorf(atrium.EConflict, "an invited user becomes active by accepting the invitation")
		}
		u.Status = *in.Status
	}
	if err := u.Validate(); err != nil {
		return err
	}
	u.UpdatedAt = w.now
	if err := w.UpdateUser(w.ctx, u); err != nil {
		return err
	}
	if err := w.audit(u.OrgID, "user.update", "user", u.ID, ""); err != nil {
		return err
	}
	if wasActive && u.Status == atrium.StatusDeactivated {
		if err := w.cutOff(u, by); err != nil {
			return err
		}
		if err := w.audit(u.OrgID, "user.deactivate", "user", u.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventUserDeactivated, u.OrgID, "", u.ID, "user", map[string]string{"user_id": u.ID})
	}
	return nil
}

// Me returns the actor's own user and organisation.
func (a *App) Me(ctx context.Context) (*atrium.User, *atrium.Org, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, nil, err
	}
	o, err := a.store.GetOrg(ctx, act.User.OrgID)
	if err != nil {
		return nil, nil, err
	}
	return act.User, o, nil
}

// NeedsSetup reports whether the server has no organisation yet.
func (a *App) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := a.store.CountOrgs(ctx)
	return n == 0, err
}
