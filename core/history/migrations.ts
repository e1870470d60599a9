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
];

/** Identifies the schema version; the custom resource re-runs when it changes. */
export const schemaVersion = migrations.map((m) => m.id).join(',');
