-- pmp-event-outbox, schema 1: the outbox, the inbox and the relay's wake-up trigger.
--
-- Idempotent (IF NOT EXISTS / OR REPLACE): `pmp_event_outbox::migrate` runs it at every start
-- under an advisory lock. Teams with their own migration tool (sqlx migrate, Flyway, ...) copy
-- this file into their migrations instead. Needs PostgreSQL 14 or newer (CREATE OR REPLACE
-- TRIGGER).

-- Events staged by services inside their business transactions, published by the relay.
CREATE TABLE IF NOT EXISTS event_outbox (
    -- Staging order; the relay publishes in this order (per key: see the crate docs).
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The envelope's event_id: every re-send of the row carries it.
    event_id      UUID        NOT NULL,
    event_type    TEXT        NOT NULL,
    version       INTEGER     NOT NULL,
    topic         TEXT        NOT NULL,
    -- The Kafka record key (the payload's x-kafka-key property).
    key           TEXT        NOT NULL,
    -- The record headers the relay sends (event_type, version, event_id), as a JSON object.
    headers       JSONB       NOT NULL,
    -- The wire envelope (JSON), exactly the bytes Kafka receives.
    envelope      BYTEA       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when Kafka (or, for a dead letter, the DLQ topic) acknowledged the row.
    published_at  TIMESTAMPTZ,
    -- For a row that no longer validated: `<failure class>: <reason>` (never payload values).
    dead_letter   TEXT
);

-- The relay's work queue: unpublished rows in id order.
CREATE INDEX IF NOT EXISTS event_outbox_unpublished ON event_outbox (id) WHERE published_at IS NULL;

-- Event ids a consumer has handled, written in the same transaction as the handler's effects.
CREATE TABLE IF NOT EXISTS event_inbox (
    -- The consumer's name (usually its Kafka group id): consumers sharing a database keep
    -- separate records.
    consumer      TEXT        NOT NULL,
    event_id      UUID        NOT NULL,
    event_type    TEXT        NOT NULL,
    version       INTEGER     NOT NULL,
    handled_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX IF NOT EXISTS event_inbox_handled_at ON event_inbox (handled_at);

-- Wakes the relay (LISTEN event_outbox) when a staging transaction commits. One notification
-- per statement; PostgreSQL folds identical notifications of one transaction into one.
CREATE OR REPLACE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('event_outbox', '');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER event_outbox_notify
    AFTER INSERT ON event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify();
