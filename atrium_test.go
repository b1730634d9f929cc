package atrium

import (
	"strings"
	"testing"
)

func TestCursorRoundTripAndRefusals(t *testing.T) {
	for _, p := range []Pos{{}, {Tx: 1, ID: 2}, {Tx: 1 << 40, ID: 1 << 50}} {
		got, err := ParseCursor(p.Cursor())
		if err != nil || got != p {
			t.Fatalf("round trip %v: %v %v", p, got, err)
		}
	}
	for _, bad := range []string{"", "!!", "AAAA", strings.Repeat("A", 30), "_____________________w"} {
		if _, err := ParseCursor(bad); ErrorCode(err) != EInvalid {
			t.Errorf("ParseCursor(%q) = %v", bad, err)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(Pos{Tx: 3, ID: 4}.Cursor())
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseCursor(s)
		if err == nil && p.Cursor() != s {
			t.Fatalf("accepted %q but encodes as %q", s, p.Cursor())
		}
	})
}

func TestNormalizeEmail(t *testing.T) {
	good := map[string]string{" Ana@Example.COM ": "ana@example.com", "a.b+c@sub.example.jp": "a.b+c@sub.example.jp"}
	for in, want := range good {
		if got, err := NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ana", "ana@localhost", "Ana <ana@example.com>", "a@b@c.com", strings.Repeat("a", 250) + "@x.com", "ana@exa mple.com"} {
		if _, err := NormalizeEmail(bad); ErrorCode(err) != EInvalid {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestValidation(t *testing.T) {
	u := User{Email: "a@b.co", Name: "A", Kind: KindClient, Role: OrgRoleAdmin, Status: StatusActive}
	if err := u.Validate(); ErrorCode(err) != EInvalid {
		t.Fatal("a client admin was accepted")
	}
	u.Role = OrgRoleMember
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"", "  ", "a\x00b", "line\nbreak", strings.Repeat("é", MaxNameLen+1), "\xff"} {
		if err := ValidateTitle(title); ErrorCode(err) != EInvalid {
			t.Errorf("title %q accepted", title)
		}
	}
	if err := (&Binder{BinderInfo: BinderInfo{Title: strings.Repeat("é", MaxNameLen)}}).Validate(); err != nil {
		t.Errorf("a title of %d characters refused: %v", MaxNameLen, err)
	}
	if err := ValidateMessageText(strings.Repeat("a", MaxMessageBytes)); err != nil {
		t.Errorf("64 KiB refused: %v", err)
	}
	if err := ValidateMessageText(strings.Repeat("a", MaxMessageBytes+1)); ErrorCode(err) != ETooLarge {
		t.Errorf("64 KiB + 1: %v", err)
	}
	if err := ValidatePassword("short"); ErrorCode(err) != EInvalid {
		t.Error("short password accepted")
	}
}

func TestMentionedEmails(t *testing.T) {
	got := MentionedEmails("hi @Ana@Example.com and @bob@x.io, (@ana@example.com) mail me@not.mention")
	if strings.Join(got, ",") != "ana@example.com,bob@x.io" {
		t.Fatalf("mentions %v", got)
	}
}

func TestPolicy(t *testing.T) {
	staff := &User{ID: "u1", OrgID: "o1", Kind: KindInternal, Role: OrgRoleMember, Status: StatusActive}
	other := &User{ID: "u2", OrgID: "o2", Kind: KindInternal, Role: OrgRoleOwner, Status: StatusActive}
	b := &Binder{BinderInfo: BinderInfo{ID: "b", OrgID: "o1"}}
	owner, editor, viewer := &Member{Role: BinderRoleOwner}, &Member{Role: BinderRoleEditor}, &Member{Role: BinderRoleViewer}
	own := &Message{SenderID: "u1"}
	theirs := &Message{SenderID: "u9"}
	cases := []struct {
		name string
		got  bool
		want bool
	}{
		{"non-member sees", CanSeeBinder(staff, b, nil), false},
		{"other org member row sees", CanSeeBinder(other, b, owner), false},
		{"viewer sees", CanSeeBinder(staff, b, viewer), true},
		{"viewer posts", CanPost(staff, b, viewer), false},
		{"editor posts", CanPost(staff, b, editor), true},
		{"editor manages", CanManageBinder(staff, b, editor), false},
		{"owner manages", CanManageBinder(staff, b, owner), true},
		{"editor edits own", CanEditMessage(staff, b, editor, own), true},
		{"editor edits theirs", CanEditMessage(staff, b, editor, theirs), false},
		{"owner deletes theirs", CanDeleteMessage(staff, b, owner, theirs), true},
		{"editor deletes theirs", CanDeleteMessage(staff, b, editor, theirs), false},
		{"other org added", CanAddMember(other, b), false},
		{"member manages users", CanManageUsers(staff, "o1"), false},
		{"owner manages other org", CanManageUsers(other, "o1"), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	deleted := *b
	deleted.DeletedAt = &b.CreatedAt
	if CanSeeBinder(staff, &deleted, owner) {
		t.Error("a deleted binder is visible")
	}
}

// Features follow the organisation's settings for the user's kind, and the
// user's own overrides win either way.
func TestEffectiveFeatures(t *testing.T) {
	staff := &User{OrgID: "o1", Kind: KindInternal}
	client := &User{OrgID: "o1", Kind: KindClient}
	def := DefaultOrgSettings()
	open := DefaultOrgSettings()
	open.ClientsCanCreateBinders, open.ClientsCanInvite = true, true
	closed := DefaultOrgSettings()
	closed.FileSharing, closed.Meetings, closed.EmailIntoBinders = false, false, false
	cases := []struct {
		name      string
		settings  OrgSettings
		user      *User
		overrides Permissions
		feature   string
		want      bool
	}{
		{"staff create binders", def, staff, nil, FeatureBindersCreate, true},
		{"clients do not by default", def, client, nil, FeatureBindersCreate, false},
		{"clients do when allowed", open, client, nil, FeatureBindersCreate, true},
		{"clients add members when allowed", open, client, nil, FeatureMembersAdd, true},
		{"clients do not add members by default", def, client, nil, FeatureMembersAdd, false},
		{"file sharing on by default", def, client, nil, FeatureFilesDownload, true},
		{"file sharing off", closed, staff, nil, FeatureFilesUpload, false},
		{"meetings off", closed, staff, nil, FeatureMeetings, false},
		{"e-mail off", closed, staff, nil, FeatureEmailIn, false},
		{"an override switches off", def, staff, Permissions{FeatureFilesUpload: false}, FeatureFilesUpload, false},
		{"an override switches on", closed, staff, Permissions{FeatureFilesUpload: true}, FeatureFilesUpload, true},
		{"an override of another feature changes nothing", def, staff, Permissions{FeatureMeetings: false}, FeatureFilesUpload, true},
	}
	for _, c := range cases {
		got := EffectiveFeatures(&Org{ID: "o1", Settings: c.settings}, c.user, c.overrides)
		if got[c.feature] != c.want {
			t.Errorf("%s: %s is %v, want %v", c.name, c.feature, got[c.feature], c.want)
		}
		if len(got) != len(Features) {
			t.Errorf("%s: %d features, want %d", c.name, len(got), len(Features))
		}
	}
	if err := (Permissions{"files.uplaod": true}).Validate(); ErrorCode(err) != EInvalid {
		t.Errorf("a misspelt feature: %v", err)
	}
	if err := (Permissions{FeatureMeetings: true}).Validate(); err != nil {
		t.Errorf("a feature: %v", err)
	}
}

// Every combination of the relationship policy's switches against every
// kind of contact. The switches are, in order, clients_share_only_with_managers,
// client_to_client_contact and clients_see_directory; each want string
// gives the decision for the eight combinations 000, 001, … 111.
func TestDecideContactEveryCombination(t *testing.T) {
	staff := &User{ID: "s1", OrgID: "o1", Kind: KindInternal}
	staff2 := &User{ID: "s2", OrgID: "o1", Kind: KindInternal}
	client := &User{ID: "c1", OrgID: "o1", Kind: KindClient}
	client2 := &User{ID: "c2", OrgID: "o1", Kind: KindClient}
	stranger := &User{ID: "x1", OrgID: "o2", Kind: KindInternal}
	const all, none = "YYYYYYYY", "NNNNNNNN"
	cases := []struct {
		contact  string
		from, to *User
		related  bool
		want     map[string]string // action → decisions over the eight combinations
	}{
		{"staff to staff", staff, staff2, false, map[string]string{ContactMessage: all, ContactAddMember: all, ContactMention: all, ContactSee: all}},
		{"staff to a client", staff, client, false, map[string]string{ContactMessage: all, ContactAddMember: all, ContactMention: all, ContactSee: all}},
		{"a client to themselves", client, client, false, map[string]string{ContactMessage: all, ContactAddMember: all, ContactMention: all, ContactSee: all}},
		{"a client to their manager", client, staff, true, map[string]string{ContactMessage: all, ContactAddMember: all, ContactMention: all, ContactSee: all}},
		{"a client to other staff", client, staff, false, map[string]string{
			ContactMessage: "YYYYNNNN", ContactAddMember: "YYYYNNNN", ContactMention: all, ContactSee: "NYNYNYNY"}},
		{"a client to another client", client, client2, false, map[string]string{
			ContactMessage: "NNYYNNYY", ContactAddMember: "NNYYNNYY", ContactMention: "NNYYNNYY", ContactSee: "NNYYNNYY"}},
		{"anyone to another organisation", staff, stranger, false, map[string]string{ContactMessage: none, ContactAddMember: none, ContactMention: none, ContactSee: none}},
	}
	for _, c := range cases {
		for _, action := range ContactActions {
			for combo := range 8 {
				s := DefaultOrgSettings()
				s.ClientsShareOnlyWithManagers, s.ClientToClientContact, s.ClientsSeeDirectory = combo&4 != 0, combo&2 != 0, combo&1 != 0
				d := DecideContact(s, c.from, c.to, c.related, action)
				if want := c.want[action][combo] == 'Y'; d.Allowed != want {
					t.Errorf("%s, %s, switches %03b: allowed %v (%s), want %v", c.contact, action, combo, d.Allowed, d.Rule, want)
				}
				if d.Rule == "" || d.Reason == "" {
					t.Errorf("%s, %s, switches %03b: no rule named", c.contact, action, combo)
				}
			}
		}
	}
}
