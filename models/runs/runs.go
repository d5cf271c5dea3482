// Package runs holds runs and their metric history (DESIGN.md §14): the
// runs, run_history and run_automation_fires tables, and the run events
// they fire. Run events go through the same outbox as artifact events: an
// events row and its deliveries, written in the transaction of the change.
package runs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
)

// Run is one training (or any) run of a project.
type Run struct {
	ID          int64     `gorm:"column:id;primaryKey"`
	ProjectID   int64     `gorm:"column:project_id"`
	Name        string    `gorm:"column:name"`
	DisplayName string    `gorm:"column:display_name"`
	UserID      *int64    `gorm:"column:user_id"`
	State       string    `gorm:"column:state"`
	Config      string    `gorm:"column:config"`
	Tags        string    `gorm:"column:tags"`
	CreatedAt   time.Time `gorm:"column:created_at"`
	UpdatedAt   time.Time `gorm:"column:updated_at"`
	HeartbeatAt time.Time `gorm:"column:heartbeat_at"`
	TokenHash   string    `gorm:"column:token_hash"`
	// Token is the run's token, set only by Create (it is stored hashed).
	Token string `gorm:"-"`
}

// TableName maps Run to its table.
func (Run) TableName() string { return "runs" }

// TagList decodes the stored tags.
func (r *Run) TagList() []string {
	var tags []string
	_ = json.Unmarshal([]byte(r.Tags), &tags) // stored by Create, always a list
	return tags
}

// Env is what run events need from the server's configuration.
type Env struct {
	// BaseURL makes ${run_url} absolute; empty leaves it a path.
	BaseURL string
	// Conditions keeps the automations' parsed conditions between
	// requests (nil: parsed each time).
	Conditions *runcond.Cache
}

// RunURL is the link to a run's page.
func (e Env) RunURL(team, project string, runID int64) string {
	return strings.TrimRight(e.BaseURL, "/") + RunPath(team, project, runID)
}

// RunPath is the path of a run's page (web's route /projects/:team/:project/runs/:id).
func RunPath(team, project string, runID int64) string {
	return "/projects/" + url.PathEscape(team) + "/" + url.PathEscape(project) + "/runs/" + strconv.FormatInt(runID, 10)
}

// NewRun is a run to create.
type NewRun struct {
	Name        string          // unique in the project; generated when empty
	DisplayName string          // defaults to Name
	Config      json.RawMessage // a JSON object; empty means {}
	Tags        []string
}

const maxTags, maxTagLength, maxDisplayName = 100, 64, 200

// Create starts a run of project p (of team t) in state running, firing
// RUN_STATE running in the same transaction.
func Create(ctx context.Context, db *gorm.DB, env Env, t *models.Team, p *models.Project, in NewRun, author *models.User) (*Run, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = randomName()
	}
	if err := models.ValidateName("name", name); err != nil {
		return nil, err
	}
	display := strings.TrimSpace(in.DisplayName)
	if display == "" {
		display = name
	}
	if len(display) > maxDisplayName {
		return nil, models.Invalid("display_name", "must be at most %d characters", maxDisplayName)
	}
	cfg := "{}"
	if trimmed := strings.TrimSpace(string(in.Config)); trimmed != "" && trimmed != "null" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(trimmed), &obj); err != nil || obj == nil {
			return nil, models.Invalid("config", "must be a JSON object, e.g. {\"lr\": 0.01}")
		}
		compact, _ := json.Marshal(obj)
		cfg = string(compact)
	}
	if len(in.Tags) > maxTags {
		return nil, models.Invalid("tags", "at most %d tags", maxTags)
	}
	tags := []string{}
	for _, tag := range in.Tags {
		tag = strings.TrimSpace(tag)
		if tag == "" || len(tag) > maxTagLength {
			return nil, models.Invalid("tags", "each tag must be 1 to %d characters", maxTagLength)
		}
		if !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	tagJSON, _ := json.Marshal(tags)
	now := time.Now().UTC()
	token := newToken()
	r := &Run{ProjectID: p.ID, Name: name, DisplayName: display, UserID: &author.ID, State: runcond.StateRunning,
		Config: cfg, Tags: string(tagJSON), CreatedAt: now, UpdatedAt: now, HeartbeatAt: now,
		TokenHash: hashToken(token), Token: token}
	err := models.EventTransaction(ctx, db, func(tx *gorm.DB) error {
		var taken int64
		if err := tx.Model(&Run{}).Where("project_id = ? AND name = ?", p.ID, name).Count(&taken).Error; err != nil {
			return fmt.Errorf("check run name: %w", err)
		}
		if taken > 0 {
			return models.Conflict("name", "project %s already has a run named %s", p.Name, name)
		}
		if err := tx.Create(r).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.Conflict("name", "project %s already has a run named %s", p.Name, name)
			}
			return fmt.Errorf("create run: %w", err)
		}
		_, err := fireState(ctx, tx, env, &Scope{Run: r, Team: t, Project: p, User: author}, author)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// TokenPrefix starts every run token, so the API tells them from API keys.
const TokenPrefix = "run_"

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return TokenPrefix + hex.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ByToken loads run id if token is its token: a launch job logs its run
// with the token instead of an API key (the agent keeps its key from the
// job). It answers ErrNotFound for a wrong token, as for a missing run.
func ByToken(ctx context.Context, db *gorm.DB, id int64, token string) (*Run, error) {
	r, err := ByID(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if r.TokenHash == "" || subtle.ConstantTimeCompare([]byte(r.TokenHash), []byte(hashToken(token))) != 1 {
		return nil, fmt.Errorf("run %d with that token: %w", id, models.ErrNotFound)
	}
	return r, nil
}

// LinkItem records that run runID was started for run-queue item itemID
// by the agent's user by: the run must be by's, in the item's destination project.
func LinkItem(ctx context.Context, db *gorm.DB, item *models.RunQueueItem, runID int64, by *models.User) error {
	r, err := ByID(ctx, db, runID)
	if err != nil || r.UserID == nil || *r.UserID != by.ID {
		return models.Invalid("run_id", "there is no run %d of yours", runID)
	}
	s, err := LoadScope(ctx, db, r)
	if err != nil {
		return err
	}
	if s.Team.Name+"/"+s.Project.Name != item.DestinationProject {
		return models.Invalid("run_id", "run %d is not in the item's destination project %s", runID, item.DestinationProject)
	}
	if err := db.WithContext(ctx).Model(item).Update("run_id", runID).Error; err != nil {
		return fmt.Errorf("link run to item: %w", err)
	}
	item.RunID = &runID
	return nil
}

func randomName() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// ByID loads a run.
func ByID(ctx context.Context, db *gorm.DB, id int64) (*Run, error) {
	var r Run
	if err := db.WithContext(ctx).First(&r, "id = ?", id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("run %d: %w", id, models.ErrNotFound)
		}
		return nil, fmt.Errorf("load run %d: %w", id, err)
	}
	return &r, nil
}

// Scope is a run with its project, team and author, as events name them.
type Scope struct {
	Run     *Run
	Team    *models.Team
	Project *models.Project
	User    *models.User // the run's author; nil if deleted
}

// LoadScope reads the project, team and author of r.
func LoadScope(ctx context.Context, db *gorm.DB, r *Run) (*Scope, error) {
	p, err := models.ProjectByID(ctx, db, r.ProjectID)
	if err != nil {
		return nil, err
	}
	t, err := models.TeamByID(ctx, db, p.TeamID)
	if err != nil {
		return nil, err
	}
	s := &Scope{Run: r, Team: t, Project: p}
	if r.UserID != nil {
		if u, err := models.UserByID(ctx, db, *r.UserID); err == nil {
			s.User = u
		} else if !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
	}
	return s, nil
}

// UserHandle names the run's author as ${run_user} does.
func (s *Scope) UserHandle() string {
	if s.User == nil {
		return ""
	}
	return models.AuthorHandle(s.User)
}

// Listing is a run in a project's list.
type Listing struct {
	Run
	UserName string `gorm:"column:user_name"`
}

// ListFilter narrows a project's runs.
type ListFilter struct {
	State  string // one state, or "" for all
	Search string // part of the name or display name, any case
	Limit  int
	Offset int
}

// States lists every run state.
func States() []string {
	return []string{runcond.StateRunning, runcond.StateFinished, runcond.StateFailed, runcond.StateCrashed, runcond.StateKilled}
}

// List returns a page of a project's runs, newest first, and how many
// match in all.
func List(ctx context.Context, db *gorm.DB, projectID int64, f ListFilter) ([]Listing, int64, error) {
	if f.State != "" && !slices.Contains(States(), f.State) {
		return nil, 0, models.Invalid("state", "%q is not a state: use %s", f.State, strings.Join(States(), ", "))
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := db.WithContext(ctx).Table("runs AS r").Where("r.project_id = ?", projectID)
	if f.State != "" {
		q = q.Where("r.state = ?", f.State)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(s)) + "%"
		q = q.Where(`(lower(r.name) LIKE ? ESCAPE '\' OR lower(r.display_name) LIKE ? ESCAPE '\')`, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count runs: %w", err)
	}
	var out []Listing
	err := q.Select("r.*, COALESCE(NULLIF(u.username, ''), u.email, '') AS user_name").
		Joins("LEFT JOIN users u ON u.id = r.user_id").
		Order("r.id DESC").Limit(f.Limit).Offset(f.Offset).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list runs: %w", err)
	}
	return out, total, nil
}

// EventsOfRun lists the events a run caused (its state changes and metric
// crossings), oldest first, at most limit: the lineage page follows a
// launch item to its run and on to what that run set off.
func EventsOfRun(ctx context.Context, db *gorm.DB, runID int64, limit int) ([]models.Event, error) {
	var evs []models.Event
	if err := db.WithContext(ctx).Where("run_id = ?", runID).Order("id").Limit(limit).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("events of run %d: %w", runID, err)
	}
	return evs, nil
}
