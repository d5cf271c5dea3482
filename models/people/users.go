package people

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// userAudit is what the audit log keeps of an account: never its password.
type userAudit struct {
	Email     string `json:"email"`
	Name      string `json:"name"`
	State     string `json:"state"`
	SiteAdmin bool   `json:"site_admin"`
}

func auditOf(u *models.User) userAudit {
	return userAudit{Email: u.Email, Name: u.Name, State: string(u.State), SiteAdmin: u.SiteAdmin}
}

func actorOf(actor *models.User) (*int64, string) {
	if actor == nil {
		return nil, ""
	}
	id := actor.ID
	return &id, actor.DisplayName()
}

// NewPerson is an account a site admin creates. An empty Password makes an
// invited account with a link to set one.
type NewPerson struct {
	Email    string
	Name     string
	Password string
}

// CreatePerson stores an ordinary (not site-admin) account, with its
// invitation when no password was given, and records user.create (and
// user.invite) in the audit log, in one transaction. Invite is nil when a
// password was given.
func CreatePerson(ctx context.Context, db *gorm.DB, actor *models.User, in NewPerson) (*models.User, *Invite, error) {
	if err := models.ValidateUserName(strings.TrimSpace(in.Name)); err != nil {
		return nil, nil, err
	}
	var (
		u      *models.User
		invite *Invite
	)
	actorID, actorName := actorOf(actor)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if in.Password != "" {
			u, err = models.CreateUser(ctx, tx, models.NewUser{Email: in.Email, Name: in.Name, Password: in.Password})
		} else {
			u, err = models.CreateInvitedUser(ctx, tx, in.Email, in.Name)
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{
			ActorID: actorID, ActorName: actorName, Kind: "user.create", Target: u.Email, After: audit.JSON(auditOf(u)),
		}); err != nil {
			return err
		}
		if u.State != models.UserInvited {
			return nil
		}
		if invite, err = issueInvitation(ctx, tx, u, actor); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			ActorID: actorID, ActorName: actorName, Kind: "user.invite", Target: u.Email,
			After: audit.JSON(map[string]any{"expires_at": invite.ExpiresAt}),
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return u, invite, nil
}

// ChangePerson applies a site admin's change to a person and returns the
// account as it is now. Deactivation signs them out everywhere and retires
// their unused invitation links; reactivating an account that never set a
// password makes it invited again with a fresh link (Invite, else nil).
// Each kind of change is one audit entry: user.deactivate,
// user.reactivate, user.site_admin, user.rename.
func ChangePerson(ctx context.Context, db *gorm.DB, actor *models.User, userID int64, c models.UserChange) (*models.User, *Invite, error) {
	var (
		after  models.User
		invite *Invite
	)
	actorID, actorName := actorOf(actor)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, changed, err := models.ChangeUser(ctx, tx, userID, c)
		if err != nil {
			return err
		}
		after = changed
		record := func(kind string) error {
			return audit.Record(ctx, tx, audit.Entry{
				ActorID: actorID, ActorName: actorName, Kind: kind, Target: after.Email,
				Before: audit.JSON(auditOf(&before)), After: audit.JSON(auditOf(&after)),
			})
		}
		if before.State != models.UserDeactivated && after.State == models.UserDeactivated {
			if err := DeleteUserSessions(ctx, tx, userID); err != nil {
				return err
			}
			if err := retireInvitations(ctx, tx, userID); err != nil {
				return err
			}
			if err := record("user.deactivate"); err != nil {
				return err
			}
		}
		if before.State == models.UserDeactivated && after.State != models.UserDeactivated {
			if err := record("user.reactivate"); err != nil {
				return err
			}
			if after.State == models.UserInvited {
				if invite, err = issueInvitation(ctx, tx, &after, actor); err != nil {
					return err
				}
				if err := record("user.invite"); err != nil {
					return err
				}
			}
		}
		if before.SiteAdmin != after.SiteAdmin {
			if err := record("user.site_admin"); err != nil {
				return err
			}
		}
		if before.Name != after.Name {
			return record("user.rename")
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return &after, invite, nil
}

// MemberScope is a team or registry to add a member to.
type MemberScope struct {
	TeamID     *int64
	RegistryID *int64
}

// Team is the scope of team teamID.
func Team(teamID int64) MemberScope { return MemberScope{TeamID: &teamID} }

// Registry is the scope of registry registryID.
func Registry(registryID int64) MemberScope { return MemberScope{RegistryID: &registryID} }

// AddedMember is the result of AddMember: the membership, and the
// invitation when the email had no account or one still waiting for its
// password (nil otherwise).
type AddedMember struct {
	Member *models.Member
	Invite *Invite
}

// AddMember is the one way members are added, for team and registry,
// HTML and API alike (DESIGN.md §13): an email without an account becomes
// an invited account; an invited account (new or not) gets a fresh link,
// which retires its older ones. The account, the invitation, the
// membership and the audit entry are written in one transaction.
func AddMember(ctx context.Context, db *gorm.DB, actor *models.User, scope MemberScope, email string, role models.Role) (*AddedMember, error) {
	if !role.Valid() {
		return nil, models.Invalid("role", "%q is not a role: use admin, member or viewer", role)
	}
	out := &AddedMember{}
	actorID, actorName := actorOf(actor)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := models.UserByEmail(ctx, tx, email)
		created := false
		if errors.Is(err, models.ErrNotFound) {
			u, err = models.CreateInvitedUser(ctx, tx, email, "")
			created = true
		}
		if err != nil {
			return err
		}
		if scope.TeamID != nil {
			out.Member, err = models.AddTeamMember(ctx, tx, *scope.TeamID, u.Email, role)
		} else {
			out.Member, err = models.AddRegistryMember(ctx, tx, *scope.RegistryID, u.Email, role)
		}
		if err != nil {
			return err
		}
		if u.State != models.UserInvited {
			return nil
		}
		if out.Invite, err = issueInvitation(ctx, tx, u, actor); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			TeamID: scope.TeamID, RegistryID: scope.RegistryID,
			ActorID: actorID, ActorName: actorName, Kind: "user.invite", Target: u.Email,
			After: audit.JSON(map[string]any{"role": role, "new_account": created, "expires_at": out.Invite.ExpiresAt}),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("add member %s: %w", email, err)
	}
	return out, nil
}

// Reinvite issues a fresh link to an invited person (the admin lost the
// first one); their older links stop working. Only invited people have
// links: anyone else is a validation error.
func Reinvite(ctx context.Context, db *gorm.DB, actor *models.User, userID int64) (*Invite, error) {
	var invite *Invite
	actorID, actorName := actorOf(actor)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := models.PersonByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.State != models.UserInvited {
			return models.Invalid("state", "%s is %s: only invited users get invitation links", u.Email, u.State)
		}
		if invite, err = issueInvitation(ctx, tx, u, actor); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			ActorID: actorID, ActorName: actorName, Kind: "user.invite", Target: u.Email,
			After: audit.JSON(map[string]any{"expires_at": invite.ExpiresAt}),
		})
	})
	if err != nil {
		return nil, err
	}
	return invite, nil
}
