-- Reason: several Slack workspaces (OAuth). Slack's installation store and OAuth state
-- store live in Frontline's own database, so every replica behind a load balancer sees
-- the same installations and the same pending install states (requests are stateless).
-- The *_token columns hold secrets: protect the database like the environment.
-- enterprise_id / team_id use '' for "none" so the keys stay plain NOT NULL columns.
-- Times are UTC seconds since the epoch (REAL), as in 0001; token expiries are whole
-- seconds (BIGINT) as Slack gives them.

-- One row per installing user of a workspace (or org); a reinstall replaces the row.
CREATE TABLE slack_installations (
    enterprise_id                      TEXT NOT NULL DEFAULT '',
    team_id                            TEXT NOT NULL DEFAULT '',
    user_id                            TEXT NOT NULL,
    app_id                             TEXT,
    enterprise_name                    TEXT,
    enterprise_url                     TEXT,
    team_name                          TEXT,
    bot_token                          TEXT,
    bot_id                             TEXT,
    bot_user_id                        TEXT,
    bot_scopes                         TEXT,
    bot_refresh_token                  TEXT,
    bot_token_expires_at               BIGINT,
    user_token                         TEXT,
    user_scopes                        TEXT,
    user_refresh_token                 TEXT,
    user_token_expires_at              BIGINT,
    incoming_webhook_url               TEXT,
    incoming_webhook_channel           TEXT,
    incoming_webhook_channel_id        TEXT,
    incoming_webhook_configuration_url TEXT,
    is_enterprise_install              INTEGER NOT NULL DEFAULT 0,
    token_type                         TEXT,
    installed_at                       REAL NOT NULL,
    PRIMARY KEY (enterprise_id, team_id, user_id)
);

-- The bot of each workspace (or org): what answers a request and sends every post.
CREATE TABLE slack_bots (
    enterprise_id         TEXT NOT NULL DEFAULT '',
    team_id               TEXT NOT NULL DEFAULT '',
    app_id                TEXT,
    enterprise_name       TEXT,
    team_name             TEXT,
    bot_token             TEXT NOT NULL,
    bot_id                TEXT NOT NULL,
    bot_user_id           TEXT NOT NULL,
    bot_scopes            TEXT,
    bot_refresh_token     TEXT,
    bot_token_expires_at  BIGINT,
    is_enterprise_install INTEGER NOT NULL DEFAULT 0,
    installed_at          REAL NOT NULL,
    PRIMARY KEY (enterprise_id, team_id)
);

-- Install links handed out by /slack/install, each consumed once by /slack/oauth_redirect.
CREATE TABLE slack_oauth_states (
    state      TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX slack_oauth_states_expiry ON slack_oauth_states (expires_at);
