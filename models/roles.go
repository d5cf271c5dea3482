package models

// Role is a member's role in a team or registry.
type Role string

// Roles, from least to most privileged. RoleNone means "not a member".
const (
	RoleNone   Role = ""
	RoleViewer Role = "viewer"
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
)

// Roles lists the assignable roles, most privileged first, for forms.
var Roles = []Role{RoleAdmin, RoleMember, RoleViewer}

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleMember:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is an assignable role.
func (r Role) Valid() bool { return r.rank() > 0 }

// ParseRole validates a role given by a user.
func ParseRole(field, s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return RoleNone, Invalid(field, "%q is not a role: use admin, member or viewer", Excerpt(s))
	}
	return r, nil
}

// Allowed is the one role rule of DESIGN.md §9: a site admin may do
// anything; anyone else needs at least role need in the team or registry.
func Allowed(u *User, have, need Role) bool {
	if u == nil {
		return false
	}
	if u.SiteAdmin {
		return true
	}
	return have.rank() >= need.rank() && have.rank() > 0
}

// CanView reports whether u may see a team or registry where it holds have.
func CanView(u *User, have Role) bool { return Allowed(u, have, RoleViewer) }

// CanWrite reports whether u may change content (log artifacts, add
// aliases, link, use integrations) in a team or registry where it holds have.
func CanWrite(u *User, have Role) bool { return Allowed(u, have, RoleMember) }

// CanAdmin reports whether u may manage members, secrets, integrations and
// automations of a team or registry where it holds have.
func CanAdmin(u *User, have Role) bool { return Allowed(u, have, RoleAdmin) }
