-- The service's own tables (`eventctl new --outbox`). Applied at every start by
-- `db::migrate` after the outbox's tables (`pmp_event_outbox::MIGRATION_SQL`), in one
-- transaction under an advisory lock, so it must stay idempotent (IF NOT EXISTS). Once the
-- schema evolves, move this file and the outbox's into a migration tool (sqlx migrate,
-- refinery, Flyway) and drop `db::migrate`.

-- Producing side: one row per appointment request. `db::request_appointment` inserts it and
-- stages its `appointment.requested` event in the same transaction.
CREATE TABLE IF NOT EXISTS appointments (
    appointment_id UUID        PRIMARY KEY,
    patient_id     BIGINT      NOT NULL,
    therapist_id   BIGINT      NOT NULL,
    requested_for  TIMESTAMPTZ NOT NULL,
    mode           TEXT        NOT NULL,
    -- Personal data (x-pii in the schema): never logged.
    note           TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Consuming side: open requests per therapist. `db::count_request` adds one per handled
-- event; it is not idempotent on its own, the inbox (`event_inbox`, same transaction) makes a
-- redelivered event count once.
CREATE TABLE IF NOT EXISTS therapist_requests (
    therapist_id   BIGINT      PRIMARY KEY,
    requests       BIGINT      NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
