-- +goose Up
-- Nothing reads deliveries by event; the index only cost a write per delivery.
DROP INDEX deliveries_event;
-- Per-row foreign key checks cost a trigger query for every delivery and
-- attempt written. Deliveries are never deleted, and deleting an
-- automation detaches its deliveries itself (models.DeleteAutomation).
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_automation_id_fkey;

-- +goose Down
ALTER TABLE deliveries ADD CONSTRAINT deliveries_automation_id_fkey
    FOREIGN KEY (automation_id) REFERENCES automations (id) ON DELETE SET NULL;
ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_delivery_id_fkey
    FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE;
CREATE INDEX deliveries_event ON deliveries (event_id);
