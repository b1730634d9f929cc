package atrium

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Org is an organisation: the business that owns binders and users.
type Org struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Settings  OrgSettings `json:"settings"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// OrgSettings are an organisation's choices. Unknown keys are refused when
// settings are written, so a typo never silently does nothing.
type OrgSettings struct {
	// DefaultLocale is the language of mails and pages for users who have
	// not chosen one: "en" or "ja".
	DefaultLocale string `json:"default_locale"`
	// FileSharing lets users upload and download files (features
	// files.upload and files.download).
	FileSharing bool `json:"file_sharing"`
	// Meetings lets users start and join meetings (feature meetings).
	Meetings bool `json:"meetings"`
	// EmailIntoBinders lets users send e-mail into binders (feature
	// email.in).
	EmailIntoBinders bool `json:"email_into_binders"`
	// ClientUsersAllowed lets administrators add and invite client users;
	// when off, those already in keep their access.
	ClientUsersAllowed bool `json:"client_users_allowed"`
	// ClientsCanCreateBinders lets client users create binders of their own
	// (feature binders.create).
	ClientsCanCreateBinders bool `json:"clients_can_create_binders"`
	// ClientsCanInvite lets client users add people to the binders they
	// own (feature members.add).
	ClientsCanInvite bool `json:"clients_can_invite"`
	// ClientsShareOnlyWithManagers limits the internal users a client may
	// add to binders (or start one with) to their relationship managers.
	ClientsShareOnlyWithManagers bool `json:"clients_share_only_with_managers"`
	// ClientToClientContact lets clients add, mention and find other
	// clients.
	ClientToClientContact bool `json:"client_to_client_contact"`
	// ClientsSeeDirectory shows clients every internal user in the
	// directory and user search, rather than only their managers.
	ClientsSeeDirectory bool `json:"clients_see_directory"`
	// UserDeletion is what deleting a user does to what they wrote:
	// "anonymise" (the default) keeps their messages and files,
	// attributed to "Deleted user"; "erase" also erases their messages'
	// text and deletes the files they uploaded.
	UserDeletion string `json:"user_deletion"`
	// MFARequired says whose password sign-ins need a second factor:
	// "none" (the default), "internal", "client" or "all". A user it
	// covers who has none sets one up before their first session.
	MFARequired string `json:"mfa_required"`
	// LoginMethodsInternal and LoginMethodsClient are the ways internal
	// and client users may sign in: "password" and "signature" (an app's
	// signed request). Empty means every way.
	LoginMethodsInternal []string `json:"login_methods_internal"`
	LoginMethodsClient   []string `json:"login_methods_client"`
	// MessageRetentionDays: messages older than this many days are erased
	// (their text removed, their place kept); 0 keeps them.
	MessageRetentionDays int `json:"message_retention_days"`
	// FileRetentionDays: files not changed for this many days are deleted
	// (then purged like any deleted file); 0 keeps them.
	FileRetentionDays int `json:"file_retention_days"`
	// AuditRetentionDays: audit entries older than this many days are
	// removed, the chain's new start vouched for by a signed checkpoint; 0
	// keeps them.
	AuditRetentionDays int `json:"audit_retention_days"`
	// MessageEditWindowMinutes is how long after posting a message can be
	// edited; 0 means no limit.
	MessageEditWindowMinutes int `json:"message_edit_window_minutes"`
	// SessionTTLHours is how long a session lives without use; 0 means the
	// server default.
	SessionTTLHours int `json:"session_ttl_hours"`
	// MaxFileMB bounds one file, in MiB; 0 means the server's limit, and a
	// larger value is held to it.
	MaxFileMB int64 `json:"max_file_mb"`
	// StorageQuotaMB bounds what the organisation stores (every version,
	// deleted files until they are purged), in MiB; 0 means no quota.
	StorageQuotaMB int64 `json:"storage_quota_mb"`
	// BlockedExtensions lists file name endings that cannot be uploaded,
	// such as ".exe"; empty means none. Settings that do not say get
	// DefaultBlockedExtensions.
	BlockedExtensions []string `json:"blocked_extensions"`
}

// DefaultBlockedExtensions are the endings refused unless an organisation
// says otherwise: programs and scripts that run when opened.
var DefaultBlockedExtensions = []string{".bat", ".cmd", ".com", ".exe", ".js", ".jse", ".msi", ".ps1", ".scr", ".vbe", ".vbs", ".wsf"}

// MaxBlockedExtensions bounds the blocked-extension list.
const MaxBlockedExtensions = 100

// Blocked returns the blocked ending of a file name, or "".
func (s OrgSettings) Blocked(name string) string {
	list := s.BlockedExtensions
	if list == nil {
		list = DefaultBlockedExtensions
	}
	// Windows ignores trailing dots and spaces: "a.exe. " opens as a.exe.
	lower := strings.TrimRight(strings.ToLower(name), ". ")
	for _, ext := range list {
		if strings.HasSuffix(lower, ext) {
			return ext
		}
	}
	return ""
}

// Whose sign-ins need a second factor (OrgSettings.MFARequired), besides
// the user kinds.
const (
	MFANone = "none"
	MFAAll  = "all"
)

// Ways of signing in (OrgSettings.LoginMethods*).
const (
	LoginPassword  = "password"
	LoginSignature = "signature"
	LoginOIDC      = "oidc"
	LoginSAML      = "saml"
)

// LoginMethods lists the ways of signing in.
var LoginMethods = []string{LoginPassword, LoginSignature, LoginOIDC, LoginSAML}

// MFARequiredFor reports whether the settings require a second factor of
// users of kind kind.
func (s OrgSettings) MFARequiredFor(kind string) bool {
	return s.MFARequired == MFAAll || s.MFARequired == kind
}

// LoginAllowed reports whether users of kind kind may sign in by method.
func (s OrgSettings) LoginAllowed(kind, method string) bool {
	list := s.LoginMethodsInternal
	if kind == KindClient {
		list = s.LoginMethodsClient
	}
	return len(list) == 0 || slices.Contains(list, method)
}

// What deleting a user does to their content (OrgSettings.UserDeletion).
const (
	UserDeletionAnonymise = "anonymise"
	UserDeletionErase     = "erase"
)

// DefaultOrgSettings are the settings of a new organisation.
func DefaultOrgSettings() OrgSettings {
	return OrgSettings{DefaultLocale: "en", FileSharing: true, Meetings: true, EmailIntoBinders: true,
		ClientUsersAllowed: true, UserDeletion: UserDeletionAnonymise, MFARequired: MFANone, BlockedExtensions: slices.Clone(DefaultBlockedExtensions)}
}

// Validate checks the settings' values.
func (s OrgSettings) Validate() error {
	switch s.DefaultLocale {
	case "en", "ja":
	default:
		return Errorf(EInvalid, "settings.default_locale must be \"en\" or \"ja\"")
	}
	if s.SessionTTLHours < 0 || s.SessionTTLHours > 24*365 {
		return Errorf(EInvalid, "settings.session_ttl_hours must be between 0 and 8760")
	}
	switch s.MFARequired {
	case MFANone, KindInternal, KindClient, MFAAll:
	default:
		return Errorf(EInvalid, "settings.mfa_required must be \"none\", \"internal\", \"client\" or \"all\"")
	}
	for _, list := range [][]string{s.LoginMethodsInternal, s.LoginMethodsClient} {
		for _, m := range list {
			if !slices.Contains(LoginMethods, m) {
				return Errorf(EInvalid, "settings.login_methods_*: %q is not one of %v", m, LoginMethods)
			}
		}
	}
	if s.UserDeletion != UserDeletionAnonymise && s.UserDeletion != UserDeletionErase {
		return Errorf(EInvalid, "settings.user_deletion must be \"anonymise\" or \"erase\"")
	}
	for name, days := range map[string]int{"message_retention_days": s.MessageRetentionDays,
		"file_retention_days": s.FileRetentionDays, "audit_retention_days": s.AuditRetentionDays} {
		if days < 0 || days > 100*366 {
			return Errorf(EInvalid, "settings.%s must be between 0 (keep) and 36600", name)
		}
	}
	if s.MessageEditWindowMinutes < 0 || s.MessageEditWindowMinutes > 60*24*365 {
		return Errorf(EInvalid, "settings.message_edit_window_minutes must be between 0 (no limit) and 525600")
	}
	if s.MaxFileMB < 0 || s.MaxFileMB > 1<<20 || s.StorageQuotaMB < 0 || s.StorageQuotaMB > 1<<40 {
		return Errorf(EInvalid, "settings.max_file_mb and settings.storage_quota_mb must be between 0 and their bounds")
	}
	if len(s.BlockedExtensions) > MaxBlockedExtensions {
		return Errorf(EInvalid, "settings.blocked_extensions may list at most %d endings", MaxBlockedExtensions)
	}
	for _, ext := range s.BlockedExtensions {
		if len(ext) < 2 || len(ext) > 16 || ext[0] != '.' || ext != strings.ToLower(ext) || strings.ContainsAny(ext, "/\\ ") {
			return Errorf(EInvalid, "settings.blocked_extensions: %q is not a lowercase ending such as \".exe\"", ext)
		}
	}
	return nil
}

// MarshalSettings encodes settings for storage.
func (s OrgSettings) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Validate checks an organisation's fields.
func (o *Org) Validate() error {
	if err := CheckText("name", o.Name, MaxNameLen); err != nil {
		return err
	}
	return o.Settings.Validate()
}
