/**
 * Schema of the Aurora PostgreSQL history, applied in order by the migrate custom
 * resource at deploy (and by the local runtime at start). Append only: a deployed
 * migration is never edited, a change is a new entry.
 */
export interface Migration {
  readonly id: string;
  readonly statements: readonly string[];
}

export const migrations: readonly Migration[] = [
  {
    id: '0001_messages',
    statements: [
      `CREATE TABLE IF NOT EXISTS messages (
        conversation_id  text        NOT NULL,
        seq              bigint      NOT NULL,
        server_msg_id    text        NOT NULL,
        client_msg_id    text        NOT NULL,
        session_type     smallint    NOT NULL,
        sender_id        text        NOT NULL,
        sender_platform_id smallint,
        recv_id          text,
        group_id         text,
        content_type     integer     NOT NULL,
        content          jsonb       NOT NULL,
        send_time        timestamptz NOT NULL,
        archived_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, seq)
      )`,
      `CREATE UNIQUE INDEX IF NOT EXISTS messages_server_msg_id ON messages (server_msg_id)`,
      `CREATE INDEX IF NOT EXISTS messages_sender_time ON messages (sender_id, send_time)`,
      `CREATE INDEX IF NOT EXISTS messages_send_time ON messages (send_time)`,
    ],
  },
  {
    // Full-text search over the searchable text of every content type. A generated column
    // follows `content`: replacing it (a revoke) drops the old words from search by itself.
    // Config 'simple' (lower-cased words, no stemming or stop words) suits any language.
    id: '0002_search',
    statements: [
      `ALTER TABLE messages ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig,
          coalesce(content->>'text', '') || ' ' ||
          coalesce(content->>'markdown', '') || ' ' ||
          coalesce(content->>'fileName', '') || ' ' ||
          coalesce(translate(content->>'fileName', '._-', '   '), '') || ' ' ||
          coalesce(content->>'description', '') || ' ' ||
          coalesce(content->>'nickname', '') || ' ' ||
          coalesce(content->>'title', ''))
      ) STORED`,
      `CREATE INDEX IF NOT EXISTS messages_search ON messages USING gin (search_vector)`,
      `CREATE INDEX IF NOT EXISTS messages_conversation_time ON messages (conversation_id, send_time)`,
    ],
  },
  {
    // Revoke, delete for everyone and edit (see docs/architecture.md, "Changing a message"):
    // a row is replaced in place by a newer version; `message_edits` keeps what an edit replaced.
    id: '0003_message_changes',
    statements: [
      `ALTER TABLE messages ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 0`,
      `ALTER TABLE messages ADD COLUMN IF NOT EXISTS revoked jsonb`,
      `ALTER TABLE messages ADD COLUMN IF NOT EXISTS deleted jsonb`,
      `ALTER TABLE messages ADD COLUMN IF NOT EXISTS edited jsonb`,
      `CREATE TABLE IF NOT EXISTS message_edits (
        conversation_id  text        NOT NULL,
        seq              bigint      NOT NULL,
        version          integer     NOT NULL,
        content_type     integer     NOT NULL,
        content          jsonb       NOT NULL,
        replaced_at      timestamptz NOT NULL,
        PRIMARY KEY (conversation_id, seq, version)
      )`,
    ],
  },
  {
    id: '0004_reactions',
    statements: [`ALTER TABLE messages ADD COLUMN IF NOT EXISTS reactions jsonb`],
  },
  {
    // Mirrors of the Users and Groups tables for statistics and the admin user search,
    // filled by directory jobs on the archive queue (and the backfill of the migrate
    // function). `updated_at` orders them: a row only ever moves to a newer version.
    // The admin user search: a user id prefix (btree on lower(user_id)) or a nickname
    // substring (trigram GIN index on lower(nickname); pg_trgm is one of Aurora's extensions).
    id: '0005_directory',
    statements: [
      `CREATE EXTENSION IF NOT EXISTS pg_trgm`,
      `CREATE TABLE IF NOT EXISTS users (
        user_id     text        PRIMARY KEY,
        nickname    text,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS users_created_at ON users (created_at)`,
      `CREATE INDEX IF NOT EXISTS users_user_id_lower ON users (lower(user_id) text_pattern_ops)`,
      `CREATE INDEX IF NOT EXISTS users_nickname_trgm ON users USING gin (lower(nickname) gin_trgm_ops)`,
      `CREATE TABLE IF NOT EXISTS groups (
        group_id      text        PRIMARY KEY,
        name          text        NOT NULL,
        owner_user_id text        NOT NULL,
        created_at    timestamptz NOT NULL,
        dismissed_at  timestamptz,
        updated_at    timestamptz NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS groups_created_at ON groups (created_at)`,
    ],
  },
  {
    // Physical deletes (POST /admin/conversations/{id}/messages/purge): a purged (conversation,
    // seq) keeps a tombstone, and a trigger drops any later insert of it into `messages` or
    // `message_edits`, so an archive job redelivered after the purge cannot bring the row back.
    id: '0006_purged_messages',
    statements: [
      `CREATE TABLE IF NOT EXISTS purged_messages (
        conversation_id  text        NOT NULL,
        seq              bigint      NOT NULL,
        purged_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, seq)
      )`,
      `CREATE OR REPLACE FUNCTION skip_purged_message() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM purged_messages p WHERE p.conversation_id = NEW.conversation_id AND p.seq = NEW.seq) THEN
          RETURN NULL;
        END IF;
        RETURN NEW;
      END
      $$`,
      `DROP TRIGGER IF EXISTS messages_skip_purged ON messages`,
      `CREATE TRIGGER messages_skip_purged BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION skip_purged_message()`,
      `DROP TRIGGER IF EXISTS message_edits_skip_purged ON message_edits`,
      `CREATE TRIGGER message_edits_skip_purged BEFORE INSERT ON message_edits FOR EACH ROW EXECUTE FUNCTION skip_purged_message()`,
    ],
  },
  {
    // Purge against an archive insert in flight (READ COMMITTED): an insert whose trigger ran
    // before the tombstone committed, but that commits after the purge's DELETE, would bring
    // the row back (the DELETE did not see it). The trigger now first takes a shared
    // transaction-level advisory lock on the conversation, held until the insert commits; a
    // purge takes the same lock exclusively before writing its tombstones, so it waits for
    // inserts in flight and its DELETEs (later statements) see their rows, while an insert that
    // comes during a purge waits for it and then (a VOLATILE function: a fresh snapshot per
    // statement) sees the tombstones. The key is (PURGE_LOCK_CLASS, hashtext(conversation_id)).
    id: '0007_purge_lock',
    statements: [
      `CREATE OR REPLACE FUNCTION skip_purged_message() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(1130984050, hashtext(NEW.conversation_id));
        IF EXISTS (SELECT 1 FROM purged_messages p WHERE p.conversation_id = NEW.conversation_id AND p.seq = NEW.seq) THEN
          RETURN NULL;
        END IF;
        RETURN NEW;
      END
      $$`,
    ],
  },
  {
    // The position of a long data migration (the directory backfill of the migrate function),
    // saved after every page so that a run cut short continues where it stopped.
    id: '0008_backfill_progress',
    statements: [
      `CREATE TABLE IF NOT EXISTS backfill_progress (
        id             text        PRIMARY KEY,
        phase          text        NOT NULL,
        scan_key       text,
        users_copied   bigint      NOT NULL DEFAULT 0,
        groups_copied  bigint      NOT NULL DEFAULT 0,
        updated_at     timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // Retention (core/history/retention.ts): a group's own retention (`group_retention`, else
    // the deployment's), and per conversation the highest seq retention has purged through
    // (`purged_through`). The trigger now also drops any insert at or below that seq, so a
    // message changed in the offline store after the history let it go (a reaction, a revoke)
    // does not come back, without a tombstone per message.
    id: '0009_retention',
    statements: [
      `CREATE TABLE IF NOT EXISTS group_retention (
        group_id    text        PRIMARY KEY,
        days        integer     NOT NULL CHECK (days >= 1),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE IF NOT EXISTS purged_through (
        conversation_id  text        PRIMARY KEY,
        seq              bigint      NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE OR REPLACE FUNCTION skip_purged_message() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(1130984050, hashtext(NEW.conversation_id));
        IF EXISTS (SELECT 1 FROM purged_messages p WHERE p.conversation_id = NEW.conversation_id AND p.seq = NEW.seq) THEN
          RETURN NULL;
        END IF;
        IF EXISTS (SELECT 1 FROM purged_through t WHERE t.conversation_id = NEW.conversation_id AND NEW.seq <= t.seq) THEN
          RETURN NULL;
        END IF;
        RETURN NEW;
      END
      $$`,
    ],
  },
];

/**
 * How CloudFormation runs the migrations (the custom resource's provider, and the local
 * runtime, which does the same): the migrate function applies the schema, then is polled
 * every `queryIntervalSeconds` until the data migrations report complete, for at most
 * `totalTimeoutMinutes` (CloudFormation waits an hour at most for a custom resource). Each
 * poll works for up to the function's timeout; after `workMinutes` of polls the resource
 * completes anyway, and what is left continues on the migrate function's next run.
 */
export const migrationPolling = { queryIntervalSeconds: 10, totalTimeoutMinutes: 55, workMinutes: 40 } as const;

/**
 * First key of the per-conversation advisory lock purges take exclusively and the
 * `skip_purged_message` trigger shared (migration 0007_purge_lock, which spells it out:
 * never change it). "Cirr" in ASCII, so Cirrus's locks stay apart from any other
 * advisory lock use of the database (the two-int form has a key space of its own).
 */
export const PURGE_LOCK_CLASS = 1130984050;

/** Identifies the schema version; the custom resource re-runs when it changes. */
export const schemaVersion = migrations.map((m) => m.id).join(',');
