package atrium

import (
	"slices"
	"sort"
)

// Features a user may be allowed or refused. Each has an organisation
// default (see OrgSettings) that an administrator can override for one
// user.
const (
	FeatureFilesUpload   = "files.upload"   // upload files and new versions
	FeatureFilesDownload = "files.download" // download files, versions and thumbnails
	FeatureBindersCreate = "binders.create" // create binders
	FeatureMembersAdd    = "members.add"    // add people to binders
	FeatureMessagesPost  = "messages.post"  // post messages
	FeatureMessagesEdit  = "messages.edit"  // edit one's own messages
	FeatureMeetings      = "meetings"       // start and join meetings
	FeatureEmailIn       = "email.in"       // send e-mail into binders
)

// Features lists every feature name, sorted.
var Features = func() []string {
	f := []string{FeatureFilesUpload, FeatureFilesDownload, FeatureBindersCreate, FeatureMembersAdd,
		FeatureMessagesPost, FeatureMessagesEdit, FeatureMeetings, FeatureEmailIn}
	sort.Strings(f)
	return f
}()

// MaxPermissions bounds a permission object: one entry per feature.
var MaxPermissions = len(Features)

// Permissions are one user's overrides of their organisation's defaults:
// feature name → on or off. A feature not named follows the default.
type Permissions map[string]bool

// Validate refuses a feature name that does not exist.
func (p Permissions) Validate() error {
	for name := range p {
		if !slices.Contains(Features, name) {
			return Errorf(EInvalid, "%q is not a feature; features are %v", truncateName(name), Features)
		}
	}
	return nil
}

func truncateName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// FeatureDefaults are an organisation's defaults for a user of kind kind.
func FeatureDefaults(s OrgSettings, kind string) map[string]bool {
	client := kind == KindClient
	return map[string]bool{
		FeatureFilesUpload:   s.FileSharing,
		FeatureFilesDownload: s.FileSharing,
		FeatureBindersCreate: !client || s.ClientsCanCreateBinders,
		FeatureMembersAdd:    !client || s.ClientsCanInvite,
		FeatureMessagesPost:  true,
		FeatureMessagesEdit:  true,
		FeatureMeetings:      s.Meetings,
		FeatureEmailIn:       s.EmailIntoBinders,
	}
}

// EffectiveFeatures is what u may use: the organisation's defaults for
// u's kind, overridden by u's own permissions.
func EffectiveFeatures(o *Org, u *User, overrides Permissions) map[string]bool {
	eff := FeatureDefaults(o.Settings, u.Kind)
	for name, on := range overrides {
		if _, ok := eff[name]; ok {
			eff[name] = on
		}
	}
	return eff
}

// FeatureDisabled is the refusal of a feature switched off for the user.
func FeatureDisabled(feature string) error {
	return &Error{Code: EFeatureDisabled, Message: feature + " is switched off for this user"}
}
