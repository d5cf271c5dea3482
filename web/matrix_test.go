package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/web/webtest"
)

// The route×role matrix (DESIGN.md §9): every route the server registers is
// sent by every kind of actor, and the outcome class must be the one the
// table below gives. A route missing from the table, or a table line naming
// no route, fails the test, so a new route cannot ship without saying who
// may call it.

// Actors, from least to most privileged (the order requests are sent in).
const (
	anonymous = iota
	deactivated
	outsider
	registryViewerActor
	registryMemberActor
	registryAdminActor
	teamViewerActor
	teamMemberActor
	serviceAccount
	teamAdminActor
	siteAdminActor
	actorCount
)

var actorNames = [actorCount]string{
	"anonymous", "deactivated", "outsider",
	"registry-viewer", "registry-member", "registry-admin",
	"team-viewer", "team-member", "service-account", "team-admin", "site-admin",
}

// Outcome classes, one letter per actor in a tier string:
//
//	A allowed: the role check passed (any answer but 401, 403, 404, 5xx or
//	  a redirect to the sign-in page; 400/409/422 for an empty body is fine)
//	U unauthenticated: 401, or a redirect to /login?next=…
//	F forbidden: 403
//	N not found: 404 (a team or registry the caller may not even see)
//
// Columns: anonymous, deactivated, outsider, registry viewer/member/admin,
// team viewer/member, service account (member of the team), team admin,
// site admin. The deactivated user is an admin of the team and of the
// registry, so only their state can refuse them.
//
// A service account has no password and so no session: on HTML routes it
// sends its API key, which screens must not accept, and every tier that
// refuses anonymous callers refuses it too (matrix.expected does this).
//
// A route whose rule fits no tier gets its own string of eleven letters.
// (tier is a struct, so other test files keep their own helper names.)
var tier = struct {
	public, signedIn, siteAdmin, teamViewer, teamMember, teamAdmin, registryViewer, registryMember, registryAdmin, linkers, notConfigured string
}{
	//               an de ou rv rm ra tv tm sa ta si
	public:         "A  A  A  A  A  A  A  A  A  A  A",
	signedIn:       "U  U  A  A  A  A  A  A  A  A  A",
	siteAdmin:      "U  U  F  F  F  F  F  F  F  F  A",
	teamViewer:     "U  U  N  N  N  N  A  A  A  A  A",
	teamMember:     "U  U  N  N  N  N  F  A  A  A  A",
	teamAdmin:      "U  U  N  N  N  N  F  F  F  A  A",
	registryViewer: "U  U  N  A  A  A  N  N  N  N  A",
	registryMember: "U  U  N  F  A  A  N  N  N  N  A",
	registryAdmin:  "U  U  N  F  F  A  N  N  N  N  A",
	// linkers: a project viewer who is a registry member; no actor here but
	// the site admin is both (team roles see no registry, and the other way).
	linkers: "U  U  N  N  N  N  N  N  N  N  A",
	// notConfigured: a feature this test does not configure answers 404.
	notConfigured: "N  N  N  N  N  N  N  N  N  N  N",
}

// routeExpectations is keyed "METHOD /path" exactly as routes.go registers
// it. A key may carry a variant after " @": the same route sent against
// another target of the fixture (@registry: the registry-scoped automation,
// its delivery, the registry version; @collection: the registry-collection
// automation and its delivery; "@registry-x" is @registry with its own
// body) or with a body from routeBodies. Routes whose check is in the
// handler say so.
var routeExpectations = map[string]string{
	"GET /healthz": tier.public,
	"GET /metrics": tier.public, // METRICS_TOKEN is unset here; metrics_test checks the token
	"GET /login":   tier.public,
	"POST /login":  tier.public, // signs the outsider in (routeBodies)
	"POST /logout": tier.public,

	// The API's description is public; the API behind it is not.
	"GET /api/v1/openapi.json": tier.public,

	// Single sign-on: anyone may start one; 404 while OIDC_* are unset,
	// as in this test.
	"GET /auth/oidc/login":    tier.notConfigured,
	"GET /auth/oidc/callback": tier.notConfigured,
	// Sessions and password: the signed-in user's own (a spare session).
	"POST /settings/sessions/:id/revoke":    tier.signedIn,
	"POST /settings/sessions/revoke-others": tier.signedIn,
	"POST /settings/sessions/revoke-all":    tier.signedIn,
	"POST /settings/password":               tier.signedIn,
	// Users and invitations (DESIGN.md §13): the token is the credential.
	"GET /invite/:token":                      tier.public,
	"POST /invite/:token":                     tier.public,
	"GET /admin/users":                        tier.siteAdmin,
	"POST /admin/users":                       tier.siteAdmin,
	"POST /admin/users/:id/deactivate":        tier.siteAdmin,
	"POST /admin/users/:id/reactivate":        tier.siteAdmin,
	"POST /admin/users/:id/make-site-admin":   tier.siteAdmin,
	"POST /admin/users/:id/remove-site-admin": tier.siteAdmin,
	"POST /admin/users/:id/invite":            tier.siteAdmin,
	"GET /api/v1/users":                       tier.siteAdmin,
	"POST /api/v1/users":                      tier.siteAdmin,
	"PATCH /api/v1/users/:email":              tier.siteAdmin,
	"DELETE /api/v1/users/:email":             tier.siteAdmin,
	// Service accounts and the audit log (§9: team admin, site admin).
	"POST /teams/:team/service-accounts":                tier.teamAdmin,
	"POST /teams/:team/service-accounts/:name/delete":   tier.teamAdmin,
	"GET /teams/:team/audit-log":                        tier.teamAdmin,
	"GET /admin/audit-log":                              tier.siteAdmin, // handler
	"GET /api/v1/teams/:team/service-accounts":          tier.teamAdmin,
	"POST /api/v1/teams/:team/service-accounts":         tier.teamAdmin,
	"DELETE /api/v1/teams/:team/service-accounts/:name": tier.teamAdmin,
	"GET /api/v1/teams/:team/audit-log":                 tier.teamAdmin,
	"GET /":                                             tier.signedIn,
	"GET /settings":                                     tier.signedIn,
	"POST /settings/api-keys":                           tier.signedIn,
	"POST /settings/api-keys/:id/revoke":                tier.signedIn, // the caller's own key

	"GET /teams":                                      tier.signedIn,
	"POST /teams":                                     tier.siteAdmin, // handler
	"GET /teams/:team":                                tier.teamViewer,
	"POST /teams/:team/members":                       tier.teamAdmin,
	"POST /teams/:team/members/:user/role":            tier.teamAdmin,
	"POST /teams/:team/members/:user/remove":          tier.teamAdmin,
	"POST /teams/:team/secrets":                       tier.teamAdmin,
	"GET /teams/:team/secrets/new":                    tier.teamAdmin,
	"POST /teams/:team/webhook-test":                  tier.teamAdmin,
	"POST /teams/:team/secrets/:name":                 tier.teamAdmin,
	"POST /teams/:team/secrets/:name/delete":          tier.teamAdmin,
	"POST /teams/:team/webhooks":                      tier.teamAdmin,
	"GET /teams/:team/webhooks/:name/edit":            tier.teamAdmin,
	"POST /teams/:team/webhooks/:name":                tier.teamAdmin,
	"POST /teams/:team/webhooks/:name/delete":         tier.teamAdmin,
	"GET /teams/:team/webhooks/:name/test":            tier.teamAdmin,
	"POST /teams/:team/webhooks/:name/test":           tier.teamAdmin,
	"GET /teams/:team/webhooks/:name":                 tier.teamAdmin,
	"GET /teams/:team/webhooks/:name/chart":           tier.teamAdmin,
	"POST /teams/:team/webhooks/:name/rotate-secret":  tier.teamAdmin,
	"POST /teams/:team/webhooks/:name/retry-failed":   tier.teamAdmin,
	"POST /teams/:team/webhooks/:name/enable":         tier.teamAdmin,
	"POST /teams/:team/slack/integrations/:id/enable": tier.teamAdmin,
	"GET /teams/:team/slack/connect":                  tier.teamAdmin,
	"GET /slack/callback":                             tier.signedIn, // handler: admin of the state's team; no state is 400
	"GET /teams/:team/slack/channels":                 tier.teamAdmin,
	"POST /teams/:team/slack/integrations":            tier.teamAdmin,
	"POST /teams/:team/slack/integrations/:id/delete": tier.teamAdmin,
	"POST /teams/:team/queues":                        tier.teamAdmin,
	"GET /teams/:team/queues/:queue":                  tier.teamViewer,
	"POST /teams/:team/queues/:queue/delete":          tier.teamAdmin,

	"GET /projects":                                                                      tier.signedIn,
	"POST /projects":                                                                     tier.teamMember, // handler: the form's team (routeBodies)
	"GET /projects/:team/:project":                                                       tier.teamViewer,
	"GET /projects/:team/:project/automations":                                           tier.teamViewer,
	"GET /projects/:team/:project/automations/new":                                       tier.teamAdmin,
	"POST /projects/:team/:project/automations/new":                                      tier.teamAdmin,
	"GET /projects/:team/:project/events":                                                tier.teamViewer,
	"GET /projects/:team/:project/runs":                                                  tier.teamViewer,
	"GET /projects/:team/:project/runs/:id":                                              tier.teamViewer,
	"GET /projects/:team/:project/history":                                               tier.teamViewer,
	"GET /projects/:team/:project/artifacts/:collection":                                 tier.teamViewer,
	"GET /projects/:team/:project/artifacts/:collection/:version":                        tier.teamViewer,
	"POST /projects/:team/:project/artifacts/:collection/:version/aliases":               tier.teamMember,
	"POST /projects/:team/:project/artifacts/:collection/:version/aliases/:alias/remove": tier.teamMember,
	"POST /projects/:team/:project/artifacts/:collection/:version/links":                 tier.teamViewer, // handler: member of the chosen registry
	"POST /projects/:team/:project/artifacts/:collection/:version/links @link":           tier.linkers,

	"GET /registries":                                                                   tier.signedIn,
	"POST /registries":                                                                  tier.siteAdmin, // handler
	"GET /registries/:registry":                                                         tier.registryViewer,
	"GET /registries/:registry/automations":                                             tier.registryViewer,
	"GET /registries/:registry/automations/new":                                         tier.registryAdmin,
	"POST /registries/:registry/automations/new":                                        tier.registryAdmin,
	"GET /registries/:registry/collections/:collection/automations/new":                 tier.registryAdmin,
	"POST /registries/:registry/collections/:collection/automations/new":                tier.registryAdmin,
	"GET /registries/:registry/events":                                                  tier.registryViewer,
	"GET /registries/:registry/history":                                                 tier.registryViewer,
	"GET /registries/:registry/collections/:collection":                                 tier.registryViewer,
	"GET /registries/:registry/collections/:collection/:version":                        tier.registryViewer,
	"POST /registries/:registry/collections/:collection/:version/aliases":               tier.registryMember,
	"POST /registries/:registry/collections/:collection/:version/aliases/:alias/remove": tier.registryMember,
	"GET /registries/:registry/members":                                                 tier.registryViewer,
	"POST /registries/:registry/members":                                                tier.registryAdmin,
	"POST /registries/:registry/members/:user/role":                                     tier.registryAdmin,
	"POST /registries/:registry/members/:user/remove":                                   tier.registryAdmin,

	// Automations by id: the handlers resolve the scope.
	"GET /automations/:id":                   tier.teamViewer,
	"GET /automations/:id @registry":         tier.registryViewer,
	"GET /automations/:id @collection":       tier.registryViewer,
	"GET /automations/:id/edit":              tier.teamAdmin,
	"GET /automations/:id/edit @registry":    tier.registryAdmin,
	"GET /automations/:id/edit @collection":  tier.registryAdmin,
	"POST /automations/:id/edit":             tier.teamAdmin,
	"POST /automations/:id/edit @registry":   tier.registryAdmin,
	"POST /automations/:id/edit @collection": tier.registryAdmin,
	// Saving the edit form as the edit page fills it (routeBodies): §9 lets
	// registry admins edit; today they need team ml membership (reported).
	"POST /automations/:id/edit @registry-save":      tier.registryAdmin,
	"POST /automations/:id/toggle":                   tier.teamAdmin,
	"POST /automations/:id/toggle @registry":         tier.registryAdmin,
	"POST /automations/:id/toggle @collection":       tier.registryAdmin,
	"POST /automations/:id/delete":                   tier.teamAdmin,
	"POST /automations/:id/delete @registry":         tier.registryAdmin,
	"POST /automations/:id/delete @collection":       tier.registryAdmin,
	"GET /automations/:id/deliveries":                tier.teamViewer,
	"GET /automations/:id/deliveries @registry":      tier.registryViewer,
	"GET /automations/:id/deliveries @collection":    tier.registryViewer,
	"GET /automations/:id/chart":                     tier.teamViewer,
	"GET /automations/:id/chart @registry":           tier.registryViewer,
	"GET /automations/:id/chart @collection":         tier.registryViewer,
	"POST /automations/:id/retry-failed":             tier.teamAdmin,
	"POST /automations/:id/retry-failed @registry":   tier.registryAdmin,
	"POST /automations/:id/retry-failed @collection": tier.registryAdmin,
	"POST /deliveries/:id/redeliver":                 tier.teamAdmin,
	"POST /deliveries/:id/redeliver @registry":       tier.registryAdmin,
	"POST /deliveries/:id/redeliver @collection":     tier.registryAdmin,
	// Retry now: admins of the scope (a delivery not retrying answers 409).
	"POST /deliveries/:id/retry-now":             tier.teamAdmin,
	"POST /deliveries/:id/retry-now @registry":   tier.registryAdmin,
	"POST /deliveries/:id/retry-now @collection": tier.registryAdmin,
	// One history row, refreshed alone: whoever may view the automation.
	"GET /deliveries/:id/row":             tier.teamViewer,
	"GET /deliveries/:id/row @registry":   tier.registryViewer,
	"GET /deliveries/:id/row @collection": tier.registryViewer,
	// §16: preview and dry run need the body's scope admin (routeBodies);
	// approve and reject the delivery's scope admin (409 here: not waiting).
	"POST /automations/preview":                tier.teamAdmin,
	"POST /automations/preview @registry":      tier.registryAdmin,
	"POST /automations/preview/send":           tier.teamAdmin,
	"POST /automations/dry-run":                tier.teamAdmin,
	"POST /automations/dry-run @registry":      tier.registryAdmin,
	"POST /deliveries/:id/approve":             tier.teamAdmin,
	"POST /deliveries/:id/approve @registry":   tier.registryAdmin,
	"POST /deliveries/:id/approve @collection": tier.registryAdmin,
	"POST /deliveries/:id/reject":              tier.teamAdmin,
	"POST /deliveries/:id/reject @registry":    tier.registryAdmin,
	"GET /events/:id":                          tier.teamViewer,
	"GET /events/:id @registry":                tier.registryViewer,
	"GET /events/:id @collection":              tier.registryViewer,

	"GET /api/v1/teams":                                      tier.signedIn,
	"POST /api/v1/teams":                                     tier.siteAdmin, // handler
	"GET /api/v1/teams/:team/members":                        tier.teamViewer,
	"POST /api/v1/teams/:team/members":                       tier.teamAdmin,
	"PATCH /api/v1/teams/:team/members/:email":               tier.teamAdmin,
	"DELETE /api/v1/teams/:team/members/:email":              tier.teamAdmin,
	"GET /api/v1/teams/:team/secrets":                        tier.teamAdmin,
	"POST /api/v1/teams/:team/secrets":                       tier.teamAdmin,
	"PATCH /api/v1/teams/:team/secrets/:name":                tier.teamAdmin,
	"DELETE /api/v1/teams/:team/secrets/:name":               tier.teamAdmin,
	"GET /api/v1/teams/:team/webhooks":                       tier.teamAdmin,
	"POST /api/v1/teams/:team/webhooks":                      tier.teamAdmin,
	"GET /api/v1/teams/:team/webhooks/:name":                 tier.teamAdmin,
	"PATCH /api/v1/teams/:team/webhooks/:name":               tier.teamAdmin,
	"DELETE /api/v1/teams/:team/webhooks/:name":              tier.teamAdmin,
	"POST /api/v1/teams/:team/webhooks/:name/test":           tier.teamAdmin,
	"POST /api/v1/teams/:team/webhooks/:name/rotate-secret":  tier.teamAdmin,
	"POST /api/v1/teams/:team/webhooks/:name/retry-failed":   tier.teamAdmin,
	"GET /api/v1/teams/:team/projects":                       tier.teamViewer,
	"POST /api/v1/teams/:team/projects":                      tier.teamMember,
	"POST /api/v1/teams/:team/webhooks/:name/enable":         tier.teamAdmin,
	"POST /api/v1/teams/:team/slack/integrations/:id/enable": tier.teamAdmin,

	"GET /api/v1/projects/:team/:project/artifacts":                      tier.teamViewer,
	"POST /api/v1/projects/:team/:project/artifacts":                     tier.teamMember,
	"GET /api/v1/projects/:team/:project/artifacts/:collection/versions": tier.teamViewer,
	"GET /api/v1/projects/:team/:project/events":                         tier.teamViewer,
	"POST /api/v1/projects/:team/:project/runs":                          tier.teamMember,
	"GET /api/v1/projects/:team/:project/runs":                           tier.teamViewer,
	"GET /api/v1/runs/:id":                                               tier.teamViewer, // the run's team
	"PATCH /api/v1/runs/:id":                                             tier.teamMember,
	"POST /api/v1/runs/:id/history":                                      tier.teamMember,
	"POST /api/v1/runs/:id/heartbeat":                                    tier.teamMember,
	"GET /api/v1/artifacts/:id":                                          tier.teamViewer,
	"GET /api/v1/artifacts/:id @registry":                                tier.registryViewer,
	"POST /api/v1/artifacts/:id/aliases":                                 tier.teamMember,
	"POST /api/v1/artifacts/:id/aliases @registry":                       tier.registryMember,
	"DELETE /api/v1/artifacts/:id/aliases/:alias":                        tier.teamMember,
	"DELETE /api/v1/artifacts/:id/aliases/:alias @registry":              tier.registryMember,
	"POST /api/v1/artifacts/:id/links":                                   tier.teamViewer, // handler: member of the chosen registry
	// Linking into registry models: only callers who see the version and
	// are members of the registry; here that is the site admin alone.
	"POST /api/v1/artifacts/:id/links @link": tier.linkers,

	"POST /api/v1/automations":                tier.teamAdmin, // handler: the body's scope (routeBodies)
	"POST /api/v1/automations @registry":      tier.registryAdmin,
	"POST /api/v1/automations @collection":    tier.registryAdmin,
	"GET /api/v1/automations":                 tier.signedIn, // lists what the caller may view
	"GET /api/v1/automations/:id":             tier.teamViewer,
	"GET /api/v1/automations/:id @registry":   tier.registryViewer,
	"GET /api/v1/automations/:id @collection": tier.registryViewer,
	"PATCH /api/v1/automations/:id":           tier.teamAdmin,
	// §9: registry admins edit registry automations. Today a PATCH that
	// leaves the action alone is refused (403 on action.team) unless the
	// registry admin is also a member of the integration's team: reported.
	"PATCH /api/v1/automations/:id @registry":               tier.registryAdmin,
	"PATCH /api/v1/automations/:id @collection":             tier.registryAdmin,
	"DELETE /api/v1/automations/:id":                        tier.teamAdmin,
	"DELETE /api/v1/automations/:id @registry":              tier.registryAdmin,
	"DELETE /api/v1/automations/:id @collection":            tier.registryAdmin,
	"GET /api/v1/automations/:id/deliveries":                tier.teamViewer,
	"GET /api/v1/automations/:id/deliveries @registry":      tier.registryViewer,
	"GET /api/v1/automations/:id/deliveries @collection":    tier.registryViewer,
	"POST /api/v1/automations/:id/retry-failed":             tier.teamAdmin,
	"POST /api/v1/automations/:id/retry-failed @registry":   tier.registryAdmin,
	"POST /api/v1/automations/:id/retry-failed @collection": tier.registryAdmin,
	"POST /api/v1/deliveries/:id/redeliver":                 tier.teamAdmin,
	"POST /api/v1/deliveries/:id/redeliver @registry":       tier.registryAdmin,
	"POST /api/v1/deliveries/:id/redeliver @collection":     tier.registryAdmin,
	"POST /api/v1/automations/preview":                      tier.teamAdmin, // handler: the body's scope (routeBodies)
	"POST /api/v1/automations/preview @registry":            tier.registryAdmin,
	"POST /api/v1/automations/dry-run":                      tier.teamAdmin,
	"POST /api/v1/automations/dry-run @registry":            tier.registryAdmin,
	"GET /api/v1/deliveries/awaiting-approval":              tier.signedIn, // lists what the caller may decide
	"POST /api/v1/deliveries/:id/approve":                   tier.teamAdmin,
	"POST /api/v1/deliveries/:id/approve @registry":         tier.registryAdmin,
	"POST /api/v1/deliveries/:id/reject":                    tier.teamAdmin,
	"POST /api/v1/deliveries/:id/reject @collection":        tier.registryAdmin,

	"GET /api/v1/teams/:team/queues":               tier.teamViewer,
	"POST /api/v1/teams/:team/queues":              tier.teamAdmin,
	"DELETE /api/v1/teams/:team/queues/:queue":     tier.teamAdmin,
	"GET /api/v1/teams/:team/queues/:queue/items":  tier.teamViewer,
	"POST /api/v1/teams/:team/queues/:queue/claim": tier.teamMember,
	"POST /api/v1/run-queue-items/:id/status":      tier.teamMember, // handler: the item's team

	"GET /api/v1/registries":                                            tier.signedIn,
	"POST /api/v1/registries":                                           tier.siteAdmin, // handler
	"GET /api/v1/registries/:registry/members":                          tier.registryViewer,
	"POST /api/v1/registries/:registry/members":                         tier.registryAdmin,
	"PATCH /api/v1/registries/:registry/members/:email":                 tier.registryAdmin,
	"DELETE /api/v1/registries/:registry/members/:email":                tier.registryAdmin,
	"GET /api/v1/registries/:registry/collections":                      tier.registryViewer,
	"GET /api/v1/registries/:registry/collections/:collection/versions": tier.registryViewer,
	"GET /api/v1/registries/:registry/events":                           tier.registryViewer,
}

// skippedRoutes are not application routes: echo's file server and the
// catch-all entries it adds for group middleware.
var skippedRoutes = map[string]bool{
	"GET /static*": true,
}

// lastRoutes run after every other route: signing in or out may end the
// caller's session (server-side sessions), which later cases still need.
var lastRoutes = map[string]bool{
	"POST /login":  true,
	"POST /logout": true,
}

// routeBodies gives the routes whose role check depends on the body one
// that names the fixture's scope, team or registry (mostly with a required
// field left out, so an allowed caller changes nothing; @registry-save is a
// whole edit form). Others get an empty form or `{}`.
var routeBodies = map[string]func(w *world) any{
	"POST /login": func(*world) any {
		return url.Values{"email": {"outsider@example.com"}, "password": {webtest.Password}}
	},
	"POST /projects": func(w *world) any { return url.Values{"team": {w.team}} },
	"POST /projects/:team/:project/artifacts/:collection/:version/links @link": func(w *world) any {
		return url.Values{"registry": {w.registry}}
	},
	"POST /api/v1/artifacts/:id/links @link": func(w *world) any { return map[string]any{"registry": w.registry} },
	"POST /automations/:id/edit @registry-save": func(w *world) any {
		return url.Values{"step": {"3"}, "go": {"save"}, "name": {"on-link"}, "enabled": {"on"}, "event_type": {"LINK_ARTIFACT"},
			"team": {w.team}, "action_type": {"webhook"}, "webhook": {"ci"}, "payload": {"{}"}}
	},
	"POST /api/v1/automations": func(w *world) any {
		return automationBody(map[string]any{"type": "project", "project": w.team + "/mnist"}, "CREATE_ARTIFACT")
	},
	"POST /api/v1/automations @registry": func(w *world) any {
		return automationBody(map[string]any{"type": "registry", "registry": w.registry}, "LINK_ARTIFACT")
	},
	"POST /automations/preview":           func(w *world) any { return wizardScopeForm("project", w.team+"/mnist", "") },
	"POST /automations/preview @registry": func(w *world) any { return wizardScopeForm("registry", "", w.registry) },
	"POST /automations/preview/send":      func(w *world) any { return wizardScopeForm("project", w.team+"/mnist", "") },
	"POST /automations/dry-run":           func(w *world) any { return wizardScopeForm("project", w.team+"/mnist", "") },
	"POST /automations/dry-run @registry": func(w *world) any { return wizardScopeForm("registry", "", w.registry) },
	"POST /api/v1/automations/preview": func(w *world) any {
		return automationBody(map[string]any{"type": "project", "project": w.team + "/mnist"}, "CREATE_ARTIFACT")
	},
	"POST /api/v1/automations/preview @registry": func(w *world) any {
		return automationBody(map[string]any{"type": "registry", "registry": w.registry}, "LINK_ARTIFACT")
	},
	"POST /api/v1/automations/dry-run": func(w *world) any {
		return automationBody(map[string]any{"type": "project", "project": w.team + "/mnist"}, "CREATE_ARTIFACT")
	},
	"POST /api/v1/automations/dry-run @registry": func(w *world) any {
		return automationBody(map[string]any{"type": "registry", "registry": w.registry}, "LINK_ARTIFACT")
	},
	"POST /api/v1/automations @collection": func(w *world) any {
		return automationBody(map[string]any{"type": "registry_collection", "registry": w.registry, "collection": "clf"}, "LINK_ARTIFACT")
	},
}

// wizardScopeForm is the wizard's hidden scope fields with no action:
// the scope's role is checked, then the panel says what is missing.
func wizardScopeForm(typ, project, registry string) url.Values {
	return url.Values{"scope_type": {typ}, "scope_project": {project}, "scope_registry": {registry}, "event_type": {"CREATE_ARTIFACT"}}
}

// automationBody names a scope and an event but no name and no action team:
// the scope's role is checked first, then the missing fields refused. (The
// integration's team is a separate §9 check: registry admins outside team
// ml may not use its webhook.)
func automationBody(scope map[string]any, event string) map[string]any {
	return map[string]any{
		"scope":  scope,
		"event":  map[string]any{"type": event},
		"action": map[string]any{"type": "webhook"},
	}
}

// world is one copy of everything the routes' parameters point at: team
// and registry with the actors in their roles, a project with a versioned
// collection, a secret, a webhook, a Slack integration, a queue with an
// item, a registry collection with a version, an automation in each scope
// with a delivery. A request that may have changed it (a write that did not
// fail) makes the next request use a fresh world.
type world struct {
	team, registry string
	serviceUser    *models.User
	serviceKey     string
	slackID        int64
	itemID         int64
	runID          int64             // run r0 in the project
	versionID      int64             // data:v0 in the project
	regVersionID   int64             // clf:v0 in the registry
	automation     map[string]int64  // by variant: "", "registry", "collection"
	delivery       map[string]string // by variant, the delivery's public id
	target         *models.User      // an active user in nothing, for the users admin routes
	inviteToken    string            // an open invitation of an invited user
}

type actor struct {
	user   *models.User // nil for the anonymous caller and the service account
	cookie string       // Cookie header: the session and the CSRF cookie
	csrf   string
	key    string // API key
}

type matrix struct {
	t        *testing.T
	app      *webtest.App
	builder  string // a site admin's API key that builds worlds
	box      *secretbox.Box
	users    map[string]*models.User
	actors   [actorCount]*actor
	w        *world
	dirty    bool
	worlds   int
	signIns  int // again, after a request ended the session
	requests int
	client   *http.Client
}

func TestRouteRoleMatrix(t *testing.T) {
	start := time.Now()
	app := webtest.Start(t, webtest.WithoutWorker())
	m := &matrix{t: t, app: app, users: map[string]*models.User{}, client: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	box, err := secretbox.Open(context.Background(), app.Config.SecretsKeeperURL, app.Keys.Encryption)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = box.Close() })
	m.box = box
	m.setUp()

	cases := m.cases()
	for _, c := range cases {
		for a := 0; a < actorCount; a++ {
			if m.dirty || m.w == nil {
				m.w = m.buildWorld()
				m.dirty = false
			}
			m.check(c, a)
		}
	}
	t.Logf("route×role matrix: %d routes (%d cases with variants) × %d actors = %d requests; %d fixture worlds, %d sign-ins again; %s",
		len(m.serverRoutes()), len(cases), actorCount, m.requests, m.worlds, m.signIns, time.Since(start).Round(time.Millisecond))
}

// serverRoutes are the routes the server registers, as "METHOD /path".
func (m *matrix) serverRoutes() map[string]bool {
	out := map[string]bool{}
	for _, r := range m.app.Server.Routes() {
		key := r.Method + " " + r.Path
		if r.Method == echo.RouteNotFound || skippedRoutes[key] {
			continue
		}
		out[key] = true
	}
	return out
}

type matrixCase struct {
	key, method, path, variant string
	want                       string
}

// cases pairs the server's routes with the table, failing on either side's
// leftovers, in a fixed order with lastRoutes at the end.
func (m *matrix) cases() []matrixCase {
	t := m.t
	routes := m.serverRoutes()
	covered := map[string]bool{}
	var cases []matrixCase
	for key, want := range routeExpectations {
		route, variant, _ := strings.Cut(key, " @")
		if !routes[route] {
			t.Errorf("routeExpectations names %q, which the server does not have: remove the line or fix the path", key)
			continue
		}
		if len(strings.Fields(want)) != actorCount {
			t.Errorf("routeExpectations[%q] = %q: want %d outcome letters", key, want, actorCount)
			continue
		}
		covered[route] = true
		method, path, _ := strings.Cut(route, " ")
		cases = append(cases, matrixCase{key: key, method: method, path: path, variant: variant, want: want})
	}
	for route := range routes {
		if !covered[route] {
			t.Errorf("route %q has no line in routeExpectations (matrix_test.go): say who may call it", route)
		}
	}
	sort.Slice(cases, func(i, j int) bool {
		li, lj := lastRoutes[cases[i].method+" "+cases[i].path], lastRoutes[cases[j].method+" "+cases[j].path]
		if li != lj {
			return lj
		}
		return cases[i].key < cases[j].key
	})
	return cases
}

func isAPIPath(p string) bool { return strings.HasPrefix(p, "/api/") }

// expected is the outcome class for actor a, with the service-account rule
// for screens applied.
func (m *matrix) expected(c matrixCase, a int) byte {
	col := strings.Fields(c.want)
	want := col[a][0]
	if a == serviceAccount && !isAPIPath(c.path) {
		want = col[anonymous][0]
	}
	return want
}

func (m *matrix) check(c matrixCase, a int) {
	t := m.t
	path, err := m.fillPath(c, a)
	if err != nil {
		t.Errorf("%s: %v", c.key, err)
		return
	}
	status, location, body := m.send(c, a, path)
	m.requests++
	got := classify(status, location)
	if c.method != http.MethodGet && status < 400 {
		m.dirty = true // it may have changed what later cases need
		m.keepSignedIn(a)
	}
	if want := m.expected(c, a); got != want {
		t.Errorf("%s as %s (%s %s): got %s (status %d%s), want %s\n\t%s",
			c.key, actorNames[a], c.method, path, className(got), status, locationNote(location),
			className(want), snippet(body))
	}
}

func classify(status int, location string) byte {
	switch {
	case status >= 500:
		return 'E'
	case status == http.StatusUnauthorized:
		return 'U'
	case status >= 300 && status < 400 && isLoginRedirect(location):
		return 'U'
	case status == http.StatusForbidden:
		return 'F'
	case status == http.StatusNotFound:
		return 'N'
	}
	return 'A'
}

// isLoginRedirect is requireLogin's answer: /login?next=…
func isLoginRedirect(location string) bool {
	u, err := url.Parse(location)
	return err == nil && u.Path == "/login" && u.Query().Has("next")
}

func className(c byte) string {
	switch c {
	case 'A':
		return "allowed"
	case 'U':
		return "unauthenticated (401 or sign-in redirect)"
	case 'F':
		return "403"
	case 'N':
		return "404"
	case 'E':
		return "server error"
	}
	return string(c)
}

func locationNote(l string) string {
	if l == "" {
		return ""
	}
	return " → " + l
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// fillPath puts the world's targets into the route's parameters.
func (m *matrix) fillPath(c matrixCase, a int) (string, error) {
	segs := strings.Split(c.path, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, ":") {
			continue
		}
		prev := ""
		if i > 0 {
			prev = segs[i-1]
		}
		v, err := m.param(c, a, prev, s[1:])
		if err != nil {
			return "", err
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/"), nil
}

func (m *matrix) param(c matrixCase, a int, prev, name string) (string, error) {
	w := m.w
	scope := scopeVariant(c.variant)
	inRegistry := strings.Contains(c.path, "/registries/") || scope == "registry"
	switch prev {
	case "users": // the users admin routes: a user whose changes no actor needs
		if name == "email" {
			return w.target.Email, nil
		}
		return strconv.FormatInt(w.target.ID, 10), nil
	case "sessions":
		return m.spareSession(a), nil
	case "service-accounts":
		if name == "name" {
			return w.serviceUser.Name, nil
		}
		return strconv.FormatInt(w.serviceUser.ID, 10), nil
	}
	switch name {
	case "token":
		return w.inviteToken, nil
	case "team":
		return w.team, nil
	case "project":
		return "mnist", nil
	case "registry":
		return w.registry, nil
	case "collection":
		if inRegistry {
			return "clf", nil
		}
		return "data", nil
	case "version":
		return "v0", nil
	case "alias":
		if inRegistry {
			return "production", nil
		}
		return "best", nil
	case "queue":
		return "gpu", nil
	case "name":
		switch prev {
		case "secrets":
			return "TOKEN", nil
		case "webhooks":
			return "ci", nil
		}
	case "user", "email":
		target := m.users["team-viewer"]
		if inRegistry {
			target = m.users["registry-viewer"]
		}
		if name == "email" {
			return target.Email, nil
		}
		return strconv.FormatInt(target.ID, 10), nil
	case "id":
		switch prev {
		case "api-keys":
			return m.spareKey(a), nil
		case "integrations":
			return strconv.FormatInt(w.slackID, 10), nil
		case "automations":
			return strconv.FormatInt(w.automation[scope], 10), nil
		case "deliveries":
			return w.delivery[scope], nil
		case "events": // the event of the scope's delivery
			d, err := models.DeliveryByUID(context.Background(), m.app.DB, w.delivery[scope])
			if err != nil {
				return "", err
			}
			return strconv.FormatInt(d.EventID, 10), nil
		case "artifacts":
			if scope == "registry" {
				return strconv.FormatInt(w.regVersionID, 10), nil
			}
			return strconv.FormatInt(w.versionID, 10), nil
		case "run-queue-items":
			return strconv.FormatInt(w.itemID, 10), nil
		case "runs":
			return strconv.FormatInt(w.runID, 10), nil
		}
	}
	return "", fmt.Errorf("the matrix fixture has no value for :%s after %q: teach matrix.param about it", name, prev)
}

// scopeVariant is the fixture target a variant names: "registry" or
// "collection" (also as "registry-…"), else "" for the project's.
func scopeVariant(v string) string {
	v, _, _ = strings.Cut(v, "-")
	if v == "registry" || v == "collection" {
		return v
	}
	return ""
}

// spareKey is a fresh API key of the caller (of the team viewer for the
// anonymous caller), for the revoke route: revoking it costs nothing later.
func (m *matrix) spareKey(a int) string {
	_, k, err := models.CreateAPIKey(context.Background(), m.app.DB, m.keyOwner(a).ID, "spare")
	if err != nil {
		m.t.Fatal(err)
	}
	return strconv.FormatInt(k.ID, 10)
}

// spareSession is a session row of the caller (as spareKey), for routes
// that revoke one session.
func (m *matrix) spareSession(a int) string {
	now := time.Now().UTC()
	sess := &people.Session{TokenHash: randomHex(m.t), UserID: m.keyOwner(a).ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(time.Hour), IP: "127.0.0.1", UserAgent: "matrix"}
	if err := m.app.DB.Create(sess).Error; err != nil {
		m.t.Fatal(err)
	}
	return strconv.FormatInt(sess.ID, 10)
}

func randomHex(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// keyOwner is the user whose spare credentials actor a targets: their
// own, the team viewer's for the anonymous caller.
func (m *matrix) keyOwner(a int) *models.User {
	switch a {
	case anonymous:
		return m.users["team-viewer"]
	case serviceAccount:
		return m.w.serviceUser
	}
	return m.actors[a].user
}

// send makes the request as actor a: screens with the session cookie and
// CSRF token (the service account with its API key), the API with the key.
// Answers' cookies are not kept: every request carries the actor's own.
func (m *matrix) send(c matrixCase, a int, path string) (int, string, []byte) {
	t := m.t
	act := m.actors[a]
	var body io.Reader
	var contentType string
	mk := routeBodies[c.key]
	api := isAPIPath(c.path)
	switch {
	case api && c.method != http.MethodGet && c.method != http.MethodDelete:
		var v any = map[string]any{}
		if mk != nil {
			v = mk(m.w)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		body, contentType = bytes.NewReader(j), echo.MIMEApplicationJSON
	case !api && c.method != http.MethodGet:
		form := url.Values{}
		if mk != nil {
			form = mk(m.w).(url.Values)
		}
		form.Set("_csrf", act.csrf)
		body, contentType = strings.NewReader(form.Encode()), echo.MIMEApplicationForm
	}
	req, err := http.NewRequest(c.method, m.app.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	key := act.key
	if a == serviceAccount {
		key = m.w.serviceKey
	}
	if api || a == serviceAccount {
		if key != "" {
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+key)
		}
	}
	if !api {
		req.Header.Set("Cookie", act.cookie)
		req.Header.Set("X-CSRF-Token", act.csrf)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), raw
}

// setUp makes the people, signs them in and mints their keys; then the
// deactivated user is deactivated, so their credentials must stop working.
func (m *matrix) setUp() {
	t, app := m.t, m.app
	m.builder = app.APIKey(t, app.User(t, "builder@example.com", true))
	for a := 0; a < actorCount; a++ {
		act := &actor{}
		m.actors[a] = act
		switch a {
		case anonymous, serviceAccount:
			act.cookie, act.csrf = m.signIn("")
			continue
		}
		u := app.User(t, actorNames[a]+"@example.com", a == siteAdminActor)
		m.users[actorNames[a]] = u
		act.user = u
		act.key = app.APIKey(t, u)
		act.cookie, act.csrf = m.signIn(u.Email)
	}
	m.users["outsider"] = m.actors[outsider].user
	if err := app.DB.Model(&models.User{}).Where("id = ?", m.actors[deactivated].user.ID).
		Update("state", models.UserDeactivated).Error; err != nil {
		t.Fatal(err)
	}
}

// keepSignedIn signs actor a in again when a request ended their session
// (signing out, revoking sessions), so later cases still test roles.
func (m *matrix) keepSignedIn(a int) {
	act := m.actors[a]
	if act.user == nil || a == deactivated {
		return
	}
	req, err := http.NewRequest(http.MethodGet, m.app.URL+"/settings", nil)
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Cookie", act.cookie)
	resp, err := m.client.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // the whole page: no cancelled render
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		m.signIns++
		act.cookie, act.csrf = m.signIn(act.user.Email)
	}
}

// signIn goes through the sign-in form like a browser and returns the
// cookies it ends with and the CSRF token; "" only fetches the CSRF cookie.
func (m *matrix) signIn(email string) (cookie, csrf string) {
	t := m.t
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(m.app.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(m.app.URL)
	token := func() string {
		for _, c := range jar.Cookies(u) {
			if c.Name == "_csrf" {
				return c.Value
			}
		}
		t.Fatal("no _csrf cookie after GET /login")
		return ""
	}
	if email != "" {
		resp, err := client.PostForm(m.app.URL+"/login", url.Values{"email": {email}, "password": {webtest.Password}, "_csrf": {token()}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in as %s: status %d", email, resp.StatusCode)
		}
	}
	var parts []string
	for _, c := range jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; "), token()
}

// api sends a request as the builder and fails unless it answers want.
func (m *matrix) api(want int, method, path string, body any) map[string]any {
	m.t.Helper()
	status, out := m.app.API(m.t, m.builder, method, path, body)
	if status != want {
		m.t.Fatalf("fixture: %s %s: status %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

func jsonID(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("fixture: id %v is not a number", v)
	}
	return int64(f)
}

// buildWorld makes a fresh team and registry with every actor in its role
// and one of everything the routes point at.
func (m *matrix) buildWorld() *world {
	t, app, ctx := m.t, m.app, context.Background()
	m.worlds++
	w := &world{team: "ml", registry: "models", automation: map[string]int64{}, delivery: map[string]string{}}
	if m.worlds > 1 {
		w.team, w.registry = fmt.Sprintf("ml%d", m.worlds), fmt.Sprintf("models%d", m.worlds)
	}
	tp := "/api/v1/teams/" + w.team
	m.api(201, "POST", "/api/v1/teams", map[string]any{"name": w.team})
	for _, mem := range []struct{ who, role string }{
		{"team-admin", "admin"}, {"team-member", "member"}, {"team-viewer", "viewer"},
	} {
		m.api(201, "POST", tp+"/members", map[string]any{"email": m.users[mem.who].Email, "role": mem.role})
	}
	team, err := models.TeamByName(ctx, app.DB, w.team)
	if err != nil {
		t.Fatal(err)
	}
	// The deactivated user is made an admin directly (the API may refuse
	// to add a deactivated account): only their state may refuse them.
	if _, err := models.AddTeamMember(ctx, app.DB, team.ID, m.users["deactivated"].Email, models.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	// The team's service account, made directly until its routes exist.
	sa := &models.User{Email: fmt.Sprintf("ci-bot-%d@service.invalid", m.worlds), Name: "ci-bot", Username: fmt.Sprintf("ci-bot-%d", m.worlds),
		State: models.UserActive, ServiceTeamID: &team.ID}
	if err := app.DB.Create(sa).Error; err != nil {
		t.Fatal(err)
	}
	// Its membership row directly too: adding members by email skips
	// service accounts once they have their own routes.
	if err := app.DB.Table("team_members").Create(map[string]any{
		"team_id": team.ID, "user_id": sa.ID, "role": string(models.RoleMember), "created_at": time.Now().UTC(),
	}).Error; err != nil {
		t.Fatal(err)
	}
	w.serviceUser, w.serviceKey = sa, app.APIKey(t, sa)

	// A user for the users admin routes to change, and an invited user
	// with an open invitation (the token's SHA-256 in hex is stored).
	w.target = &models.User{Email: fmt.Sprintf("target-%d@example.com", m.worlds), Name: "target", Username: fmt.Sprintf("target-%d", m.worlds), State: models.UserActive}
	invited := &models.User{Email: fmt.Sprintf("invited-%d@example.com", m.worlds), Name: "invited", Username: fmt.Sprintf("invited-%d", m.worlds), State: models.UserInvited}
	for _, u := range []*models.User{w.target, invited} {
		if err := app.DB.Create(u).Error; err != nil {
			t.Fatal(err)
		}
	}
	w.inviteToken = randomHex(t)
	sum := sha256.Sum256([]byte(w.inviteToken))
	now := time.Now().UTC()
	if err := app.DB.Create(&people.Invitation{TokenHash: hex.EncodeToString(sum[:]), UserID: invited.ID,
		InvitedBy: &m.users["team-admin"].ID, CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour)}).Error; err != nil {
		t.Fatal(err)
	}

	m.api(201, "POST", tp+"/projects", map[string]any{"name": "mnist"})
	m.api(201, "POST", tp+"/secrets", map[string]any{"name": "TOKEN", "value": "matrix-secret-value"})
	m.api(201, "POST", tp+"/webhooks", map[string]any{"name": "ci", "url": "https://hooks.example.com/ci"})
	si, err := models.CreateSlackIntegration(ctx, app.DB, m.box, team.ID, "T01", "Acme", "C01", "alerts", "xoxb-matrix", m.users["team-admin"])
	if err != nil {
		t.Fatal(err)
	}
	w.slackID = si.ID
	m.api(201, "POST", tp+"/queues", map[string]any{"name": "gpu"})
	q, err := models.QueueByName(ctx, app.DB, team.ID, "gpu")
	if err != nil {
		t.Fatal(err)
	}
	item := &models.RunQueueItem{QueueID: q.ID, Job: w.team + "/mnist/train", JobVersion: "v0", Config: "{}", DestinationProject: w.team + "/mnist"}
	if err := models.EnqueueRunItem(ctx, app.DB, item); err != nil {
		t.Fatal(err)
	}
	w.itemID = item.ID
	run := m.api(201, "POST", "/api/v1/projects/"+w.team+"/mnist/runs", map[string]any{"name": "r0"})
	w.runID = jsonID(t, run["id"])
	m.api(200, "POST", fmt.Sprintf("/api/v1/runs/%d/history", w.runID), map[string]any{"rows": []map[string]any{
		{"step": 0, "metrics": map[string]any{"loss": 0.9, "val/acc": 0.5}}, {"step": 1, "metrics": map[string]any{"loss": 0.4}},
	}})

	m.api(201, "POST", "/api/v1/registries", map[string]any{"name": w.registry})
	rp := "/api/v1/registries/" + w.registry
	for _, mem := range []struct{ who, role string }{
		{"registry-admin", "admin"}, {"registry-member", "member"}, {"registry-viewer", "viewer"},
	} {
		m.api(201, "POST", rp+"/members", map[string]any{"email": m.users[mem.who].Email, "role": mem.role})
	}
	reg, err := models.RegistryByName(ctx, app.DB, w.registry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.AddRegistryMember(ctx, app.DB, reg.ID, m.users["deactivated"].Email, models.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	action := map[string]any{"type": "webhook", "team": w.team, "webhook": "ci", "payload": "{}"}
	a := m.api(201, "POST", "/api/v1/automations", map[string]any{"name": "on-create", "enabled": true,
		"scope": map[string]any{"type": "project", "project": w.team + "/mnist"}, "event": map[string]any{"type": "CREATE_ARTIFACT"}, "action": action})
	w.automation[""] = jsonID(t, a["id"])
	a = m.api(201, "POST", "/api/v1/automations", map[string]any{"name": "on-link", "enabled": true,
		"scope": map[string]any{"type": "registry", "registry": w.registry}, "event": map[string]any{"type": "LINK_ARTIFACT"}, "action": action})
	w.automation["registry"] = jsonID(t, a["id"])
	v := m.api(201, "POST", "/api/v1/projects/"+w.team+"/mnist/artifacts", map[string]any{"name": "data", "type": "model", "aliases": []string{"best"}})
	w.versionID = jsonID(t, v["id"])
	l := m.api(201, "POST", fmt.Sprintf("/api/v1/artifacts/%d/links", w.versionID), map[string]any{"registry": w.registry, "collection": "clf"})
	w.regVersionID = jsonID(t, l["id"])
	a = m.api(201, "POST", "/api/v1/automations", map[string]any{"name": "on-alias", "enabled": true,
		"scope": map[string]any{"type": "registry_collection", "registry": w.registry, "collection": "clf"},
		"event": map[string]any{"type": "ADD_ARTIFACT_ALIAS", "alias_regex": "production"}, "action": action})
	w.automation["collection"] = jsonID(t, a["id"])
	m.api(201, "POST", fmt.Sprintf("/api/v1/artifacts/%d/aliases", w.regVersionID), map[string]any{"alias": "production"})
	for variant, id := range w.automation {
		out := m.api(200, "GET", fmt.Sprintf("/api/v1/automations/%d/deliveries", id), nil)
		ds, _ := out["deliveries"].([]any)
		if len(ds) != 1 {
			t.Fatalf("fixture: automation %q has %d deliveries, want 1: %v", variant, len(ds), out)
		}
		w.delivery[variant], _ = ds[0].(map[string]any)["id"].(string)
	}
	return w
}
