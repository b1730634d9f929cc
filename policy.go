package atrium

// The policy functions decide, from facts already loaded, whether an actor
// may do something. They do no I/O; the use cases call them inside the
// transaction that makes the change. A nil member means the user is not in
// the binder.

// CanSeeBinder reports whether u may see the binder at all.
func CanSeeBinder(u *User, b *Binder, m *Member) bool {
	return u != nil && b != nil && m != nil && u.OrgID == b.OrgID && b.DeletedAt == nil
}

// CanPost reports whether u may post to the binder's conversation.
func CanPost(u *User, b *Binder, m *Member) bool {
	return CanSeeBinder(u, b, m) && m.Role != BinderRoleViewer
}

// CanManageBinder reports whether u may rename or delete the binder and
// change its members.
func CanManageBinder(u *User, b *Binder, m *Member) bool {
	return CanSeeBinder(u, b, m) && m.Role == BinderRoleOwner
}

// CanEditMessage reports whether u may edit msg: only its sender, while
// still allowed to post.
func CanEditMessage(u *User, b *Binder, m *Member, msg *Message) bool {
	return CanPost(u, b, m) && msg.SenderID == u.ID && !msg.Deleted
}

// CanDeleteMessage reports whether u may delete msg: its sender while still
// allowed to post, or a binder owner.
func CanDeleteMessage(u *User, b *Binder, m *Member, msg *Message) bool {
	if msg.Deleted {
		return false
	}
	return CanEditMessage(u, b, m, msg) || CanManageBinder(u, b, m)
}

// CanAddMember reports whether target may become a member of the binder:
// only users of the binder's organisation who are neither deactivated nor
// deleted.
func CanAddMember(target *User, b *Binder) bool {
	return target != nil && target.OrgID == b.OrgID && target.Status != StatusDeactivated && target.Status != StatusDeleted
}

// CanManageUsers reports whether u administers users of org orgID.
func CanManageUsers(u *User, orgID string) bool {
	return u != nil && u.OrgID == orgID && u.IsAdmin() && u.Status == StatusActive
}

// CanChangeFiles reports whether u may upload, rename and version files in
// the binder: its owners and editors.
func CanChangeFiles(u *User, b *Binder, m *Member) bool { return CanPost(u, b, m) }

// CanDeleteFile reports whether u may delete f: whoever uploaded it while
// still an editor, or a binder owner.
func CanDeleteFile(u *User, b *Binder, m *Member, f *File) bool {
	return CanChangeFiles(u, b, m) && f.CreatedBy == u.ID || CanManageBinder(u, b, m)
}

// CanRestoreFile reports whether u may restore a deleted file of org
// orgID: its administrators.
func CanRestoreFile(u *User, orgID string) bool { return CanManageUsers(u, orgID) }
