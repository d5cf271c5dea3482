package models

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// checkNameFree refuses a's name when another automation of its scope (its
// project, or its registry) already has it, regardless of case. It runs in
// the saving transaction; the unique indexes of migration 00020 catch two
// saves racing past it (nameTaken turns that error into the same answer).
func checkNameFree(tx *gorm.DB, a *Automation) error {
	q := tx.Model(&Automation{}).Where("lower(name) = lower(?) AND id <> ?", a.Name, a.ID)
	switch {
	case a.ProjectID != nil:
		q = q.Where("project_id = ?", *a.ProjectID)
	case a.RegistryID != nil:
		q = q.Where("registry_id = ?", *a.RegistryID)
	default:
		return nil
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nameTakenError(a)
	}
	return nil
}

func nameTakenError(a *Automation) error {
	where := "this project"
	if a.ProjectID == nil {
		where = "this registry"
	}
	return Conflict("name", "%s already has an automation named %s (names are unique regardless of case): choose another name", where, Excerpt(a.Name))
}

// nameTaken turns a unique-index violation on save into the name conflict.
func nameTaken(err error, a *Automation) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nameTakenError(a)
	}
	return err
}

// CheckAutomationName refuses spec's name when another automation of its
// scope (not id, the one being edited) has it, so a form can show it with
// its other errors before saving; saving checks again.
func CheckAutomationName(ctx context.Context, db *gorm.DB, spec AutomationSpec, id int64) error {
	a := &Automation{ID: id}
	spec.apply(a)
	return checkNameFree(db.WithContext(ctx), a)
}
